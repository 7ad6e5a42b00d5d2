// Who may talk to the local Control Service. It listens on loopback, yet a web page open in the
// user's browser can reach it: cross-site (a form POST or fetch to http://127.0.0.1:<port>, sent
// with the page's Origin), or through DNS rebinding (a name of the page's own that later resolves
// to 127.0.0.1, so the browser sends that name as Host and treats the answers as same-origin). So
// every request must name this service in Host — loopback (localhost, 127.0.0.0/8, [::1]), the
// address it listens on, or a name allowed with --allow-host — and an Origin, when sent, too.
import { problem, type Reply } from './reply.js'

/** The address families' "any address": listening there names no host. */
const WILDCARDS = new Set(['0.0.0.0', '[::]'])

/**
 * The host name of a Host header (or of a listening address or an allowed name), as a URL would
 * have it: lowercased, IPv4 in dotted form (`127.1` is `127.0.0.1`), IPv6 compressed in brackets,
 * without port or trailing dot. Undefined when it is no plain host (user info, a path, spaces).
 */
export function hostName(host: string): string | undefined {
  if (!host || /[\s@/\\?#]/.test(host)) return undefined
  const bare = host.includes(':') && !host.startsWith('[') && !/^[^:]*:\d*$/.test(host)
  try {
    // a bare IPv6 address (as --host takes it) is bracketed first
    return new URL(`http://${bare ? `[${host}]` : host}`).hostname.replace(/\.$/, '')
  } catch {
    return undefined
  }
}

export function isLoopback(name: string): boolean {
  return (
    name === 'localhost' ||
    /^127\.\d+\.\d+\.\d+$/.test(name) ||
    name === '[::1]' ||
    /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(name)
  )
}

/** The check of Host and Origin for a service listening on `listenHost`, also named `allowed`. */
export function accessCheck(
  listenHost: string,
  allowed: string[]
): (headers: { host?: string; origin?: string }) => Reply | undefined {
  const names = new Set<string>()
  for (const h of [listenHost, ...allowed]) {
    const name = hostName(h)
    if (name && !WILDCARDS.has(name)) names.add(name)
  }
  const ours = (name: string | undefined): boolean =>
    name !== undefined && (isLoopback(name) || names.has(name))
  return ({ host, origin }) => {
    if (!ours(hostName(host ?? ''))) {
      return problem(
        403,
        `The request's Host header ${JSON.stringify(host ?? '')} does not name this service.`,
        'The local Control Service answers only requests addressed to loopback (localhost, 127.0.0.1, [::1]), to the address it listens on, or to a name allowed with --allow-host: any other name may be a web page reaching it through DNS rebinding.',
        'Address the service as http://127.0.0.1:<port>, or start it with --allow-host <the name>.'
      )
    }
    if (origin !== undefined && !ours(originHost(origin))) {
      return problem(
        403,
        `Requests from the web origin ${JSON.stringify(origin)} are not accepted.`,
        'A browser sends Origin when a web page makes the request: the local Control Service answers only pages served from loopback or from a name allowed with --allow-host.',
        'Call the service from a program (no Origin header), or start it with --allow-host <the name>.'
      )
    }
    return undefined
  }
}

/** The host name of an http(s) Origin; undefined for "null" (sandboxed or file pages) or others. */
function originHost(origin: string): string | undefined {
  try {
    const url = new URL(origin)
    return url.protocol === 'http:' || url.protocol === 'https:' ? hostName(url.host) : undefined
  } catch {
    return undefined
  }
}
