// Which execution logs_url an action follows, and where the request may connect. The real service
// makes logs_url from its operators' template (datajobs.executions.logsUrl.template in
// application.properties, JobExecutionLogsUrlBuilder; the official CLI only opens it in a browser,
// vdk-control-cli job/execute.py), so a hostile or mistaken service could aim the action at the
// cloud's metadata address or a service inside the runner's network and have the answer printed.
// By default a logs_url is followed only on the service's own origin, or over https to a host whose
// every address is public; that request connects only to the addresses checked (they are pinned:
// no second DNS answer is asked for, so a name cannot change its address in between), directly,
// never through a proxy, where the address reached could not be checked.
import { lookup as dnsLookup } from 'node:dns/promises'
import { BlockList, isIP, type LookupFunction } from 'node:net'
import { Agent, type Dispatcher } from 'undici'
import type { InputSource, Problems } from './inputs.js'
import { httpUrl } from './text.js'

/** The input that sets the rule (fetch-logs, run-and-wait and the root action). */
export const FOLLOW_LOGS_URL = 'follow-logs-url'

/**
 * `public` (default): the service's origin, https to a public address, and `hosts` (any address,
 * http or https); `same-origin`: the service's origin only; `any`: every http(s) URL.
 */
export interface LogsUrlRule {
  follow: 'public' | 'same-origin' | 'any'
  hosts: string[]
  /** The Control Service's origin (its token goes there and nowhere else). */
  origin: string
}

const WORDS = ['public', 'same-origin', 'any'] as const
const HOST_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/

/** A host as URL.hostname has it: lowercase, IPv6 without brackets, no final dot. */
const bare = (host: string): string =>
  host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')

/** Reads follow-logs-url: one of the words, or a comma-separated list of host names. */
export function readLogsUrlRule(
  inputs: InputSource,
  problems: Problems,
  serviceUrl: string
): LogsUrlRule {
  const raw = inputs.input(FOLLOW_LOGS_URL)
  let origin = ''
  try {
    origin = new URL(serviceUrl).origin
  } catch {
    // control-service-url has its own problem already
  }
  const rule: LogsUrlRule = { follow: 'public', hosts: [], origin }
  const word = WORDS.find(known => known === raw.toLowerCase())
  if (!raw || word) return { ...rule, follow: word ?? 'public' }
  const hosts = raw
    .split(',')
    .map(host => host.trim())
    .filter(Boolean)
  const bad = hosts.filter(host => !HOST_NAME.test(host.toLowerCase()) && !isIP(bare(host)))
  if (bad.length || !hosts.length)
    problems.add(
      `${FOLLOW_LOGS_URL} must be public, same-origin, any, or host names separated by commas (e.g. logs.example.com), not ${JSON.stringify(bad[0] ?? raw).slice(0, 80)}`
    )
  else rule.hosts = hosts.map(bare)
  return rule
}

/** Address ranges that are not the public internet, each with what it is. */
const RANGES: Array<[string, string, number, 'ipv4' | 'ipv6']> = [
  ['an unspecified', '0.0.0.0', 8, 'ipv4'],
  ['a private', '10.0.0.0', 8, 'ipv4'],
  ['a shared (CGNAT)', '100.64.0.0', 10, 'ipv4'],
  ['a loopback', '127.0.0.0', 8, 'ipv4'],
  ['a link-local', '169.254.0.0', 16, 'ipv4'],
  ['a private', '172.16.0.0', 12, 'ipv4'],
  ['a reserved', '192.0.0.0', 24, 'ipv4'],
  ['a private', '192.168.0.0', 16, 'ipv4'],
  ['a reserved', '198.18.0.0', 15, 'ipv4'],
  ['a multicast or reserved', '224.0.0.0', 3, 'ipv4'],
  ['a loopback', '::1', 128, 'ipv6'],
  ['an unspecified', '::', 128, 'ipv6'],
  // IPv4-compatible (deprecated) and NAT64 addresses stand for an IPv4 address; IPv4-mapped
  // ones (::ffff:a.b.c.d) are matched by the IPv4 ranges above
  ['an IPv4-compatible', '::', 96, 'ipv6'],
  ['a translated (NAT64)', '64:ff9b::', 96, 'ipv6'],
  ['a link-local', 'fe80::', 10, 'ipv6'],
  ['a site-local', 'fec0::', 10, 'ipv6'],
  ['a private', 'fc00::', 7, 'ipv6'],
  ['a multicast', 'ff00::', 8, 'ipv6']
]

