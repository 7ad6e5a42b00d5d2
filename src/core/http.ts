// The one HTTP seam to the Control Service (and to the token endpoint): undici's request API over
// an EnvHttpProxyAgent (HTTP_PROXY / HTTPS_PROXY / NO_PROXY honoured, loopback never proxied;
// NODE_EXTRA_CA_CERTS works because TLS uses Node's default CA store), a timeout on every attempt
// (connect, and the whole answer), a size cap on every answer read, retries only where safe, a
// fresh X-OPID per attempt, and one error type.
import { randomBytes } from 'node:crypto'
import type { Readable } from 'node:stream'
import { Agent, EnvHttpProxyAgent, request, type Dispatcher } from 'undici'
import { ControlServiceError, InputError, parseErrorBody } from './errors.js'
import { realSleep } from './poll.js'
import {
  errorCode,
  isTransientStatus,
  neverSent,
  nextDelay,
  parseRetryAfter,
  proxyRefusal,
  type BackoffOptions
} from './retry.js'

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

const MiB = 1024 * 1024

/**
 * The largest answer read by default (a JSON answer). The largest the Control Service gives are
 * lists: a job's executions (it keeps at most 100 per job by default,
 * datajobs.executions.cleanupJob.maximumExecutionsToStore in
 * projects/control-service/projects/pipelines_control_service/src/main/resources/application.properties),
 * about 1 KiB each, and GraphQL pages of the size asked for (5 or so). 32 MiB is far above any of
 * them, and keeps a hostile or broken answer (a proxy streaming forever) from filling the memory:
 * reading holds at most twice the cap (the pieces, then the joined text).
 */
export const MAX_ANSWER_BYTES = 32 * MiB

/**
 * The largest log answer read (RequestSpec.maxBytes of the logs reads). The service reads a pod's
 * current log (KubernetesService.getJobLogs), which Kubernetes rotates at 10 MiB by default; a
 * log store behind logs_url may hold more. Past this, tail-lines is the way to read them.
 */
export const MAX_LOG_BYTES = 256 * MiB

/** The most of an error page that is read: the message shows 300 characters of it at most. */
export const MAX_ERROR_PAGE_BYTES = 64 * 1024

/**
 * Whether a URL's hostname (as URL.hostname gives it, IPv6 in brackets) is this machine: such
 * requests never go through a proxy (as @actions/http-client), and may use plain http.
 */
export const isLoopbackHost = (hostname: string): boolean =>
  /^(localhost\.?|127(\.\d{1,3}){3}|\[::1\]|\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\])$/i.test(
    hostname
  )

/**
 * The proxy variable in effect for a scheme, lowercase first (as curl and @actions/http-client):
 * its name and value; undefined when none is set. ALL_PROXY is not read.
 */
export function proxyVariable(
  env: NodeJS.ProcessEnv,
  scheme: 'http' | 'https'
): { name: string; value: string } | undefined {
  for (const name of [`${scheme}_proxy`, `${scheme.toUpperCase()}_PROXY`]) {
    const value = env[name]?.trim()
    if (value) return { name, value }
  }
  return undefined
}

/** Whether a proxy variable's value is a URL undici can use: http(s)://[user:password@]host[:port]. */
export function isProxyUrl(raw: string): boolean {
  try {
    const url = new URL(raw)
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== ''
  } catch {
    return false
  }
}

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

export interface RequestSpec {
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
  json?: unknown
  /** A factory, so that a retried attempt sends a fresh stream. */
  body?: () => Readable | Buffer | string
  contentType?: string
  /** The length of a streamed body, sent as Content-Length (without it, a stream is chunked). */
  contentLength?: number
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

const header = (
  h: Record<string, string | string[] | undefined>,
  name: string
): string | undefined => {
  const v = h[name]
  return Array.isArray(v) ? v.join(', ') : v
}

export class Transport {
  private readonly o: Required<
    Pick<TransportOptions, 'timeoutMs' | 'connectTimeoutMs' | 'retries'>
  > &
    TransportOptions
  private readonly dispatcher: Dispatcher
  /** For loopback hosts, which never go through the proxy (the same Agent without a proxy). */
  private readonly direct: Dispatcher
  private readonly base: URL
  private readonly proxied: boolean
  /** A proxy variable that is not a proxy URL: refused by the first request that would use it. */
  private badProxy?: InputError
  private seq = 0

