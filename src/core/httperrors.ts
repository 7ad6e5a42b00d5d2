// How a failed attempt of the transport (http.ts) reads: an HTTP error with the service's own
// words, a proxy that refused the tunnel, a timeout, a cancellation, or a network fault — each a
// ControlServiceError naming the operation, where it went, and what to check.
import { ControlServiceError, parseErrorBody } from './errors.js'
import { errorCode } from './retry.js'

/** The end of an attempt's time limit (the reason its AbortController is aborted with). */
export class TimeoutError extends Error {
  constructor(readonly ms: number) {
    super(`timed out after ${ms} ms`)
  }
}

/** What a request was, as far as its failure's message needs it. */
export interface FailedRequest {
  operation: string
  hint?: (status: number) => string | undefined
  hideBody?: boolean
}

/** Where the transport sends, for the messages of network failures. */
export interface Destination {
  base: URL
  /** Whether the requests go through a proxy. */
  proxied: boolean
  /** The transport's cancellation. */
  signal?: AbortSignal
}

/** An answer with a status that is a failure. */
export function httpError(
  spec: FailedRequest,
  res: { status: number; headers: Record<string, string>; text: string; opId: string },
  attempts: number
): ControlServiceError {
  return new ControlServiceError({
    operation: spec.operation,
    kind: 'http',
    status: res.status,
    body: spec.hideBody ? undefined : parseErrorBody(res.text),
    text: spec.hideBody || res.headers['content-type']?.includes('json') ? undefined : res.text,
    opId: res.headers['x-opid'] ?? res.opId,
    hint: spec.hint?.(res.status),
    attempts
  })
}

/** The proxy answered its CONNECT with `status`: the service was never reached. */
export function proxyError(
  to: Destination,
  spec: FailedRequest,
  status: number,
  attempts: number,
  opId: string
): ControlServiceError {
  const variable = to.base.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY'
  return new ControlServiceError({
    operation: spec.operation,
    kind: 'network',
    status,
    detail: `the proxy refused to connect to ${to.base.origin} (HTTP ${status})`,
    hint:
      status === 407
        ? `the proxy wants credentials: put them in ${variable} (http://user:password@proxy:port), or exempt the service with NO_PROXY`
        : `check the proxy in ${variable}, or exempt the service with NO_PROXY`,
    attempts,
    opId
  })
}

/** An attempt that got no answer: timed out, cancelled, or a network fault. */
export function networkError(
  to: Destination,
  spec: FailedRequest,
  e: unknown,
  attempts: number,
  opId: string
): ControlServiceError {
  const where = `${to.base.origin}${to.base.pathname === '/' ? '' : to.base.pathname}`
  if (e instanceof TimeoutError) {
    return new ControlServiceError({
      operation: spec.operation,
      kind: 'timeout',
      detail: `no complete answer from ${where} within ${e.ms / 1000} s`,
      hint: 'the service is slow or unreachable; raise request-timeout-seconds if it is only slow',
      attempts,
      opId
    })
  }
  if (to.signal?.aborted) {
    return new ControlServiceError({
      operation: spec.operation,
      kind: 'aborted',
      detail: 'cancelled before it completed',
      attempts,
      opId
    })
  }
  const code = errorCode(e)
  const message = (e as Error).message ?? String(e)
  const proxy = to.proxied
    ? ' (through the proxy of HTTP_PROXY/HTTPS_PROXY, unless NO_PROXY matches)'
    : ''
  return new ControlServiceError({
    operation: spec.operation,
    kind: 'network',
    detail: `could not talk to ${where}${proxy}: ${code ? `${code}, ` : ''}${message}`,
    hint: 'check control-service-url, the network and proxy settings (HTTPS_PROXY, NO_PROXY)',
    attempts,
    opId,
    cause: e
  })
}