const LISTS = RANGES.map(([kind, net, prefix, type]): [string, BlockList] => {
  const list = new BlockList()
  list.addSubnet(net, prefix, type)
  return [kind, list]
})

/** What kind of address `ip` is when it is not a public one ('a loopback', …); else undefined. */
export function nonPublic(ip: string): string | undefined {
  const address = bare(ip)
  const family = isIP(address)
  if (!family) return 'an unreadable'
  const type = family === 4 ? 'ipv4' : 'ipv6'
  return LISTS.find(([, list]) => list.check(address, type))?.[0]
}

export interface ResolvedAddress {
  address: string
  family: number
}

/** Every address of a host name, as the system resolver gives them. */
export type Resolve = (host: string) => Promise<ResolvedAddress[]>

const systemResolve: Resolve = host => dnsLookup(host, { all: true, verbatim: true })

/**
 * A lookup for net/tls.connect that answers only the addresses checked before, whatever it is
 * asked: the connection goes to one of them or nowhere.
 */
export function pinnedLookup(addresses: ResolvedAddress[]): LookupFunction {
  return (_host, options, callback) => {
    const wanted = options.family === 4 || options.family === 6 ? options.family : 0
    const fit = addresses.filter(address => !wanted || address.family === wanted)
    if (!fit.length) {
      const none = Object.assign(new Error('no checked address of this family'), {
        code: 'ENOTFOUND'
      })
      callback(none, options.all ? [] : '', 0)
    } else if (options.all) callback(null, fit)
    else callback(null, fit[0].address, fit[0].family)
  }
}

/** How to read a logs_url: followed (with the dispatcher that connects only where checked), or not and why. */
export type LogsUrlRoute = { url: URL; dispatcher?: Dispatcher } | { why: string }

/** Time limit of connecting to a log store that is not the service (as the transport's default). */
const CONNECT_TIMEOUT_MS = 10_000

/**
 * Whether `raw` may be followed under `rule`, and how. A host name is resolved once here; every
 * address it has must be public, and the request connects only to those addresses.
 */
export async function routeLogsUrl(
  raw: string,
  rule: LogsUrlRule,
  resolve: Resolve = systemResolve
): Promise<LogsUrlRoute> {
  const url = httpUrl(raw)
  if (!url) return { why: 'it is not an http(s) URL' }
  if (url.username || url.password) return { why: 'it holds a user name or password' }
  if (url.origin === rule.origin) return { url }
  const host = bare(url.hostname)
  if (rule.follow === 'any' || rule.hosts.includes(host)) return { url }
  const allow = `set ${FOLLOW_LOGS_URL} to follow it`
  if (rule.follow === 'same-origin')
    return {
      why: `it is not on the Control Service's origin ${rule.origin} (${FOLLOW_LOGS_URL}: same-origin)`
    }
  if (url.protocol !== 'https:')
    return { why: `it is plain http to a host other than the Control Service; ${allow}` }
  let addresses: ResolvedAddress[]
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }]
  else {
    try {
      addresses = await resolve(host)
    } catch (e) {
      const code = (e as { code?: unknown }).code
      return { why: `its host does not resolve${typeof code === 'string' ? ` (${code})` : ''}` }
    }
  }
  if (!addresses.length) return { why: 'its host does not resolve' }
  for (const { address } of addresses) {
    const kind = nonPublic(address)
    if (kind)
      return {
        why: `${isIP(host) ? 'it is' : `its host resolves to`} ${address}, ${kind} address; ${allow}`
      }
  }
  const dispatcher = new Agent({
    connect: { lookup: pinnedLookup(addresses), timeout: CONNECT_TIMEOUT_MS }
  })
  return { url, dispatcher }
}