  constructor(options: TransportOptions) {
    this.o = { timeoutMs: 60_000, connectTimeoutMs: 10_000, retries: 4, ...options }
    this.base = new URL(options.baseUrl)
    const env = options.env ?? process.env
    // as curl and @actions/http-client: the scheme's own variable, lowercase first; only `env`
    // counts ("" tells undici not to look at process.env itself)
    const variable = proxyVariable(env, this.base.protocol === 'https:' ? 'https' : 'http')
    // readConnection refuses a bad one before any request; for callers that did not, it is refused
    // when a request would go through it (not for loopback, which never does: changed-jobs and
    // validate without a service make a client they never use)
    const badProxy = variable !== undefined && !isProxyUrl(variable.value)
    if (badProxy) this.badProxy = new InputError(`${variable.name} is not a valid proxy URL`)
    const proxy = badProxy ? '' : (variable?.value ?? '')
    const noProxy = env.no_proxy ?? env.NO_PROXY ?? ''
    this.proxied = !options.dispatcher && Boolean(proxy) && !isLoopbackHost(this.base.hostname)
    const connect = { timeout: this.o.connectTimeoutMs }
    this.direct = options.dispatcher ?? new Agent({ connect })
    this.dispatcher =
      options.dispatcher ??
      (proxy
        ? new EnvHttpProxyAgent({ httpProxy: proxy, httpsProxy: proxy, noProxy, connect })
        : this.direct)
  }

  get signal(): AbortSignal | undefined {
    return this.o.signal
  }

  private url(spec: RequestSpec): URL {
    const basePath = this.base.pathname.replace(/\/+$/, '')
    const url = spec.absolute ? new URL(spec.path) : new URL(`${basePath}${spec.path}`, this.base)
    for (const [k, v] of Object.entries(spec.query ?? {})) {
      if (v === undefined) continue
      for (const one of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(one))
    }
    return url
  }

  private newOpId(): string {
    this.seq++
    return `${this.o.opIdPrefix ?? 'vdk-actions'}-${randomBytes(3).toString('hex')}-${this.seq}`
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
    if (this.badProxy && !spec.dispatcher && !isLoopbackHost(this.url(spec).hostname))
      throw this.badProxy
    const sleep = this.o.sleep ?? realSleep
    const clock = this.o.clock ?? Date.now
    const opIds: string[] = []
    let refreshed = false
    for (let attempt = 1; ; attempt++) {
      const opId = this.newOpId()
      opIds.push(opId)
      spec.onSend?.(opId)
      let failure: ControlServiceError
      let retryAfterMs: number | undefined
      let mayHaveTakenEffect: boolean
      try {
        const res = await this.once(spec, opId)
        if (res.status === 401 && this.o.auth && !refreshed) {
          refreshed = true
          if (await this.o.auth.refresh(this.o.signal)) {
            this.o.log?.(`${spec.operation}: HTTP 401, retrying once with a new access token`)
            attempt--
            continue
          }
        }
        if ((res.status >= 200 && res.status < 300) || spec.accept?.includes(res.status))
          return parse(res)
        failure = this.httpError(spec, res, attempt)
        if (!isTransientStatus(res.status)) throw failure
        retryAfterMs = parseRetryAfter(res.headers['retry-after'], clock())
        // a 429 is an explicit refusal; any other 5xx may hide a request that was processed
        mayHaveTakenEffect = res.status !== 429
      } catch (e) {
        if (e instanceof ControlServiceError) throw e
        const refused = proxyRefusal(e)
        if (refused !== undefined) throw this.proxyError(spec, refused, attempt, opId)
        failure = this.networkError(spec, e, attempt, opId)
        if (failure.kind === 'aborted') throw failure
        mayHaveTakenEffect = !neverSent(e)
      }
      if (mayHaveTakenEffect && !spec.idempotent) {
        if (!reconcile) throw failure
        const found = await reconcile(opIds)
        if (found !== undefined) {
          this.o.log?.(`${spec.operation}: the answer was lost, but the request had taken effect`)
          return found
        }
        this.o.log?.(`${spec.operation}: the request did not take effect; sending it again`)
      }
      const retries = spec.retries ?? this.o.retries
      if (attempt > retries) throw failure
      const delay = nextDelay(attempt, retryAfterMs, this.o.backoff)
      this.o.log?.(
        `${spec.operation}: ${failure.kind === 'http' ? `HTTP ${failure.status}` : failure.kind}; retry ${attempt} of ${retries} in ${delay} ms`
      )
      await sleep(delay, this.o.signal)
      if (this.o.signal?.aborted) throw this.networkError(spec, this.o.signal.reason, attempt, opId)
    }
  }

