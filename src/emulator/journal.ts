// The journal of requests to the official API (GET /_emulator/journal): what tests read to see
// what a client sent, in which order, and what it was answered (its status and the bytes of its
// body as sent, counted where every answer is written: res.write and res.end).
import type { IncomingMessage, ServerResponse } from 'node:http'
import { iso } from './model.js'

/** The latest requests kept; the oldest go first. */
const MAX_JOURNAL = 50_000

export interface JournalEntry {
  /** Numbers the requests in the order they arrived (it goes on across clears of the journal). */
  seq: number
  /** When it arrived, by the wall clock (not the service's clock, which a test may freeze). */
  at: string
  method: string
  path: string
  query: Record<string, string | string[]>
  status: number | null
  /** The bytes of the answer's body as written (headers excluded); set when it finishes, like
   * `status`. A dropped connection sets what was written before the cut (status stays null). */
  response_bytes: number | null
  fault?: string
  op_id: string
}

export class Journal {
  /** The entries, oldest first; the same array for the service's whole life (tests hold it). */
  readonly entries: JournalEntry[] = []
  /** Numbers requests across clears of the journal: a later request has a higher one. */
  private seq = 0

  /** Records a request as it arrives; its status is filled in when its answer is sent. */
  record(req: IncomingMessage, res: ServerResponse, url: URL, opId: string): JournalEntry {
    const query: Record<string, string | string[]> = {}
    for (const k of new Set(url.searchParams.keys())) {
      const all = url.searchParams.getAll(k)
      query[k] = all.length === 1 ? all[0] : all
    }
    const entry: JournalEntry = {
      seq: ++this.seq,
      // when it arrived, by the wall clock: a client's pacing is measured in real time, whatever
      // the service's own (possibly frozen) clock says
      at: iso(Date.now()),
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      status: null,
      response_bytes: null,
      op_id: opId
    }
    const entries = this.entries
    entries.push(entry)
    if (entries.length > MAX_JOURNAL) entries.splice(0, entries.length - MAX_JOURNAL)
    const sent = countBody(res, req.method === 'HEAD')
    res.on('finish', () => {
      entry.status = res.statusCode
      entry.response_bytes = sent()
    })
    res.on('close', () => (entry.response_bytes ??= sent()))
    return entry
  }

  clear(): void {
    this.entries.splice(0)
  }
}

/** A chunk's bytes as res.write/res.end take it (a string in its encoding, or bytes). */
function chunkBytes(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string')
    return Buffer.byteLength(
      chunk,
      typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'
    )
  if (chunk instanceof Uint8Array) return chunk.byteLength
  return 0
}

/**
 * Counts the body bytes handed to res.write and res.end (every answer goes through them: a JSON
 * reply, raw text, a piped stream, a fault's body); the count so far. A HEAD answer has no body.
 */
function countBody(res: ServerResponse, head: boolean): () => number {
  let bytes = 0
  const write = res.write.bind(res) as (...args: unknown[]) => boolean
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse
  const count = (args: unknown[]): void => {
    if (!head && typeof args[0] !== 'function') bytes += chunkBytes(args[0], args[1])
  }
  res.write = ((...args: unknown[]) => (count(args), write(...args))) as ServerResponse['write']
  res.end = ((...args: unknown[]) => (count(args), end(...args))) as ServerResponse['end']
  return () => bytes
}
