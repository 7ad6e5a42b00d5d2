// The connection inputs every action that talks to the Control Service shares, with the official
// CLI's environment fallbacks, all checked before any request; and the client built from them.
import { accessTokenAuth, apiTokenAuth, noAuth } from './auth.js'
import { ControlServiceClient } from './client.js'
import {
  isLoopbackHost,
  isProxyUrl,
  proxyVariable,
  Transport,
  type TransportOptions
} from './http.js'
import { parseBoolean, parseSeconds, type InputSource, type Problems } from './inputs.js'
import { PRODUCT, VERSION } from './version.js'
import { hasControl, hideCredentials } from './text.js'

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
      name,
      `is not a valid URL: '${hideCredentials(raw)}' (expected e.g. https://vdk.example.com)`
    )
    return undefined
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    problems.add(name, `must be an http(s) URL, not ${url.protocol}`)
    return undefined
  }
  if (url.username || url.password) {
    problems.add(name, 'must not hold credentials; use access-token or api-token')
    return undefined
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !allowInsecureHttp) {
    problems.add(
      name,
      `uses plain http to ${url.hostname}: tokens would cross the network unencrypted; use https, or set allow-insecure-http: true`
    )
    return undefined
  }
  return url.toString().replace(/\/+$/, '')
}

/**
 * The connection inputs. `urlRequired: false` (validate, which asks the service only when it is
 * given one): no control-service-url is no problem, and the config's url is then "".
 */
export function readConnection(
  inputs: InputSource,
  problems: Problems,
  { urlRequired = true } = {}
): ConnectionConfig {
  const allowInsecureHttp = parseBoolean(
    'allow-insecure-http',
    inputs.input('allow-insecure-http'),
    false,
    problems
  )
  const rawUrl =
    inputs.input('control-service-url') || inputs.env.VDK_CONTROL_SERVICE_REST_API_URL?.trim() || ''
  let url = ''
  if (!rawUrl) {
    if (urlRequired)
      problems.add('control-service-url', 'is required (or set VDK_CONTROL_SERVICE_REST_API_URL)')
  } else url = checkServiceUrl('control-service-url', rawUrl, allowInsecureHttp, problems) ?? ''

  const accessToken = inputs.input('access-token')
  const apiToken = inputs.input('api-token') || inputs.env.VDK_API_TOKEN?.trim() || ''
  const rawAuthUrl =
    inputs.input('api-token-authorization-url') ||
    inputs.env.VDK_API_TOKEN_AUTHORIZATION_URL?.trim() ||
    ''
  let auth: AuthConfig = { kind: 'none' }
  // a token with a line break is a bad copy: refused here, never sent (and never shown)
  for (const [name, token] of [
    ['access-token', accessToken],
    ['api-token', apiToken]
  ] as const)
    if (hasControl(token))
      problems.add(
        name,
        'holds a line break or another control character: copy the token into the secret again, without them'
      )
  if (accessToken && inputs.input('api-token')) {
    problems.add('set access-token or api-token, not both')
  } else if (accessToken) {
    auth = { kind: 'access-token', token: accessToken }
  } else if (apiToken) {
    if (!rawAuthUrl) {
      problems.add(
        'api-token',
        'needs api-token-authorization-url (or VDK_API_TOKEN_AUTHORIZATION_URL): the URL where it is exchanged for an access token'
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
    const proxy = proxyVariable(inputs.env, scheme)
    if (proxy && !isProxyUrl(proxy.value))
      problems.add(
        `${proxy.name} is not a valid proxy URL: '${hideCredentials(proxy.value)}' (expected e.g. http://proxy.example.com:3128)`
      )
  }
  const requestTimeoutMs =
    parseSeconds('request-timeout-seconds', inputs.input('request-timeout-seconds'), 60, problems) *
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

export function connect(config: ConnectionConfig, options: ConnectOptions): ControlServiceClient {
  const env = options.env ?? process.env
  const shared: Omit<TransportOptions, 'baseUrl' | 'auth'> = {
    userAgent: userAgent(options.action),
    timeoutMs: config.requestTimeoutMs,
    env,
    signal: options.signal,
    log: options.log,
    opIdPrefix: env.GITHUB_RUN_ID
      ? `gha-${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT ?? '1'}`
      : undefined,
    ...options.transport
  }
  const auth =
    config.auth.kind === 'access-token'
      ? accessTokenAuth(config.auth.token, options.mask)
      : config.auth.kind === 'api-token'
        ? apiTokenAuth({
            apiToken: config.auth.token,
            authorizationUrl: config.auth.authorizationUrl,
            mask: options.mask,
            transport: shared
          })
        : noAuth
  return new ControlServiceClient(new Transport({ ...shared, baseUrl: config.url, auth }))
}
