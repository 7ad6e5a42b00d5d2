// The connection inputs every action shares, with the official CLI's environment fallbacks, all
// checked before any request; and the client built from them.
import { accessTokenAuth, apiTokenAuth, noAuth } from './auth.js'
import { ControlServiceClient } from './client.js'
import { resolve } from 'node:path'
import { InputError, type FileProblem } from './errors.js'
import {
  isLoopbackHost,
  isProxyUrl,
  proxyVariable,
  Transport,
  type TransportOptions
} from './http.js'
import { relativeToWorkspace } from './jobdir.js'
import { PRODUCT, VERSION } from './version.js'
import { hasControl, hideCredentials } from './text.js'

/** Where inputs come from: `input` returns the trimmed value, "" when unset (as core.getInput). */
export interface InputSource {
  input(name: string): string
  env: NodeJS.ProcessEnv
  /** Masks a secret read from an input before anything can print it (core.setSecret). */
  mask?(secret: string): void
}

export type AuthConfig =
  | { kind: 'none' }
  | { kind: 'access-token'; token: string }
  | { kind: 'api-token'; token: string; authorizationUrl: string }

export interface ConnectionConfig {
  url: string
  auth: AuthConfig
  requestTimeoutMs: number
  allowInsecureHttp: boolean
}

/** Collects problems instead of stopping at the first, so one run reports them all. */
export class Problems {
  readonly list: string[] = []
  readonly files: FileProblem[] = []
  add(message: string): void {
    // parts of one action may check the same shared input: say it once
    if (!this.list.includes(message)) this.list.push(message)
  }
  /** A problem of a file (and line), also shown there as an annotation. */
  addFile(p: FileProblem): void {
    if (this.files.some(f => f.file === p.file && f.line === p.line && f.message === p.message))
      return
    this.files.push(p)
    this.add(`${relativeToWorkspace(p.file)}${p.line ? `:${p.line}` : ''}: ${p.message}`)
  }
  /** Throws one InputError naming every problem, in one line. */
  check(): void {
    if (this.list.length) throw new InputError(this.list.join('; '), this.files)
  }
  /** The same problems, whose check() leaves the throwing to the owner (to gather every part's). */
  deferred(): Problems {
    const view = Object.create(this) as Problems
    view.check = () => undefined
    return view
  }
}

/** A boolean input: true or false, as any word input is written (see `choice`). */
export function parseBoolean(
  name: string,
  raw: string,
  fallback: boolean,
  problems: Problems
): boolean {
  return choice(name, raw, ['true', 'false'], fallback ? 'true' : 'false', problems) === 'true'
}

/**
 * One of a few words, written as one rule for every word input: each word in lower, Title or
 * UPPER case, nothing else (`merge`, `Merge`, `MERGE`; not `mErGe`). This is the YAML 1.2 core
 * schema's rule for true and false, which core.getBooleanInput follows. The problem message names
 * the words.
 */
export function choice<T extends string>(
  name: string,
  raw: string,
  allowed: readonly T[],
  fallback: T,
  problems: Problems
): T {
  if (raw === '') return fallback
  const found = allowed.find(
    w => raw === w || raw === w.toUpperCase() || raw === w.charAt(0).toUpperCase() + w.slice(1)
  )
  if (found !== undefined) return found
  const words =
    allowed.length === 2 ? `${allowed[0]} or ${allowed[1]}` : `one of ${allowed.join(', ')}`
  problems.add(`${name} must be ${words}, not '${raw}'`)
  return fallback
}

/** A path input, relative to the workspace (GITHUB_WORKSPACE) unless absolute. */
export const workspacePath = (src: InputSource, raw: string): string =>
  resolve(src.env.GITHUB_WORKSPACE ?? process.cwd(), raw)

export function parseSeconds(
  name: string,
  raw: string,
  fallback: number,
  problems: Problems,
  { min = 0, allowZero = false } = {}
): number {
  if (raw === '') return fallback
  // plain decimals only: Number() would also take '0x10', '1e3' and ' '
  const n = /^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : NaN
  if (!Number.isFinite(n) || n < min || (!allowZero && n === 0)) {
    problems.add(
      `${name} must be a number of seconds${allowZero ? ', 0 or more' : ' above 0'}, not '${raw}'`
    )
    return fallback
  }
  if (n > MAX_SECONDS) {
    problems.add(`${name} must be at most ${MAX_SECONDS} seconds (24 days), not '${raw}'`)
    return fallback
  }
  return n
}

/** The longest time a Node timer can wait (2^31 - 1 ms); a longer one would fire at once. */
export const MAX_SECONDS = 2_147_483

