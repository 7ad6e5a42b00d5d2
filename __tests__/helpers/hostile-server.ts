// A Control Service (and token endpoint) of the tests' own, on loopback, that answers from a script:
// each route gives its answers in order (the last one again and again), whatever the timing, so a
// test knows what the action was told at each request. It records every request, and every
// connection that did not speak HTTP (a TLS handshake to a plain-http port), so that a test can
// prove what was never fetched. Used by the hostile-server suite, where the answers are attacks.
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Answer {
  status?: number
  headers?: Record<string, string>
  /** A JSON body (content-type application/json). */
  json?: unknown
  /** A body as it is (content-type from `headers`, else text/plain). */
  text?: string
}

export interface Seen {
  method: string
  /** The path as sent (percent-encoded), without the query. */
  path: string
  query: URLSearchParams
  host: string
  authorization?: string
  /** The X-OPID header: what a client looks for after a lost answer. */
  opId?: string
  body: string
  /** Whether a route of the script answered it. */
  scripted: boolean
}

/** An answer, or one made from the requests seen so far (the last is the one answered). */
export type Scripted = Answer | ((seen: Seen[]) => Answer)

interface Route {
  method: string
  path: string | RegExp
  answers: Scripted[]
  served: number
}

export class ScriptedServer {
  readonly seen: Seen[] = []
  /** Connections that sent something that is not HTTP (e.g. a TLS client hello). */
  notHttp = 0
  private routes: Route[] = []

  private readonly server: Server
  port = 0

  private constructor() {
    this.server = createServer((req, res) => {
      void this.answer(req).then(a => {
        const headers: Record<string, string> = { ...a.headers }
        let body = a.text ?? ''
        if (a.json !== undefined) {
          body = JSON.stringify(a.json)
          headers['content-type'] ??= 'application/json'
        }
        headers['content-type'] ??= 'text/plain'
        res.writeHead(a.status ?? 200, headers)
        res.end(body)
      })
    })
    this.server.on('clientError', (e: NodeJS.ErrnoException, socket) => {
      // a parse error (a TLS handshake, say) is not HTTP; a reset by a client that left is not that
      if (e.code?.startsWith('HPE_')) this.notHttp++
      socket.destroy()
    })
  }

  /** The base URL by address (a logs_url by name, http://localhost:port, is another origin). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  static async start(): Promise<ScriptedServer> {
    const self = new ScriptedServer()
    await new Promise<void>(resolve => self.server.listen(0, '127.0.0.1', resolve))
    self.port = (self.server.address() as AddressInfo).port
    return self
  }

  /** Adds a route: `path` is the whole path (a string) or a pattern; its answers in order. */
  on(method: string, path: string | RegExp, ...answers: Scripted[]): this {
    this.routes.push({ method, path, answers, served: 0 })
    return this
  }

  /** Forgets the routes and what was seen. */
  reset(): void {
    this.routes = []
    this.seen.length = 0
    this.notHttp = 0
  }

  /** The requests seen whose path matches. */
  hits(path: string | RegExp): Seen[] {
    return this.seen.filter(s => (typeof path === 'string' ? s.path === path : path.test(s.path)))
  }

  private async answer(req: IncomingMessage): Promise<Answer> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const url = new URL(req.url ?? '/', 'http://x')
    const route = this.routes.find(
      r =>
        r.method === req.method &&
        (typeof r.path === 'string' ? r.path === url.pathname : r.path.test(url.pathname))
    )
    this.seen.push({
      method: req.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      host: req.headers.host ?? '',
      authorization: req.headers.authorization,
      opId: req.headers['x-opid'] as string | undefined,
      body: Buffer.concat(chunks).toString(),
      scripted: route !== undefined
    })
    if (!route) return { status: 404, json: { what: 'not in the script' } }
    const a = route.answers[Math.min(route.served, route.answers.length - 1)]
    route.served++
    return typeof a === 'function' ? a(this.seen) : a
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise(resolve => this.server.close(resolve))
  }
}
