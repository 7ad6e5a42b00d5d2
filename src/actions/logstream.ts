// An execution's log followed while it runs, at a cost that grows with its new lines, not with
// its size. The service reads the pod's log through Kubernetes on every call and answers it whole
// unless asked for its last `tail_lines` (JobExecutionService.getJobExecutionLogs,
// KubernetesService.readNamespacedPodLog upstream; no offset, no size limit). So each look asks
// for about as many last lines as came since the last look (the rate seen so far times the time
// since, with a margin, and far enough back to reach the line before the last run of identical
// lines), finds where they meet the lines already shown (core/logseam.ts) and shows only what
// follows. A read that does not reach the seam is read again twice as wide, and again; a seam
// that cannot be placed for sure (identical lines, a log that started again) is found in one whole
// read by counting. The last line of each read is held back until a later read shows a line
// after it: the kubelet shows an incomplete line (no newline yet) as it is, and it may still grow.
import { logLines } from '../core/client.js'
import { ControlServiceError } from '../core/errors.js'
import { findSeam, ShownLines, stampedRate, withoutStamp } from '../core/logseam.js'
import type { ActionContext } from './runtime.js'

/** How a followed execution's log is shown: as it comes, only its last lines on failure, or not. */
export type LogsMode = 'stream' | 'on-failure' | 'none'

/** How many of the last log lines are kept for a failure's report (and read per look for it). */
export const TAIL_LINES = 20

/** Lines asked for beyond the expected new ones, and how much more is expected than was seen. */
const MARGIN_LINES = 8
const OVERSHOOT = 1.1
/**
 * How much wider the next read is when one did not reach the lines shown: reads of n, 2n, 4n…
 * find a burst of B lines in at most about 4 B lines read, the least any factor gives.
 */
const WIDER = 2

/** The service's log of the execution: its last `tailLines` lines, or all (`final`: it ended). */
export type ReadLog = (tailLines: number | undefined, final: boolean) => Promise<string>

export class LogStream {
  /** The lines shown of the log the service has now (it starts again when the log does). */
  private shown = new ShownLines()
  /** The last line read, not shown yet: it may still grow. */
  private pending: string | undefined
  /** Lines shown in all, for the groups' numbers. */
  private printed = 0
  private lastLookAt: number | undefined
  /**
   * New lines per millisecond, as seen (decaying, so a burst is not expected forever). From the
   * first read on when its lines carry the kubelet's times (the real service's always do:
   * readNamespacedPodLog with timestamps=true upstream), over the later half of the time they
   * span (core/logseam.ts stampedRate), a guess the first rate seen replaces; without them,
   * unknown until two looks found the log, and until then the whole log is read.
   */
  private rate: number | undefined
  private rateGuessed = false
  /** How long the last read took: a busy service (or runner) answers later, with more lines. */
  private latency = 0
  /** Records of the runtime per line of the answer, as last seen (tail_lines counts records). */
  private recordsPerLine = 1
  /** Why the log could not be read, when that was said (said once until it can be read). */
  private unavailable: string | undefined
  /** The last lines seen, for a failure's report. */
  tail: string[] = []

  constructor(
    private readonly ctx: ActionContext,
    private readonly id: string,
    private readonly mode: 'stream' | 'on-failure',
    private readonly read: ReadLog
  ) {}

  /**
   * One look at the log: its new lines shown (or, on-failure, its last lines kept). `final` (the
   * execution ended) shows the last line too. False when the service had no log to give.
   */
  async look(final = false): Promise<boolean> {
    try {
      const had =
        this.mode === 'on-failure' ? await this.lookTail(final) : await this.lookNew(final)
      this.unavailable = undefined
      return had
    } catch (e) {
      if (this.ctx.signal.aborted) return false
      // logs are a courtesy: a failing logs endpoint must not fail the run, nor fill its log
      const why =
        e instanceof ControlServiceError ? `${e.kind} ${e.status ?? ''}` : (e as Error).message
      if (why !== this.unavailable)
        this.ctx.info(`(logs unavailable for now: ${(e as Error).message})`)
      this.unavailable = why
      return false
    }
  }

  /** on-failure: only the last lines, read anew each time. */
  private async lookTail(final: boolean): Promise<boolean> {
    const lines = logLines(await this.read(TAIL_LINES, final))
    if (lines.length) this.tail = lines.slice(-TAIL_LINES)
    return lines.length > 0
  }

  private async lookNew(final: boolean): Promise<boolean> {
    const now = this.ctx.clock()
    let before = -1
    // a read that does not reach the lines shown (a burst) is read again wider, each time 2
    // times: a burst of B lines costs at most about 4 B, never the whole log
    for (let n = this.tailSize(now); n !== undefined; n = this.wider(n)) {
      const asked = this.ctx.clock()
      const lines = logLines(await this.read(n, final))
      this.latency = Math.max(0, this.ctx.clock() - asked)
      if (!lines.length) return false
      const seam = findSeam(this.shown, lines)
      if (seam.kind === 'at') {
        // tail_lines counts the runtime's records, and a line over 16 KiB is several
        if (seam.at > 0) this.recordsPerLine = Math.min(64, Math.max(1, n / lines.length))
        return this.settle(now, lines.slice(seam.at), final)
      }
      // ambiguous: a wider read has more places, not fewer; no more lines than the read before:
      // that was the whole log, a wider read would be the same
      if (seam.kind === 'ambiguous' || lines.length === before) break
      before = lines.length
    }
    return this.lookWhole(now, final)
  }

