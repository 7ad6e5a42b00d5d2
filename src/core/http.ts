// The one HTTP seam to the Control Service (and to the token endpoint): undici's request API over
// an EnvHttpProxyAgent (HTTP_PROXY / HTTPS_PROXY / NO_PROXY honoured, loopback never proxied:
// routes.ts; NODE_EXTRA_CA_CERTS works because TLS uses Node's default CA store), a timeout on
// every attempt (connect, and the whole answer), a size cap on every answer read (bodies.ts),
// retries only where safe, a fresh X-OPID per attempt, and one error type (httperrors.ts).
import { randomBytes } from 'node:crypto'
import type { Readable } from 'node:stream'
import { request, type Dispatcher } from 'undici'
import {
  flatHeaders,
  MAX_ANSWER_BYTES,
  MAX_ERROR_PAGE_BYTES,
  MiB,
  readCapped,
  requestBody,
  type BodySource
} from './bodies.js'
import { ControlServiceError, type InputError } from './errors.js'
import {
  httpError,
  networkError,
  proxyError,
  TimeoutError,
  type Destination
} from './httperrors.js'
import { realSleep } from './poll.js'
import {
  isTransientStatus,
  neverSent,
  nextDelay,
  parseRetryAfter,
  proxyRefusal,
  type BackoffOptions
} from './retry.js'
import { chooseRoutes, isLoopbackHost, type Routes } from './routes.js'

export { MAX_ANSWER_BYTES, MAX_ERROR_PAGE_BYTES, MAX_LOG_BYTES, readCapped } from './bodies.js'
export { isLoopbackHost, isProxyUrl, proxyVariable } from './routes.js'

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** How requests are authorized; see auth.ts. */
export interface Auth {
  /** The Authorization header value, or undefined to send none. */
  header(signal?: AbortSignal): Promise<string | undefined>
  /** After a 401: obtain a new token if this kind of auth can; true when there is one to retry with. */
  refresh(signal?: AbortSignal): Promise<boolean>
  /** Releases what it holds (the token endpoint's connections). */
  close?(): Promise<void>
}

export interface TransportOptions {
  /** Origin (and optional base path) of the service, already validated. */
  baseUrl: string
  userAgent: string
  auth?: Auth
  /** Whole-answer limit of one attempt (default 60 s). */
  timeoutMs?: number
  /** TCP/TLS connect limit (default 10 s). */
  connectTimeoutMs?: number
  /** Retries after the first attempt (default 4). */
  retries?: number
  backoff?: BackoffOptions & { maxRetryAfterMs?: number }
  /** Proxy settings are read from here (default process.env). */
  env?: NodeJS.ProcessEnv
  dispatcher?: Dispatcher
  /** Cancels every request and wait (e.g. the workflow was cancelled). */
  signal?: AbortSignal
  clock?: () => number
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  /** Prefix of the X-OPID header of each attempt (e.g. from GITHUB_RUN_ID). */
  opIdPrefix?: string
  /** Debug lines (retries, reconciliations); never holds a token. */
  log?: (line: string) => void
  /** Each exchange, for tests and debugging. */
  trace?: (exchange: Exchange) => void
}

export interface Exchange {
  operation: string
  method: Method
  path: string
  requestHeaders: Record<string, string>
  requestJson?: unknown
  status: number
  responseHeaders: Record<string, string>
  responseText?: string
}

export interface RequestSpec extends BodySource {
  /** What this does, for messages: "read data job 'x' of team 't'". */
  operation: string
  method: Method
  /** Path below the base URL, segments already percent-encoded; or a whole URL (`absolute`). */
  path: string
  /** `path` is a whole URL (e.g. an execution's logs_url); auth is sent only to the service's origin. */
  absolute?: boolean
  /** Another dispatcher for this request (a logs_url elsewhere: it connects only where checked). */
  dispatcher?: Dispatcher
  query?: Record<string, string | number | boolean | string[] | undefined>
  /** Safe to send again after a failure that may have reached the server. */
  idempotent: boolean
  /** Statuses that are answers, not failures (e.g. 404 for "does it exist?"). */
  accept?: number[]
  timeoutMs?: number
  /** Retries after a failure, instead of the transport's (e.g. 0 for what is read again anyway). */
  retries?: number
  /** Told each attempt's op id (X-OPID) before it is sent: what a caller may look for later. */
  onSend?: (opId: string) => void
  /** Return the body as a stream (the attempt's time limit then ends with the headers). */
  stream?: boolean
  /** A hint added to the error message of a failed answer. */
  hint?: (status: number) => string | undefined
  /** Never show the answer's body in an error (a token endpoint may echo the form it was sent). */
  hideBody?: boolean
  /** The largest answer accepted, in bytes (default MAX_ANSWER_BYTES); larger fails the call. */
  maxBytes?: number
}

export interface Response {
  status: number
  headers: Record<string, string>
  text: string
  stream?: Readable
  opId: string
}

/**
 * After a failure that may or may not have taken effect (a lost answer to a POST): look whether it
 * did. A value ends the call with it; undefined means it did not, so sending again is safe.
 */
export type Reconcile<T> = (opIds: string[]) => Promise<T | undefined>

