// GET …/executions/{id}/logs as the real service answers it: `tail_lines` read as Spring reads a
// Java Integer, 503 while the job's container has not started, "" once its Kubernetes Job is
// gone (cancel, or the Job's TTL after the end), and otherwise what the pod's log shows
// (podlog.ts). Sources: /work/notes/issue19-facts.md §1, upstream VDK at 4389e38 (PCS/ =
// projects/control-service/projects/pipelines_control_service/src/main/java/com/vmware/taurus/,
// BASE/ = projects/control-service/projects/base/src/main/java/com/vmware/taurus/).
import type { Handler } from '../context.js'
import { executionEnd, type ExecutionRecord } from '../model.js'
import { podLogText } from '../podlog.js'
import { json, problem, type Reply } from '../reply.js'
import { executionOr404 } from './lookup.js'

/** Java's Character.isWhitespace (Spring's StringUtils.trimAllWhitespace removes these). */
const JAVA_WHITESPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x1680, 0x2000, 0x2001, 0x2002,
  0x2003, 0x2004, 0x2005, 0x2006, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x205f, 0x3000
])
const trimAllWhitespace = (s: string): string =>
  [...s].filter(c => !JAVA_WHITESPACE.has(c.codePointAt(0) ?? 0)).join('')
const INT_MIN = -(2n ** 31n)
const INT_MAX = 2n ** 31n - 1n

/**
 * `tail_lines` as the generated controller receives it, a Java Integer (API:843-850, default 0;
 * DataJobsExecutionController.java:95-99): absent or empty (`tail_lines=`) takes the default 0.
 * Spring converts with NumberUtils.parseNumber (from memory of Spring 5.3, which Spring Boot
 * 2.7.18 of settings.gradle:3 brings; Spring is not in the mirror): every whitespace character is
 * removed, "0x", "0X" or "#" after an optional "-" is hex (Integer.decode), anything else is
 * Integer.valueOf: an optional "+" or "-", decimal digits, leading zeros fine, within int32.
 * Java also takes non-ASCII decimal digits (Character.digit); those are not modelled.
 * Returns the number, or the text Spring could not convert.
 */
export function javaInteger(raw: string | null): number | { bad: string } {
  if (raw === null || raw === '') return 0
  const text = trimAllWhitespace(raw)
  const hex = /^(-?)(?:0x|#)([0-9a-f]+)$/i.exec(text)
  const dec = /^([+-]?)([0-9]+)$/.exec(text)
  const m = hex ?? dec
  if (!m) return { bad: text }
  const n = BigInt(hex ? `0x${m[2]}` : m[2]) * (m[1] === '-' ? -1n : 1n)
  return n < INT_MIN || n > INT_MAX ? { bad: text } : Number(n)
}

/**
 * A `tail_lines` Spring cannot convert fails before the controller runs; the only handler that
 * takes it is ExceptionControllerAdvice's catch-all (BASE/exception/ExceptionControllerAdvice.java
 * :33-45), which answers it as a Bug: 500 (BASE/exception/Bug.java:12-31). Inferred from the code
 * (Spring conversion -> ExceptionControllerAdvice -> Bug), not observed. `why` is the conversion
 * exception's message; its exact wording (Spring's, Java's) is not checked.
 */
const badTailLines = (text: string): Reply =>
  problem(
    500,
    'A coding error (bug) was found.',
    "Failed to convert value of type 'java.lang.String' to required type 'java.lang.Integer'; " +
      `nested exception is java.lang.NumberFormatException: For input string: "${text}"`,
    'Inspect stack trace and either fix the problem or open a GitHub issue for it.',
    'This call with the current OpId will most likely fail.'
  )

/**
 * While the pod's container is not started (Pending, ContainerCreating) the kubelet answers 400,
 * readNamespacedPodLog throws ApiException(code, message) with no body or headers
 * (KubernetesService.java:719-723), getJobExecutionLogs wraps it in a KubernetesException
 * (JobExecutionService.java:443-448; PCS/exception/KubernetesException.java:13-30), an
 * ExternalSystemError, 503 (PCS/exception/ExternalSystemError.java:85-101), body in the order of
 * BASE/exception/ErrorMessage.java:10. The local service answers it for the whole `submitted`
 * time (upstream the first moments, before the pod exists, are a 200 "": facts §1).
 */
const containerNotStarted = (e: ExecutionRecord): Reply =>
  problem(
    503,
    `KUBERNETES encountered an error: Failed to get logs for job execution ${e.id} ` +
      `(job: ${e.job_name}, team: ${e.team})\nKubernetes API Exception Details: \n` +
      'response body: null\nresponse headers: null.',
    'The external system may be experiencing intermittent issues or there might be permanent' +
      ' misconfiguration or outage.',
    'Try the operation again in a few minutes and open a ticket to the SRE team if the problem' +
      ' persists.',
    'The current API operation failed.'
  )

export const executionLogs: Handler = (service, call) => {
  // Spring converts the parameter before anything else runs, even for an unknown execution
  const tail = javaInteger(call.url.searchParams.get('tail_lines'))
  if (typeof tail !== 'number') return badTailLines(tail.bad)
  const e = executionOr404(service, call)
  const now = service.clock.now()
  const settings = service.settings
  // cancel deletes the Job (DataJobsKubernetesService.java:208-210); after the end the Job stays
  // ttlSecondsAfterFinished, 3600 s by default (KubernetesService.java:412,
  // application.properties:149); without a Job the answer is "" (KubernetesService.java:1284-1292,
  // :703; JobExecutionService.java:441)
  if (e.cancelled_at !== undefined) return json(200, { logs: '' })
  const end = executionEnd(e, now)
  if (end !== undefined && now >= end + settings.logsRetentionSeconds * 1000)
    return json(200, { logs: '' })
  if (now < e.running_at) return containerNotStarted(e)
  // 0, negative or absent: the whole log (JobExecutionService.java:434-436)
  const logs = podLogText(e, now, tail, {
    rotateBytes: settings.logRotateBytes,
    timestamps: settings.logTimestamps && e.timestamps !== false
  })
  return json(200, { logs })
}
