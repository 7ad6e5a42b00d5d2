// The kubelet's time in front of each line of the logs endpoint (the local Control Service serves
// them by default, as the real one asks for them: src/emulator/podlog.ts): tests about something
// else than the times compare log lines without them, whether the client keeps them or not.

/** `2026-12-04T16:00:00.123456789Z ` at the start of a line: Go's RFC3339NanoFixed and a space. */
export const KUBELET_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /

/** A line without the kubelet time in front (as it is when it has none). */
export const withoutKubeletTime = (line: string): string => line.replace(KUBELET_TIME, '')

/** A text with the kubelet time taken off the start of each of its lines. */
export const withoutKubeletTimes = (text: string): string =>
  text.replace(new RegExp(KUBELET_TIME.source, 'gm'), '')