export class Transport {
  private readonly options: Required<
    Pick<TransportOptions, 'timeoutMs' | 'connectTimeoutMs' | 'retries'>
  > &
    TransportOptions
  private readonly routes: Routes
  private readonly base: URL
  /** Where requests go, for the messages of their failures. */
  private readonly destination: Destination
  private seq = 0
  /** Attempts sent, bytes of answers read (readCapped), when one was last sent again (a retry). */
  readonly stats = { requests: 0, bytes: 0, resentAt: -Infinity }
  /** The time (on the clock) before which the service asked not to be called (Retry-After). */
  retryAfterUntil = 0

  constructor(options: TransportOptions) {
    this.options = { timeoutMs: 60_000, connectTimeoutMs: 10_000, retries: 4, ...options }
    this.base = new URL(options.baseUrl)
    this.routes = chooseRoutes(
      this.base,
      options.env ?? process.env,
      this.options.connectTimeoutMs,
      options.dispatcher
    )
    this.destination = { base: this.base, proxied: this.routes.proxied, signal: options.signal }
  }

  get signal(): AbortSignal | undefined {
    return this.options.signal
  }

  private url(spec: RequestSpec): URL {
    const basePath = this.base.pathname.replace(/\/+$/, '')
    const url = spec.absolute ? new URL(spec.path) : new URL(`${basePath}${spec.path}`, this.base)
    for (const [name, value] of Object.entries(spec.query ?? {})) {
      if (value === undefined) continue
      for (const one of Array.isArray(value) ? value : [value])
        url.searchParams.append(name, String(one))
    }
    return url
  }

  private newOpId(): string {
    this.seq++
    return `${this.options.opIdPrefix ?? 'vdk-actions'}-${randomBytes(3).toString('hex')}-${this.seq}`
  }

  /** The proxy variable's problem, when this request would go through that proxy. */
  private proxyProblem(spec: RequestSpec): InputError | undefined {
    const { badProxy } = this.routes
    if (!badProxy || spec.dispatcher || isLoopbackHost(this.url(spec).hostname)) return undefined
    return badProxy
  }

  /**
   * Sends `spec`, retrying where safe, and turns the answer into a T with `parse`; for a request
   * that is not idempotent, `reconcile` decides after a failure that may have taken effect.
   */
  async send<T>(
    spec: RequestSpec,
    parse: (res: Response) => T,
    reconcile?: Reconcile<T>
  ): Promise<T> {
    const refused = this.proxyProblem(spec)
    if (refused) throw refused
    const { log, signal } = this.options
    const sleep = this.options.sleep ?? realSleep
    const clock = this.options.clock ?? Date.now
    const opIds: string[] = []
    let refreshed = false
    for (let attempt = 1; ; attempt++) {
      const opId = this.newOpId()
      if (opIds.push(opId) > 1) this.stats.resentAt = clock()
      spec.onSend?.(opId)
      let failure: ControlServiceError
      let retryAfterMs: number | undefined
      let mayHaveTakenEffect: boolean
      try {
        const res = await this.once(spec, opId)
        if (res.status === 401 && this.options.auth && !refreshed) {
          refreshed = true
          if (await this.options.auth.refresh(signal)) {
            log?.(`${spec.operation}: HTTP 401, retrying once with a new access token`)
            attempt--
            continue
          }
        }
        if (isAnswer(spec, res.status)) return parse(res)
        failure = httpError(spec, res, attempt)
        if (!isTransientStatus(res.status)) throw failure
        retryAfterMs = parseRetryAfter(res.headers['retry-after'], clock())
        // also for the next calls (the next poll): a fleet backs off when the service asks
        if (retryAfterMs !== undefined)
          this.retryAfterUntil = Math.max(
            this.retryAfterUntil,
            clock() + nextDelay(attempt, retryAfterMs, this.options.backoff)
          )
        // a 429 is an explicit refusal; any other 5xx may hide a request that was processed
        mayHaveTakenEffect = res.status !== 429
      } catch (e) {
        if (e instanceof ControlServiceError) throw e
        const refusal = proxyRefusal(e)
        if (refusal !== undefined) throw proxyError(this.destination, spec, refusal, attempt, opId)
        failure = networkError(this.destination, spec, e, attempt, opId)
        if (failure.kind === 'aborted') throw failure
        mayHaveTakenEffect = !neverSent(e)
      }
      if (mayHaveTakenEffect && !spec.idempotent) {
        if (!reconcile) throw failure
        const found = await reconcile(opIds)
        if (found !== undefined) {
          log?.(`${spec.operation}: the answer was lost, but the request had taken effect`)
          return found
        }
        log?.(`${spec.operation}: the request did not take effect; sending it again`)
      }
      const retries = spec.retries ?? this.options.retries
      if (attempt > retries) throw failure
      const delay = nextDelay(attempt, retryAfterMs, this.options.backoff)
      log?.(
        `${spec.operation}: ${failure.kind === 'http' ? `HTTP ${failure.status}` : failure.kind}; retry ${attempt} of ${retries} in ${delay} ms`
      )
      await sleep(delay, signal)
      if (signal?.aborted) throw networkError(this.destination, spec, signal.reason, attempt, opId)
    }
  }

