// What a handler answers: a value, written to the socket in one place (`send`), so that a fault
// injected "after" a handler ran can replace the answer without the handler knowing.
import type { ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'

export interface Reply {
  status: number
  headers?: Record<string, string>
  /** JSON value, raw text/bytes, a stream (sources download), or nothing (empty body). */
  body?: unknown
  kind?: 'json' | 'raw' | 'stream' | 'empty'
}

export const json = (status: number, body: unknown, headers?: Record<string, string>): Reply => ({
  status,
  body,
  headers,
  kind: 'json'
})

export const empty = (status: number, headers?: Record<string, string>): Reply => ({
  status,
  headers,
  kind: 'empty'
})

export const raw = (status: number, body: string | Buffer, contentType: string): Reply => ({
  status,
  body,
  headers: { 'Content-Type': contentType },
  kind: 'raw'
})

export const stream = (status: number, body: Readable, headers: Record<string, string>): Reply => ({
  status,
  body,
  headers,
  kind: 'stream'
})

/**
 * The error body the real service sends for handled exceptions
 * (`what`, `why`, `consequences`, `countermeasures`, in that order), not the spec's `Error`.
 */
export function problem(
  status: number,
  what: string,
  why: string,
  countermeasures: string,
  consequences = 'The requested operation was not performed.'
): Reply {
  return json(status, { what, why, consequences, countermeasures })
}

/** Thrown by handlers and the request-body readers; turned into its reply by the server. */
export class ReplyError extends Error {
  constructor(readonly reply: Reply) {
    super(`HTTP ${reply.status}`)
  }
}

export const fail = (reply: Reply): never => {
  throw new ReplyError(reply)
}

/** Writes a reply; nothing when an answer was already sent or the connection is gone. */
export function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return
  res.statusCode = reply.status
  for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v)
  switch (reply.kind) {
    case 'json': {
      // encoded once: its length is the Content-Length, and the socket writes the bytes as they are
      const bytes = Buffer.from(JSON.stringify(reply.body))
      res.setHeader('Content-Type', 'application/json')
      res.setHeader('Content-Length', bytes.length)
      res.end(bytes)
      return
    }
    case 'raw':
      res.end(reply.body as string | Buffer)
      return
    case 'stream':
      ;(reply.body as Readable).on('error', () => res.destroy()).pipe(res)
      return
    default:
      res.setHeader('Content-Length', 0)
      res.end()
  }
}
