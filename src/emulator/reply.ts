// What a handler answers: a value, written to the socket by the server in one place, so that a
// fault injected "after" a handler ran can replace the answer without the handler knowing.
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
