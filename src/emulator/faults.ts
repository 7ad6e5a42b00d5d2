// Fault injection: what a test scripts through /_emulator/faults (a status, a dropped connection,
// a delay, before the service runs or in place of its answer after it ran) and how a request that
// matches one is answered. The request pipeline (server.ts) decides when; this file decides what.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { isObject, swallow } from './body.js'
import { problem, raw, send, type Reply } from './reply.js'
import { AdminInputError } from './scripts.js'

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

function parseFault(body: unknown, id: number): ActiveFault {
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
function takeFault(
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

/** The faults scripted and not spent yet, in the order they were added. */
export class FaultList {
  private active: ActiveFault[] = []
  /** Numbers faults across clears: an id is never given twice. */
  private seq = 0

  /** Adds the fault a test sent; its id. */
  add(body: unknown): number {
    const fault = parseFault(body, ++this.seq)
    this.active.push(fault)
    return fault.id
  }

  clear(): void {
    this.active = []
  }

  /** The first fault for this request, counting it; spent faults are dropped. */
  take(method: string, path: string, hasContentLength: boolean): ActiveFault | undefined {
    return takeFault(this.active, method, path, hasContentLength)
  }

  /** The faults as GET /_emulator/faults shows them. */
  view(): Omit<ActiveFault, 'pattern'>[] {
    return this.active.map(({ pattern: _p, ...f }) => f)
  }
}

/** Answers with the fault instead of the service: drops the connection, or sends its status. */
export function applyFault(
  req: IncomingMessage,
  res: ServerResponse,
  f: ActiveFault,
  now: number
): void {
  swallow(req)
  if (f.reset) {
    res.socket?.destroy()
    return
  }
  const headers: Record<string, string> = {}
  if (f.retryAfter !== undefined) {
    headers['Retry-After'] = f.retryAfterAsDate
      ? new Date(now + f.retryAfter * 1000).toUTCString()
      : String(Math.round(f.retryAfter))
  }
  const reply: Reply =
    f.body !== undefined
      ? raw(f.status ?? 500, f.body, f.contentType ?? 'application/json')
      : problem(
          f.status ?? 500,
          `Injected fault: HTTP ${f.status}.`,
          `Scripted through /_emulator/faults (fault ${f.id}).`,
          'Retry if the operation is safe to retry.'
        )
  send(res, { ...reply, headers: { ...reply.headers, ...headers } })
}