  private async once(spec: RequestSpec, opId: string): Promise<Response> {
    const headers: Record<string, string> = {
      'user-agent': this.o.userAgent,
      'x-opid': opId,
      accept: 'application/json'
    }
    const url = this.url(spec)
    // a token goes only to the service's own origin, never to a logs_url elsewhere
    const authorization =
      url.origin === this.base.origin ? await this.o.auth?.header(this.o.signal) : undefined
    if (authorization) headers.authorization = authorization
    let body: Readable | Buffer | string | undefined
    if (spec.json !== undefined) {
      try {
        body = JSON.stringify(spec.json)
      } catch (e) {
        // a value too deep for JSON.stringify (the inputs are checked first): ours, not the network's
        throw new ControlServiceError({
          operation: spec.operation,
          kind: 'protocol',
          detail: `the request cannot be written as JSON (${(e as Error).message})`,
          opId
        })
      }
      headers['content-type'] = 'application/json'
    } else if (spec.body) {
      body = spec.body()
      headers['content-type'] = spec.contentType ?? 'application/octet-stream'
      if (spec.contentLength !== undefined) headers['content-length'] = String(spec.contentLength)
    }
    // a body that fails to be made (a file gone while zipping) is our failure, not the network's
    let bodyError: Error | undefined
    if (body && typeof body === 'object' && 'once' in body) body.once('error', e => (bodyError = e))
    const limit = spec.timeoutMs ?? this.o.timeoutMs
    const timer = new AbortController()
    const timeout = setTimeout(() => timer.abort(new TimeoutError(limit)), limit)
    const signal = this.o.signal ? AbortSignal.any([this.o.signal, timer.signal]) : timer.signal
    try {
      const res = await request(url, {
        method: spec.method,
        headers,
        body,
        signal,
        // loopback never through the proxy, whatever NO_PROXY says: a plain-http token would
        // leave the machine inside the proxy's tunnel
        dispatcher:
          spec.dispatcher ?? (isLoopbackHost(url.hostname) ? this.direct : this.dispatcher),
        headersTimeout: limit,
        bodyTimeout: limit
      })
      const resHeaders: Record<string, string> = {}
      for (const k of Object.keys(res.headers)) resHeaders[k] = header(res.headers, k) ?? ''
      const ok = res.statusCode >= 200 && res.statusCode < 300
      if (spec.stream && ok) {
        clearTimeout(timeout)
        this.trace(spec, url, headers, res.statusCode, resHeaders)
        return {
          status: res.statusCode,
          headers: resHeaders,
          text: '',
          stream: res.body,
          opId: resHeaders['x-opid'] ?? opId
        }
      }
      // an answer is read whole up to its cap, an error page only as far as a message shows it
      const answer = ok || spec.accept?.includes(res.statusCode)
      const text = answer
        ? await readCapped(
            res.body,
            spec.maxBytes ?? MAX_ANSWER_BYTES,
            resHeaders['content-length']
          )
        : await readCapped(res.body, MAX_ERROR_PAGE_BYTES, undefined, 'cut')
      if (text === undefined) {
        throw new ControlServiceError({
          operation: spec.operation,
          kind: 'protocol',
          detail: `the answer was larger than ${(spec.maxBytes ?? MAX_ANSWER_BYTES) / MiB} MiB, more than any answer of the Control Service to this request`,
          hint: 'a proxy or gateway may have answered instead of the Control Service; check control-service-url',
          opId: resHeaders['x-opid'] ?? opId
        })
      }
      this.trace(spec, url, headers, res.statusCode, resHeaders, text)
      return {
        status: res.statusCode,
        headers: resHeaders,
        text,
        opId: resHeaders['x-opid'] ?? opId
      }
    } catch (e) {
      if (body && typeof body === 'object' && 'destroy' in body) body.destroy()
      if (bodyError) {
        throw new ControlServiceError({
          operation: spec.operation,
          kind: 'protocol',
          detail: bodyError.message,
          opId
        })
      }
      throw timer.signal.aborted && !this.o.signal?.aborted ? timer.signal.reason : e
    } finally {
      clearTimeout(timeout)
    }
  }

