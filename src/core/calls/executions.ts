// The calls about a job's executions: starting one (never twice: a lost answer is reconciled by
// the op ids of its attempts), reading, listing and cancelling them, and reading their logs —
// from the service, or from an execution's logs_url where the rule of logsurl.ts lets it.
import {
  executionAnswer,
  executionsAnswer,
  latestExecutionsAnswer,
  logsAnswer
} from '../answers.js'
import { ControlServiceError, InputError } from '../errors.js'
import { MAX_LOG_BYTES, type Response, type Transport } from '../http.js'
import { routeLogsUrl, type LogsUrlRule } from '../logsurl.js'
import { LATEST_EXECUTIONS_QUERY } from '../queries.js'
import {
  EXECUTION_ID_RULE,
  type DataJobExecution,
  type DataJobExecutionRequest,
  type ExecutionStatus,
  type GqlExecution
} from '../types.js'
import { DEPLOYMENT, segment, sendForAnswer, type JobAddress } from './common.js'
import { queryJobs } from './jobs.js'

/** What is wrong with an execution id (from an input, a Location header or a list), if anything. */
export function executionIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string') return `${String(JSON.stringify(id)).slice(0, 80)} is not text`
  if (EXECUTION_ID_RULE.test(id)) return undefined
  return `${JSON.stringify(id).slice(0, 80)} is not valid (an execution id is letters, digits, '.', '_' and '-', a letter or digit first)`
}

/** The path of one execution: an id that may not go into a path is refused before the request. */
function executionPath(job: JobAddress, id: string): string {
  if (typeof id === 'string' && !id.trim()) throw new InputError('the execution id is empty')
  const bad = executionIdProblem(id)
  if (bad) throw new InputError(`the execution id ${bad}`)
  return `${job.path}/executions/${segment(id)}`
}

/**
 * The logs endpoint's text as lines. CRLF and a lone CR end a line too, as the service's own
 * reading of a pod's log splits them (BufferedReader.lines() in KubernetesService.getJobLogs
 * upstream). Its text never ends with a newline (the lines are joined), so a final one is an
 * empty last line of the job's, kept.
 */
export const logLines = (text: string): string[] => (text ? text.split(/\r\n|\r|\n/) : [])

/** A log store's text as lines (logLines), without the empty one after a final newline. */
export const splitLines = (text: string): string[] => logLines(text.replace(/(\r\n|\r|\n)$/, ''))

/** The id of the execution a start made, from the Location header of its answer. */
function startedId(res: Response, operation: string): string {
  const protocolError = (detail: string): ControlServiceError =>
    new ControlServiceError({ operation, kind: 'protocol', detail, opId: res.opId })
  const id = res.headers.location?.split('/').filter(Boolean).pop()
  if (!id) throw protocolError(`HTTP ${res.status} without a Location header naming the execution`)
  let decoded: string | undefined
  try {
    decoded = decodeURIComponent(id)
  } catch {
    // a malformed escape (%E0%A4%A): not an id either
  }
  const bad =
    decoded === undefined ? 'that is not percent-encoded text' : executionIdProblem(decoded)
  if (bad)
    throw protocolError(
      `the Location header names ${decoded === undefined ? 'an execution id' : 'the execution id'} ${bad}`
    )
  return decoded as string
}

/**
 * Starts an execution; its id (from the Location header). After a lost answer it looks for an
 * execution started by one of its own attempts (the service records the request's X-OPID as the
 * execution's op_id) before it sends again, so an execution is never started twice. `onSend` is
 * told each attempt's op id.
 */
export async function startExecution(
  job: JobAddress,
  request: DataJobExecutionRequest,
  onSend?: (opId: string) => void
): Promise<string> {
  const operation = `start an execution of ${job.label}`
  return job.transport.send(
    {
      onSend,
      operation,
      method: 'POST',
      path: `${job.path}/deployments/${DEPLOYMENT}/executions`,
      json: { started_by: request.started_by, args: request.args ?? {} },
      idempotent: false,
      hint: status =>
        status === 409
          ? 'an execution of this job is already running: wait for it, or cancel it (on-conflict)'
          : status === 404
            ? 'the job is not deployed (or does not exist in this team): deploy it first'
            : undefined
    },
    res => startedId(res, operation),
    async opIds => {
      const mine = (await listExecutions(job)).find(
        execution => execution.op_id !== undefined && opIds.includes(execution.op_id)
      )
      const bad = mine && executionIdProblem(mine.id)
      if (bad)
        throw new ControlServiceError({
          operation,
          kind: 'protocol',
          detail: `the execution this start made is listed with the id ${bad}`
        })
      return mine?.id
    }
  )
}

