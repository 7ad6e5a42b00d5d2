// Text from outside the action (the Control Service, the repository, the inputs) is data. These
// are the only ways it reaches a log line or the job summary: a log line cannot act as a workflow
// command, and a summary cell cannot be markup.

/**
 * Control characters but the tab: they end a line, move the cursor or restyle the log; and the
 * bidirectional controls, which make a line read otherwise than it is (as in "Trojan Source").
 */
const CONTROL =
  // eslint-disable-next-line no-control-regex -- finding them is the point
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g
/** What a reader may take for the end of a line: CR, LF and Unicode's line and paragraph separators. */
const NEWLINE = /\r\n|\r|\n|\u2028|\u2029/g

/**
 * One log line that acts as nothing but text: line breaks inside it are shown as `\n`, other
 * control characters as `\uFFFD`, and a `::` at its start (what the runner reads as a workflow
 * command, after leading spaces) is preceded by a zero-width space, which the runner does not
 * trim; so is the `[` of a `##[` anywhere in it.
 */
export function inert(line: string): string {
  const one = line
    .replace(NEWLINE, '\\n')
    .replace(CONTROL, '\uFFFD')
    // the runner's older command form, `##[command]data`, counts anywhere in a line
    // (actions/runner ActionCommand.TryParse): a zero-width space keeps it apart
    .replace(/##\[/g, '##\u200b[')
  return /^\s*::/.test(one) ? `\u200b${one}` : one
}

/** Whether a name holds a character that is not text (a line break, an escape, a bidi control, …). */
export const hasControl = (s: string): boolean =>
  // eslint-disable-next-line no-control-regex -- finding them is the point
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(s)

/** Text for HTML: every character that markup or an attribute could start or end with. */
export const escapeHtml = (s: string): string =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')

/** An http(s) URL from outside, parsed; undefined for anything else (javascript:, data:, …). */
export function httpUrl(raw: string): URL | undefined {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return undefined
  }
  return url.protocol === 'https:' || url.protocol === 'http:' ? url : undefined
}

/**
 * A URL (or what should have been one) fit to quote in a message: whatever stands before an `@`
 * (user and password) is shown as `***`. URLs come from vars.* and proxy variables, which the
 * runner does not mask.
 */
export const hideCredentials = (raw: string): string =>
  raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^]*@/i, (_m, scheme?: string) => `${scheme ?? ''}***@`)

/**
 * A URL from outside as it may be shown: user info (a password in an operator's template, say)
 * as ***, the rest as it was; one that does not parse is cut as hideCredentials() cuts.
 */
export function shownUrl(raw: string): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return raw.includes('@') ? hideCredentials(raw) : raw
  }
  // 'user:password@host' parses too, as the scheme 'user:' — not a URL to trust for its parts
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return raw.includes('@') ? hideCredentials(raw) : raw
  if (!url.username && !url.password) return raw
  url.username = '***'
  url.password = ''
  return url.href
}

/**
 * A link's target for an href: an http(s) URL, percent-encoded as the URL parser writes it and
 * escaped for the attribute; undefined for anything else (javascript:, data:, a relative path).
 */
export function safeHref(href: string): string | undefined {
  const url = httpUrl(href)
  return url && escapeHtml(url.href)
}