  private trace(
    spec: RequestSpec,
    url: URL,
    headers: Record<string, string>,
    status: number,
    responseHeaders: Record<string, string>,
    responseText?: string
  ): void {
    if (!this.o.trace) return
    const { authorization: _hidden, ...shown } = headers
    this.o.trace({
      operation: spec.operation,
      method: spec.method,
      path: `${url.pathname}${url.search}`,
      requestHeaders: shown,
      requestJson: spec.json,
      status,
      responseHeaders,
      responseText
    })
  }

  private httpError(spec: RequestSpec, res: Response, attempts: number): ControlServiceError {
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

  private proxyError(
    spec: RequestSpec,
    status: number,
    attempts: number,
    opId: string
  ): ControlServiceError {
    const variable = this.base.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY'
    return new ControlServiceError({
      operation: spec.operation,
      kind: 'network',
      status,
      detail: `the proxy refused to connect to ${this.base.origin} (HTTP ${status})`,
      hint:
        status === 407
          ? `the proxy wants credentials: put them in ${variable} (http://user:password@proxy:port), or exempt the service with NO_PROXY`
          : `check the proxy in ${variable}, or exempt the service with NO_PROXY`,
      attempts,
      opId
    })
  }

  private networkError(
    spec: RequestSpec,
    e: unknown,
    attempts: number,
    opId: string
  ): ControlServiceError {
    const where = `${this.base.origin}${this.base.pathname === '/' ? '' : this.base.pathname}`
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
    if (this.o.signal?.aborted) {
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
    const proxy = this.proxied
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

  async close(): Promise<void> {
    await this.o.auth?.close?.()
    if (this.o.dispatcher) return
    await this.dispatcher.close()
    if (this.direct !== this.dispatcher) await this.direct.close()
  }
}

/**
 * A body as text, read as a stream so that memory stays bounded: past `limit` bytes (or when
 * Content-Length says it will be), the rest is not downloaded: undefined, or with 'cut' the text
 * of the first `limit` bytes. The bytes are kept as they came and decoded once at the end: at most
 * twice the body's size is held (the pieces, then the text), and only the pieces when it is cut.
 */
export async function readCapped(
  body: Readable,
  limit: number,
  contentLength?: string,
  overflow: 'fail' | 'cut' = 'fail'
): Promise<string | undefined> {
  // what is left is not wanted: the connection is closed (undici reports that as an error)
  const discard = (): void => {
    body.on('error', () => undefined)
    body.destroy()
  }
  if (overflow === 'fail' && Number(contentLength) > limit) {
    discard()
    return undefined
  }
  const chunks: Buffer[] = []
  let bytes = 0
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk)
    bytes += chunk.length
    if (bytes > limit) {
      discard()
      if (overflow === 'fail') return undefined
      break
    }
  }
  const whole = Buffer.concat(chunks, Math.min(bytes, limit))
  // the pieces go before the text is made
  chunks.length = 0
  return whole.toString('utf8')
}

class TimeoutError extends Error {
  constructor(readonly ms: number) {
    super(`timed out after ${ms} ms`)
  }
}
