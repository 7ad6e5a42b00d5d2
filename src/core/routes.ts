// Which way a request of the transport (http.ts) goes: through the proxy of the environment's
// HTTP_PROXY / HTTPS_PROXY (lowercase first, NO_PROXY honoured), or straight to the host — always
// for this machine, whatever NO_PROXY says: a plain-http token would otherwise leave the machine
// inside the proxy's tunnel.
import { Agent, EnvHttpProxyAgent, type Dispatcher } from 'undici'
import { InputError } from './errors.js'

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

/** The ways out of a transport, chosen once from the environment. */
export interface Routes {
  /** The service's way: through the proxy when one is set, else the same as `direct`. */
  usual: Dispatcher
  /** Straight to the host, for loopback hosts. */
  direct: Dispatcher
  /** Whether requests to the service go through a proxy (named in network errors). */
  proxied: boolean
  /** A proxy variable that is not a proxy URL: refused by the first request that would use it. */
  badProxy?: InputError
}

/**
 * The routes of a transport to `base`. Only `env` counts ("" tells undici not to look at
 * process.env itself); a dispatcher given by the caller (tests) is used for everything.
 */
export function chooseRoutes(
  base: URL,
  env: NodeJS.ProcessEnv,
  connectTimeoutMs: number,
  given?: Dispatcher
): Routes {
  const variable = proxyVariable(env, base.protocol === 'https:' ? 'https' : 'http')
  // readConnection refuses a bad one before any request; for callers that did not, it is refused
  // when a request would go through it (not for loopback, which never does: changed-jobs and
  // validate without a service make a client they never use)
  const bad = variable !== undefined && !isProxyUrl(variable.value)
  const badProxy = bad ? new InputError(`${variable.name} is not a valid proxy URL`) : undefined
  const proxy = bad ? '' : (variable?.value ?? '')
  const noProxy = env.no_proxy ?? env.NO_PROXY ?? ''
  const connect = { timeout: connectTimeoutMs }
  const direct = given ?? new Agent({ connect })
  const usual =
    given ??
    (proxy
      ? new EnvHttpProxyAgent({ httpProxy: proxy, httpsProxy: proxy, noProxy, connect })
      : direct)
  return {
    usual,
    direct,
    proxied: !given && Boolean(proxy) && !isLoopbackHost(base.hostname),
    badProxy
  }
}
