// The parts of the local Control Service outside the official API: scripted faults, the journal
// of requests, and the validation of what tests script through /_emulator/.
import type { DeploymentScript, ExecutionScript } from './model.js'
import { FINAL_STATUSES } from './model.js'

export interface FaultSpec {
  /** HTTP method to match; absent or "*" matches any. */
  method?: string
  /** Regular expression tested against the request path (percent-encoded, without the query). */
  path: string
  /** Answer with this status instead of the real answer. */
  status?: number
  /** How many matching requests the fault applies to (default 1; 0: all, until cleared). */
  times?: number
  /** Let this many matching requests through first (default 0). */
  skip?: number
  /** Retry-After header, in seconds. */
  retryAfter?: number
  /** Send Retry-After as an HTTP date (now + retryAfter) instead of seconds. */
  retryAfterAsDate?: boolean
  /** Wait this long before answering (with no status: a slow but real answer). */
  delayMs?: number
  /** Drop the connection without an answer. */
  reset?: boolean
  /** Raw body to send with `status` (default: a what/why body naming the fault). */
  body?: string
  contentType?: string
  /** "before" (default): the request never reaches the service. "after": it is processed, then
   * its answer is replaced by the fault (a lost response). */
  when?: 'before' | 'after'
  /** Only requests whose body comes without a Content-Length (chunked): a proxy that wants the
   * length up front, as some answer 411 Length Required. */
  unlessContentLength?: boolean
}

export interface ActiveFault extends FaultSpec {
  id: number
  hits: number
  seen: number
  pattern: RegExp
}

export interface JournalEntry {
  /** Numbers the requests in the order they arrived (it goes on across clears of the journal). */
  seq: number
  /** When it arrived, by the wall clock (not the service's clock, which a test may freeze). */
  at: string
  method: string
  path: string
  query: Record<string, string | string[]>
  status: number | null
  fault?: string
  op_id: string
}

export class AdminInputError extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

function seconds(v: unknown, name: string, fallback: number): number {
  if (v === undefined) return fallback
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new AdminInputError(`${name} must be a number of seconds, 0 or more`)
  }
  return v
}

export function parseExecutionScript(body: unknown, defaultSeconds: number): ExecutionScript {
  if (!isObject(body)) throw new AdminInputError('the body must be a JSON object')
  const status = body.status ?? 'succeeded'
  if (!FINAL_STATUSES.includes(status as never)) {
    throw new AdminInputError(`status must be one of ${FINAL_STATUSES.join(', ')}`)
  }
  const logs = body.logs
  if (logs !== undefined && (!Array.isArray(logs) || logs.some(l => typeof l !== 'string'))) {
    throw new AdminInputError('logs must be a list of strings')
  }
  const script: ExecutionScript = {
    status: status as ExecutionScript['status'],
    seconds: seconds(body.seconds, 'seconds', defaultSeconds),
    logs: logs as string[] | undefined
  }
  if (body.submitSeconds !== undefined)
    script.submitSeconds = seconds(body.submitSeconds, 'submitSeconds', 0)
  if (body.becomes !== undefined) {
    if (!FINAL_STATUSES.includes(body.becomes as never)) {
      throw new AdminInputError(`becomes must be one of ${FINAL_STATUSES.join(', ')}`)
    }
    script.becomes = body.becomes as ExecutionScript['status']
    if (body.becomesAfterReads !== undefined) {
      const n = body.becomesAfterReads
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1)
        throw new AdminInputError('becomesAfterReads must be a whole number above 0')
      if (body.becomesAfterSeconds !== undefined)
        throw new AdminInputError('give becomesAfterSeconds or becomesAfterReads, not both')
      script.becomesAfterReads = n
    } else {
      script.becomesAfterSeconds = seconds(body.becomesAfterSeconds, 'becomesAfterSeconds', 1)
    }
  }
  return script
}

/** A change to the service's clock: freeze or resume it, then move it on. */
export interface ClockChange {
  freeze?: boolean
  advanceSeconds: number
}

export function parseClockChange(body: unknown): ClockChange {
  if (!isObject(body)) throw new AdminInputError('the body must be a JSON object')
  const unknown = Object.keys(body).filter(k => k !== 'freeze' && k !== 'advance_seconds')
  if (unknown.length)
    throw new AdminInputError(
      `unknown field ${JSON.stringify(unknown[0])}: give freeze (true/false) and/or advance_seconds`
    )
  if (body.freeze !== undefined && typeof body.freeze !== 'boolean')
    throw new AdminInputError('freeze must be true (stop the clock) or false (let it run)')
  return {
    freeze: body.freeze,
    advanceSeconds: seconds(body.advance_seconds, 'advance_seconds', 0)
  }
}

export function parseDeploymentScript(body: unknown, defaultSeconds: number): DeploymentScript {
  if (!isObject(body)) throw new AdminInputError('the body must be a JSON object')
  const status = body.status ?? 'SUCCESS'
  if (!['SUCCESS', 'USER_ERROR', 'PLATFORM_ERROR'].includes(status as string)) {
    throw new AdminInputError('status must be one of SUCCESS, USER_ERROR, PLATFORM_ERROR')
  }
  return {
    status: status as DeploymentScript['status'],
    seconds: seconds(body.seconds, 'seconds', defaultSeconds)
  }
}

export function parseFault(body: unknown, id: number): ActiveFault {
  if (!isObject(body)) throw new AdminInputError('the body must be a JSON object')
  if (typeof body.path !== 'string' || !body.path) {
    throw new AdminInputError(
      'path (a regular expression matched against the request path) is required'
    )
  }
  let pattern: RegExp
  try {
    pattern = new RegExp(body.path)
  } catch (e) {
    throw new AdminInputError(`path is not a valid regular expression: ${(e as Error).message}`)
  }
  const spec = body as unknown as FaultSpec
  if (
    spec.status !== undefined &&
    !(Number.isInteger(spec.status) && spec.status >= 100 && spec.status <= 599)
  ) {
    throw new AdminInputError('status must be an HTTP status code (100-599)')
  }
  if (spec.status === undefined && !spec.reset && spec.delayMs === undefined) {
    throw new AdminInputError('a fault needs at least one of status, reset or delayMs')
  }
  if (spec.when !== undefined && spec.when !== 'before' && spec.when !== 'after') {
    throw new AdminInputError('when must be "before" or "after"')
  }
  for (const k of ['times', 'skip', 'delayMs', 'retryAfter'] as const) {
    const v = spec[k]
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
      throw new AdminInputError(`${k} must be a number, 0 or more`)
    }
  }
  return { ...spec, times: spec.times ?? 1, skip: spec.skip ?? 0, id, hits: 0, seen: 0, pattern }
}

/** The first active fault for this request, counting it; spent faults are dropped. */
export function takeFault(
  faults: ActiveFault[],
  method: string,
  path: string,
  hasContentLength = false
): ActiveFault | undefined {
  for (const f of faults) {
    if (f.method && f.method !== '*' && f.method.toUpperCase() !== method) continue
    if (!f.pattern.test(path)) continue
    if (f.unlessContentLength && hasContentLength) continue
    f.seen++
    if (f.seen <= (f.skip ?? 0)) continue
    f.hits++
    const times = f.times ?? 1
    if (times > 0 && f.hits >= times) faults.splice(faults.indexOf(f), 1)
    return f
  }
  return undefined
}

export function describeFault(f: FaultSpec): string {
  if (f.reset) return 'reset'
  if (f.status) return `status ${f.status}`
  return `delay ${f.delayMs} ms`
}