  /** The headers every attempt sends; the token only to the service's own origin. */
  private async headers(url: URL, opId: string): Promise<Record<string, string>> {
    const headers: Record<string, string> = {
      'user-agent': this.options.userAgent,
      'x-opid': opId,
      accept: 'application/json'
    }
    // never to a logs_url elsewhere
    const authorization =
      url.origin === this.base.origin
        ? await this.options.auth?.header(this.options.signal)
        : undefined
    if (authorization) headers.authorization = authorization
    return headers
  }

  /** One attempt: the request sent and its answer read, within the attempt's time limit. */
  private async once(spec: RequestSpec, opId: string): Promise<Response> {
    this.stats.requests++
    const url = this.url(spec)
    const headers = await this.headers(url, opId)
    const outgoing = requestBody(spec, opId)
    Object.assign(headers, outgoing.headers)
    const { body } = outgoing
    // a body that fails to be made (a file gone while zipping) is our failure, not the network's
    let bodyError: Error | undefined
    if (body && typeof body === 'object' && 'once' in body) body.once('error', e => (bodyError = e))
    const limit = spec.timeoutMs ?? this.options.timeoutMs
    const timer = new AbortController()
    const timeout = setTimeout(() => timer.abort(new TimeoutError(limit)), limit)
    const { signal } = this.options
    try {
      const res = await request(url, {
        method: spec.method,
        headers,
        body,
        signal: signal ? AbortSignal.any([signal, timer.signal]) : timer.signal,
        dispatcher:
          spec.dispatcher ??
          (isLoopbackHost(url.hostname) ? this.routes.direct : this.routes.usual),
        headersTimeout: limit,
        bodyTimeout: limit
      })
      const sent = { spec, url, headers, opId }
      if (spec.stream && res.statusCode >= 200 && res.statusCode < 300) {
        // a stream is read by the caller: the attempt's time limit ends with the headers
        clearTimeout(timeout)
        return this.streamed(sent, res)
      }
      return await this.readAnswer(sent, res)
    } catch (e) {
      if (body && typeof body === 'object' && 'destroy' in body) body.destroy()
      if (bodyError)
        throw new ControlServiceError({
          operation: spec.operation,
          kind: 'protocol',
          detail: bodyError.message,
          opId
        })
      throw timer.signal.aborted && !signal?.aborted ? timer.signal.reason : e
    } finally {
      clearTimeout(timeout)
    }
  }

  /** An answer whose body is handed on as a stream. */
  private streamed(sent: SentRequest, res: Dispatcher.ResponseData): Response {
    const headers = flatHeaders(res.headers)
    this.trace(sent, res.statusCode, headers)
    return {
      status: res.statusCode,
      headers,
      text: '',
      stream: res.body,
      opId: headers['x-opid'] ?? sent.opId
    }
  }

  /** An answer read whole up to its cap; an error page only as far as a message shows it. */
  private async readAnswer(sent: SentRequest, res: Dispatcher.ResponseData): Promise<Response> {
    const { spec } = sent
    const headers = flatHeaders(res.headers)
    const opId = headers['x-opid'] ?? sent.opId
    const cap = spec.maxBytes ?? MAX_ANSWER_BYTES
    const text = isAnswer(spec, res.statusCode)
      ? await readCapped(res.body, cap, headers['content-length'], 'fail', this.stats)
      : await readCapped(res.body, MAX_ERROR_PAGE_BYTES, undefined, 'cut', this.stats)
    if (text === undefined) {
      throw new ControlServiceError({
        operation: spec.operation,
        kind: 'protocol',
        detail: `the answer was larger than ${cap / MiB} MiB, more than any answer of the Control Service to this request`,
        hint: 'a proxy or gateway may have answered instead of the Control Service; check control-service-url',
        opId
      })
    }
    this.trace(sent, res.statusCode, headers, text)
    return { status: res.statusCode, headers, text, opId }
  }

  private trace(
    sent: SentRequest,
    status: number,
    responseHeaders: Record<string, string>,
    responseText?: string
  ): void {
    if (!this.options.trace) return
    const { authorization: _hidden, ...shown } = sent.headers
    this.options.trace({
      operation: sent.spec.operation,
      method: sent.spec.method,
      path: `${sent.url.pathname}${sent.url.search}`,
      requestHeaders: shown,
      requestJson: sent.spec.json,
      status,
      responseHeaders,
      responseText
    })
  }

  async close(): Promise<void> {
    await this.options.auth?.close?.()
    if (this.options.dispatcher) return
    await this.routes.usual.close()
    if (this.routes.direct !== this.routes.usual) await this.routes.direct.close()
  }
}

/** What one attempt sent, for reading and tracing its answer. */
interface SentRequest {
  spec: RequestSpec
  url: URL
  headers: Record<string, string>
  opId: string
}

/** Whether a status is an answer to `spec` (2xx, or one it accepts), not a failure. */
const isAnswer = (spec: RequestSpec, status: number): boolean =>
  (status >= 200 && status < 300) || Boolean(spec.accept?.includes(status))