/** A URL the client may use: http(s), no credentials in it, plain http only on loopback unless allowed. */
export function checkServiceUrl(
  name: string,
  raw: string,
  allowInsecureHttp: boolean,
  problems: Problems
): string | undefined {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    // URLs come from vars.*, which the runner does not mask: never echo credentials in one
    problems.add(
      `${name} is not a valid URL: '${hideCredentials(raw)}' (expected e.g. https://vdk.example.com)`
    )
    return undefined
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    problems.add(`${name} must be an http(s) URL, not ${url.protocol}`)
    return undefined
  }
  if (url.username || url.password) {
    problems.add(`${name} must not hold credentials; use access-token or api-token`)
    return undefined
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !allowInsecureHttp) {
    problems.add(
      `${name} uses plain http to ${url.hostname}: tokens would cross the network unencrypted; use https, or set allow-insecure-http: true`
    )
    return undefined
  }
  return url.toString().replace(/\/+$/, '')
}

export function readConnection(src: InputSource, problems: Problems): ConnectionConfig {
  const allowInsecureHttp = parseBoolean(
    'allow-insecure-http',
    src.input('allow-insecure-http'),
    false,
    problems
  )
  const rawUrl =
    src.input('control-service-url') || src.env.VDK_CONTROL_SERVICE_REST_API_URL?.trim() || ''
  let url = ''
  if (!rawUrl)
    problems.add('control-service-url is required (or set VDK_CONTROL_SERVICE_REST_API_URL)')
  else url = checkServiceUrl('control-service-url', rawUrl, allowInsecureHttp, problems) ?? ''

  const accessToken = src.input('access-token')
  const apiToken = src.input('api-token') || src.env.VDK_API_TOKEN?.trim() || ''
  const rawAuthUrl =
    src.input('api-token-authorization-url') ||
    src.env.VDK_API_TOKEN_AUTHORIZATION_URL?.trim() ||
    ''
  let auth: AuthConfig = { kind: 'none' }
  // a token with a line break is a bad copy: refused here, never sent (and never shown)
  for (const [name, token] of [
    ['access-token', accessToken],
    ['api-token', apiToken]
  ] as const)
    if (hasControl(token))
      problems.add(
        `${name} holds a line break or another control character: copy the token into the secret again, without them`
      )
  if (accessToken && src.input('api-token')) {
    problems.add('set access-token or api-token, not both')
  } else if (accessToken) {
    auth = { kind: 'access-token', token: accessToken }
  } else if (apiToken) {
    if (!rawAuthUrl) {
      problems.add(
        'api-token needs api-token-authorization-url (or VDK_API_TOKEN_AUTHORIZATION_URL): the URL where it is exchanged for an access token'
      )
    } else {
      const authorizationUrl = checkServiceUrl(
        'api-token-authorization-url',
        rawAuthUrl,
        allowInsecureHttp,
        problems
      )
      if (authorizationUrl) auth = { kind: 'api-token', token: apiToken, authorizationUrl }
    }
  }
  // the proxy of each URL's scheme is read by the client (http.ts): a bad one is an input problem
  for (const scheme of new Set(
    [url, auth.kind === 'api-token' ? auth.authorizationUrl : ''].filter(Boolean).map(u => {
      return new URL(u).protocol === 'https:' ? ('https' as const) : ('http' as const)
    })
  )) {
    const proxy = proxyVariable(src.env, scheme)
    if (proxy && !isProxyUrl(proxy.value))
      problems.add(
        `${proxy.name} is not a valid proxy URL: '${hideCredentials(proxy.value)}' (expected e.g. http://proxy.example.com:3128)`
      )
  }
  const requestTimeoutMs =
    parseSeconds('request-timeout-seconds', src.input('request-timeout-seconds'), 60, problems) *
    1000
  return { url, auth, requestTimeoutMs, allowInsecureHttp }
}

export interface ConnectOptions {
  /** Masks a secret in everything the runner prints (core.setSecret). */
  mask: (secret: string) => void
  /** The action's name, for the User-Agent. */
  action: string
  env?: NodeJS.ProcessEnv
  signal?: AbortSignal
  log?: (line: string) => void
  /** Transport settings for tests (clock, sleep, retries, backoff, trace, dispatcher). */
  transport?: Partial<TransportOptions>
}

export const userAgent = (action: string): string =>
  `${PRODUCT}/${VERSION} (${action}; node ${process.versions.node}; ${process.platform})`

export function connect(config: ConnectionConfig, o: ConnectOptions): ControlServiceClient {
  const env = o.env ?? process.env
  const shared: Omit<TransportOptions, 'baseUrl' | 'auth'> = {
    userAgent: userAgent(o.action),
    timeoutMs: config.requestTimeoutMs,
    env,
    signal: o.signal,
    log: o.log,
    opIdPrefix: env.GITHUB_RUN_ID
      ? `gha-${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT ?? '1'}`
      : undefined,
    ...o.transport
  }
  const auth =
    config.auth.kind === 'access-token'
      ? accessTokenAuth(config.auth.token, o.mask)
      : config.auth.kind === 'api-token'
        ? apiTokenAuth({
            apiToken: config.auth.token,
            authorizationUrl: config.auth.authorizationUrl,
            mask: o.mask,
            transport: shared
          })
        : noAuth
  return new ControlServiceClient(new Transport({ ...shared, baseUrl: config.url, auth }))
}
