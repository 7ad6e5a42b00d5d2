// The journal of requests to the official API (GET /_emulator/journal): what tests read to see
// what a client sent, in which order, and what it was answered.
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
      op_id: opId
    }
    const entries = this.entries
    entries.push(entry)
    if (entries.length > MAX_JOURNAL) entries.splice(0, entries.length - MAX_JOURNAL)
    res.on('finish', () => (entry.status = res.statusCode))
    return entry
  }

  clear(): void {
    this.entries.splice(0)
  }
}