export async function readExecution(job: JobAddress, id: string): Promise<DataJobExecution> {
  return sendForAnswer(
    job.transport,
    {
      operation: `read execution '${id}' of ${job.label}`,
      method: 'GET',
      path: executionPath(job, id),
      idempotent: true
    },
    executionAnswer
  )
}

export async function listExecutions(
  job: JobAddress,
  statuses?: ExecutionStatus[]
): Promise<DataJobExecution[]> {
  return sendForAnswer(
    job.transport,
    {
      operation: `list the executions of ${job.label}`,
      method: 'GET',
      path: `${job.path}/executions`,
      query: { execution_status: statuses },
      idempotent: true
    },
    executionsAnswer
  )
}

/** The job's latest executions, newest first. */
export async function latestExecutions(job: JobAddress, size: number): Promise<GqlExecution[]> {
  const page = await queryJobs(
    { transport: job.transport, team: job.team, path: job.teamPath },
    {
      text: LATEST_EXECUTIONS_QUERY,
      variables: { job: job.job, team: job.team, size },
      what: `list the latest executions of ${job.label}`
    },
    latestExecutionsAnswer
  )
  return page.content
}

/**
 * Cancels an execution. Its status afterwards: `cancelled`, or the status it had already ended
 * with (the service answers 400 for an execution that is not running).
 */
export async function cancelExecution(job: JobAddress, id: string): Promise<ExecutionStatus> {
  const status = await job.transport.send(
    {
      operation: `cancel execution '${id}' of ${job.label}`,
      method: 'DELETE',
      path: executionPath(job, id),
      idempotent: true,
      accept: [400]
    },
    res => res.status
  )
  if (status !== 400) return 'cancelled'
  return (await readExecution(job, id)).status
}

export interface LogsOptions {
  tailLines?: number
  /** Retries instead of the client's, e.g. 0 while following a run, which reads them again anyway. */
  retries?: number
}

/** The execution's logs as the service has them now ("" once its pod is gone). */
export async function readLogs(
  job: JobAddress,
  id: string,
  options: LogsOptions = {}
): Promise<string> {
  const answer = await sendForAnswer(
    job.transport,
    {
      operation: `read the logs of execution '${id}' of ${job.label}`,
      method: 'GET',
      path: `${executionPath(job, id)}/logs`,
      query: { tail_lines: options.tailLines },
      idempotent: true,
      retries: options.retries,
      maxBytes: MAX_LOG_BYTES
    },
    logsAnswer
  )
  return answer.logs ?? ''
}

/** Why a log store could not be read, in a few words: its error names the service's address. */
function unreadWhy(error: ControlServiceError): string {
  if (error.kind === 'http') return `it answered HTTP ${error.status}`
  if (error.kind === 'timeout') return 'it did not answer in time'
  if (error.kind === 'aborted') return 'cancelled'
  return 'it could not be reached'
}

/** The text at a logs_url, or why it was not read. */
export type LogsUrlText = { text: string } | { why: string }

/**
 * The text behind an execution's logs_url, when `rule` lets it be followed and it serves plain
 * text (a log store's web page is not logs); otherwise why not, in a few words. The token is sent
 * only when the URL is on the service's own origin.
 */
export async function readLogsUrl(
  transport: Transport,
  url: string,
  rule: LogsUrlRule
): Promise<LogsUrlText> {
  const route = await routeLogsUrl(url, rule)
  if ('why' in route) return { why: `not followed: ${route.why}` }
  const { url: parsed, dispatcher } = route
  try {
    return await transport.send(
      {
        operation: `read the logs at ${parsed.origin}${parsed.pathname}`,
        method: 'GET',
        path: parsed.toString(),
        absolute: true,
        dispatcher,
        idempotent: true,
        // a log store elsewhere is a courtesy: one more try, not the service's patience
        retries: dispatcher ? 1 : undefined,
        accept: [401, 403, 404],
        maxBytes: MAX_LOG_BYTES
      },
      (res): LogsUrlText =>
        res.status !== 200
          ? { why: `it answered HTTP ${res.status}` }
          : /^text\/plain\b/i.test(res.headers['content-type'] ?? '')
            ? { text: res.text }
            : {
                why: `it serves ${(res.headers['content-type'] || 'no content type').slice(0, 80)}, not plain text`
              }
    )
  } catch (error) {
    if (!(error instanceof ControlServiceError)) throw error
    return { why: unreadWhy(error) }
  } finally {
    await dispatcher?.close()
  }
}
