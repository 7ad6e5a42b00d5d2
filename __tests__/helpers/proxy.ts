// A tiny real forward HTTP proxy on loopback, for the tests of the client's proxy support: it
// forwards absolute-URI requests (`GET http://host:port/path`) with their bodies and streams the
// answers back, and tunnels `CONNECT host:port` (what undici's ProxyAgent sends, for https and,
// by default, for plain http too). It records every request it receives, and can be told to
// refuse everything with one status (403, 407…). It resolves names of its own (`hosts`, e.g.
// vdk.test → 127.0.0.1): the client never proxies loopback, so a test that wants its requests
// proxied names the service by such a name.
import {
  Agent,
  createServer,
  request as httpRequest,
  STATUS_CODES,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders
} from 'node:http'
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'

export interface ProxiedRequest {
  /** GET, POST…, or CONNECT for a tunnel. */
  method: string
  /** The absolute URI of a forwarded request, or `host:port` of a tunnel. */
  url: string
}

export interface Proxy {
  /** `http://127.0.0.1:<port>`, for HTTP_PROXY / HTTPS_PROXY. */
  readonly url: string
  /** Every request received, refused ones included, in order. */
  readonly requests: ProxiedRequest[]
  /** Answer every request (and tunnel) with this status from now on; null: forward again. */
  refuse(status: number | null): void
  close(): Promise<void>
}

/** Headers that concern one connection, not the exchange (RFC 9110 §7.6.1), plus the proxy's own. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade'
])

function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const listed = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map(h => h.trim().toLowerCase())
      .filter(Boolean)
  )
  const out: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue
    out[name] = value
  }
  return out
}

const refusalHeaders = (status: number): Record<string, string> =>
  status === 407 ? { 'Proxy-Authenticate': 'Basic realm="test proxy"' } : {}

/** `host:port` of a CONNECT request; brackets of an IPv6 literal removed. */
function authority(target: string): { host: string; port: number } | undefined {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(target)
  return m ? { host: m[1], port: Number(m[2]) } : undefined
}

/** A name the proxy resolves to 127.0.0.1 by default (`.test` is reserved, RFC 2606). */
export const PROXIED_HOST = 'vdk.test'

export async function startProxy(
  hosts: Record<string, string> = { [PROXIED_HOST]: '127.0.0.1' }
): Promise<Proxy> {
  const resolve = (host: string): string => hosts[host.toLowerCase()] ?? host
  const requests: ProxiedRequest[] = []
  let refusal: number | null = null
  // tunnels leave the server's connection tracking: close() ends them itself
  const tunnels = new Set<Duplex | Socket>()
  const upstreamAgent = new Agent({ keepAlive: true })

  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '' })
    const fail = (status: number, headers: Record<string, string> = {}): void => {
      req.resume()
      if (res.headersSent) {
        res.destroy()
        return
      }
      res.writeHead(status, { ...headers, 'Content-Length': 0 })
      res.end()
    }
    if (refusal !== null) return fail(refusal, refusalHeaders(refusal))
    let target: URL
    try {
      target = new URL(req.url ?? '')
    } catch {
      return fail(400) // an origin-form request: this is a proxy, not a server
    }
    if (target.protocol !== 'http:') return fail(400)

    const upstream = httpRequest(
      {
        agent: upstreamAgent,
        host: resolve(target.hostname.replace(/^\[(.*)\]$/, '$1')),
        port: target.port || 80,
        method: req.method,
        path: `${target.pathname}${target.search}`,
        headers: endToEnd(req.headers)
      },
      (answer: IncomingMessage) => {
        res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers))
        answer.pipe(res)
        answer.on('error', () => res.destroy())
      }
    )
    upstream.on('error', () => fail(502))
    req.on('error', () => upstream.destroy())
    req.pipe(upstream)
  })

  server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    requests.push({ method: 'CONNECT', url: req.url ?? '' })
    tunnels.add(client)
    client.on('close', () => tunnels.delete(client))
    client.on('error', () => client.destroy())
    const refuse = (status: number, headers: Record<string, string> = {}): void => {
      const lines = Object.entries({ ...headers, 'Content-Length': '0', Connection: 'close' }).map(
        ([k, v]) => `${k}: ${v}\r\n`
      )
      client.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Refused'}\r\n${lines.join('')}\r\n`)
    }
    if (refusal !== null) return refuse(refusal, refusalHeaders(refusal))
    const where = authority(req.url ?? '')
    if (!where) return refuse(400)

    let connected = false
    const upstream = netConnect(where.port, resolve(where.host), () => {
      connected = true
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length) upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    tunnels.add(upstream)
    upstream.on('close', () => {
      tunnels.delete(upstream)
      if (connected) client.destroy()
    })
    upstream.on('error', () => {
      if (!connected) refuse(502)
      else client.destroy()
    })
    client.on('close', () => upstream.destroy())
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    refuse(status: number | null) {
      refusal = status
    },
    async close() {
      await new Promise<void>(resolve => {
        server.close(() => resolve())
        server.closeAllConnections()
        for (const t of tunnels) t.destroy()
        upstreamAgent.destroy()
      })
    }
  }
}