  /** The next, wider read; undefined when it would be about the whole log. */
  private wider(n: number): number | undefined {
    const next = n * WIDER
    return next >= this.shown.count * this.recordsPerLine ? undefined : next
  }

  /** The whole log: what follows the lines shown, found by their number, else by content. */
  private async lookWhole(now: number, final: boolean): Promise<boolean> {
    const all = logLines(await this.read(undefined, final))
    if (!all.length) return false
    // the lines shown, and then the held-back one (maybe grown): the log only grew since
    const next = all[this.shown.count]
    const grew = this.pending === undefined || (next !== undefined && next.startsWith(this.pending))
    if (grew && this.shown.endsAt(all)) return this.settle(now, all.slice(this.shown.count), final)
    const seam = findSeam(this.shown, all)
    // a rotated log file: the service has only the lines since the rotation
    if (seam.kind === 'at') return this.settle(now, all.slice(seam.at), final)
    // a log file rotated just after the held-back line was read: it begins with that line
    const pending = this.pending
    if (pending !== undefined && all[0].startsWith(pending)) return this.settle(now, all, final)
    // the last line of the log before is shown: it will not grow any more
    this.flush()
    this.ctx.info(
      `(the log of execution ${this.id} starts again: its container restarted, or its log file was rotated; it follows as the service has it now)`
    )
    this.shown = new ShownLines()
    return this.settle(now, all, final)
  }

  /** How many last lines to ask for; undefined: the whole log (it is about as small). */
  private tailSize(now: number): number | undefined {
    // without a rate, a guess would be read again wider and wider: a burst of requests
    if (this.shown.count === 0 || this.rate === undefined) return undefined
    const since = this.lastLookAt === undefined ? 0 : Math.max(0, now - this.lastLookAt)
    // the lines expected since the last read, more when reads take long (their time varies); far
    // enough back to hold the held-back line and the lines that place the seam (logseam.ts)
    const expected = this.rate * (since * OVERSHOOT + 2 * this.latency)
    const lines = Math.ceil(expected) + this.shown.overlap() + 1 + MARGIN_LINES
    return lines >= this.shown.count ? undefined : Math.ceil(lines * this.recordsPerLine)
  }

  /**
   * Shows `fresh` (the lines after the seam: the held-back one again first, maybe grown), from a
   * read that found a log (without one nothing changes: the held-back line waits for a log store).
   */
  private settle(now: number, fresh: string[], final: boolean): true {
    const before = this.shown.count + (this.pending === undefined ? 0 : 1)
    const lines = fresh.length ? fresh : this.pending === undefined ? [] : [this.pending]
    this.pending = final || !lines.length ? undefined : lines.pop()
    this.show(lines)
    const after = this.shown.count + (this.pending === undefined ? 0 : 1)
    if (this.lastLookAt !== undefined && now > this.lastLookAt) {
      const seen = Math.max(0, after - before) / (now - this.lastLookAt)
      // a rate guessed from the first read's times gives way to the first one seen
      this.rate = this.rateGuessed ? seen : Math.max(seen, (this.rate ?? 0) / 4)
      this.rateGuessed = false
    } else if (this.rate === undefined) {
      // the lines of this first read (without the held-back one): their times say how fast
      this.rate = stampedRate(fresh)
      this.rateGuessed = this.rate !== undefined
    }
    this.lastLookAt = now
    return true
  }

  private show(lines: string[]): void {
    if (!lines.length) return
    this.shown.add(lines)
    this.tail = [...this.tail, ...lines].slice(-TAIL_LINES)
    this.ctx.group(
      `logs of ${this.id}: lines ${this.printed + 1}–${this.printed + lines.length}`,
      lines
    )
    this.printed += lines.length
  }

  /**
   * The log as a log store has it (behind logs_url), once the service no longer has it: what
   * follows the lines shown, found by content without kubelet timestamps. False when it cannot be
   * placed for sure (nothing is shown then).
   */
  fromStore(lines: string[]): boolean {
    if (this.mode === 'on-failure') {
      if (lines.length) this.tail = lines.slice(-TAIL_LINES)
      return true
    }
    if (this.shown.count === 0 && this.printed === 0) {
      this.pending = undefined
      this.show(lines)
      return true
    }
    const seam = findSeam(this.shown, lines, withoutStamp)
    if (seam.kind !== 'at') return false
    this.pending = undefined
    this.show(lines.slice(seam.at))
    return true
  }

  /** Shows the held-back line, if any: nothing more will come. */
  flush(): void {
    const last = this.pending
    this.pending = undefined
    if (last !== undefined) this.show([last])
  }
}
