// Where a fresh read of a log meets the lines already shown. The Control Service's only knob for
// reading less than a whole log is `tail_lines` (the last N lines; no offset, no "since":
// JobExecutionService.getJobExecutionLogs upstream), so a follower finds the seam by content:
// the lines it showed last must be the lines just before the new ones. Repeated identical lines
// are kept as runs (a line and how many times it came in a row), so a seam inside a run of
// identical lines is placed by the run's length, and only when the read reaches back to the line
// before that run; anything that cannot be placed for sure is said to be ambiguous or missing,
// and the caller reads the whole log instead. Pure: no I/O, no clock.

/** Identical lines in a row: one line and how many times it came. */
interface Run {
  key: string
  count: number
}

/** How many runs of the last lines shown are kept to find seams, and up to how many characters. */
const MAX_RUNS = 64
const MAX_CHARS = 1 << 20

/**
 * How many old lines a read must share with the lines shown to be placed, when lines carry no
 * kubelet timestamp: a short overlap of lines without timestamps (a few distinct lines repeated in
 * any order) matches by chance where the read did not reach the lines shown at all. With a
 * timestamp (RFC3339Nano, added by the kubelet for every record: upstream reads pod logs with
 * timestamps=true, KubernetesService.readNamespacedPodLog) lines do not repeat, and reaching the
 * line before the last run is enough.
 */
export const MIN_OVERLAP = 32

/** A kubelet timestamp at the start of a line: Go's RFC3339NanoFixed (nine digits) and a space. */
const KUBELET_STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(?:Z|[+-]\d\d:\d\d) /

/** A timestamp whose last six digits are zeros: from a clock to the millisecond or coarser. */
const COARSE_STAMP = /0{6}(?:Z|[+-]\d\d:\d\d) $/

/** A line as a log store keeps it: without the kubelet's timestamp, which a store adds apart. */
export const withoutStamp = (line: string): string => line.replace(KUBELET_STAMP, '')

/** The kubelet's time of a line, in milliseconds (Date.parse keeps three of the nine digits). */
function stampTime(line: string): number | undefined {
  const stamp = KUBELET_STAMP.exec(line)?.[0]
  const time = stamp === undefined ? NaN : Date.parse(stamp.trimEnd())
  return Number.isFinite(time) ? time : undefined
}

/**
 * Lines per millisecond over the later half of the time the kubelet times of `lines` span (the
 * first line's to the last's), when both have one and they differ: how fast a log grows, known
 * from one read, and not raised by a burst at its start. The times are the node's clock, and only
 * their differences are used, so a runner's clock that is off does not matter.
 */
export function stampedRate(lines: readonly string[]): number | undefined {
  if (lines.length < 2) return undefined
  const first = stampTime(lines[0])
  const last = stampTime(lines[lines.length - 1])
  if (first === undefined || last === undefined || !(last > first)) return undefined
  const half = (first + last) / 2
  let count = 0
  for (let i = lines.length - 1; i >= 0; i--) {
    const time = stampTime(lines[i])
    if (time !== undefined && time < half) break
    count++
  }
  return count / (last - half)
}

/** Where a read meets what was shown: `at` is the index of its first new line. */
export type Seam = { kind: 'at'; at: number } | { kind: 'ambiguous' } | { kind: 'none' }

/** What a log line is compared by: itself, or a normal form (e.g. without a timestamp). */
export type LineKey = (line: string) => string

const itself: LineKey = line => line

/** Lines as runs of identical keys, each with the index of its first line. */
function runsOf(lines: readonly string[], key: LineKey): { runs: Run[]; starts: number[] } {
  const runs: Run[] = []
  const starts: number[] = []
  lines.forEach((line, i) => {
    const k = key(line)
    const last = runs.at(-1)
    if (last && last.key === k) last.count++
    else {
      runs.push({ key: k, count: 1 })
      starts.push(i)
    }
  })
  return { runs, starts }
}

/**
 * The last lines shown of a log, as runs: all of them while they fit, else the last MAX_RUNS runs
 * (at most MAX_CHARS characters, but always the last run), and how many lines were shown in all.
 */
export class ShownLines {
  private runs: Run[] = []
  private chars = 0
  /** Lines shown in all. */
  count = 0
  /** Whether the runs still hold every line shown (nothing was let go). */
  whole = true
  /**
   * Whether the last line shown starts with a kubelet timestamp of its own: to the nanosecond, or
   * another than the line's before (a coarser time is shared by many lines); then lines do not
   * repeat. Two records can share a time to the nanosecond (stdout and stderr are written
   * apart), but not their text as well.
   */
  stamped = false
  private lastStamp: string | undefined

  add(lines: readonly string[]): void {
    for (const line of lines) {
      const last = this.runs.at(-1)
      if (last && last.key === line) last.count++
      else {
        this.runs.push({ key: line, count: 1 })
        this.chars += line.length
      }
    }
    this.count += lines.length
    for (const line of lines.slice(-2)) {
      const stamp = KUBELET_STAMP.exec(line)?.[0]
      // a time of the node's clock to the nanosecond is the line's own even when the line before
      // has it too (a record of stdout and one of stderr); a time padded from a coarser clock
      // (to the second, the millisecond) is not
      this.stamped = stamp !== undefined && (!COARSE_STAMP.test(stamp) || stamp !== this.lastStamp)
      this.lastStamp = stamp
    }
    while (this.runs.length > 1 && (this.runs.length > MAX_RUNS || this.chars > MAX_CHARS)) {
      const first = this.runs.shift() as Run
      this.chars -= first.key.length
      this.whole = false
    }
  }

  /** How many identical lines end what was shown (0 when nothing was). */
  get trailingRun(): number {
    return this.runs.at(-1)?.count ?? 0
  }

  /** How many lines kept a read must reach back over to be placed (see MIN_OVERLAP). */
  overlap(key: LineKey = itself): number {
    const kept = this.runs.reduce((n, run) => n + run.count, 0)
    const stamped = this.stamped && key === itself
    return Math.min(
      kept,
      stamped ? this.trailingRun + 1 : Math.max(MIN_OVERLAP, this.trailingRun + 1)
    )
  }

  /**
   * The runs kept, oldest first, with their keys made by `key`. Lines that differ only in what the
   * key drops make one run; when lines were let go, the first such run may miss some of its lines,
   * so it is left out: only runs whose every line is kept are compared.
   */
  keyed(key: LineKey): Run[] {
    if (key === itself) return this.runs
    const keyed: Run[] = []
    for (const run of this.runs) {
      const k = key(run.key)
      const last = keyed.at(-1)
      if (last && last.key === k) last.count += run.count
      else keyed.push({ key: k, count: run.count })
    }
    return this.whole ? keyed : keyed.slice(1)
  }

  /**
   * Whether `lines` (a whole log) holds the lines kept ending at index `count` (the number
   * shown): the log only grew since, so its lines from there on are the new ones.
   */
  endsAt(lines: readonly string[]): boolean {
    if (lines.length < this.count) return false
    let i = this.count
    for (let r = this.runs.length - 1; r >= 0; r--) {
      const run = this.runs[r]
      for (let n = 0; n < run.count; n++) if (lines[--i] !== run.key) return false
    }
    return true
  }
}

/**
 * Whether the answer's first run (`a`, where the read began: maybe inside a run, maybe inside a
 * long line that the kubelet split) can be the end of the shown run `b`.
 */
const firstRunFits = (a: Run, b: Run): boolean =>
  a.key === b.key ? a.count <= b.count : a.count === 1 && isEndOf(a.key, b.key)

/**
 * Whether `fragment` is the end of `line`: a read that begins inside a long line (the runtime
 * splits a line longer than 16 KiB into partial records, and tail_lines counts records) starts
 * with its end, which the kubelet begins with a timestamp of its own (kubernetes #113481).
 */
function isEndOf(fragment: string, line: string): boolean {
  const text = withoutStamp(fragment)
  return text !== '' && line.endsWith(text)
}

/**
 * How many lines before the seam in run `r` of the answer are the lines shown, compared back as
 * far as both go; -1 when they differ, or when the answer goes back further than a whole log shown.
 */
function linesBeforeMatching(answer: Run[], r: number, shown: Run[], whole: boolean): number {
  let matched = shown[shown.length - 1].count
  let s = shown.length - 2
  let a = r - 1
  for (; a >= 0 && s >= 0; a--, s--) {
    const fits =
      a === 0
        ? firstRunFits(answer[a], shown[s])
        : answer[a].key === shown[s].key && answer[a].count === shown[s].count
    if (!fits) return -1
    matched += answer[a].count
  }
  // the answer goes back further than every line shown: it is not the log those lines began
  return a >= 0 && whole ? -1 : matched
}

/**
 * Where `answer` (the last lines of a log, read now) continues what `shown` holds. The old lines
 * in it must end with the shown runs, compared back to the line before the last run of identical
 * lines (so a read that begins inside that run cannot be placed: `none`) and over at least
 * `shown.overlap()` lines; several places are `ambiguous`; no place (the log grew by more than
 * was read, or it is another log now) is `none`.
 */
export function findSeam(
  shown: ShownLines,
  answer: readonly string[],
  key: LineKey = itself
): Seam {
  const kept = shown.keyed(key)
  const last = kept.at(-1)
  if (!last) return { kind: 'none' }
  const unique = key === itself && shown.stamped && last.count === 1
  const need = Math.min(
    shown.overlap(key),
    kept.reduce((n, run) => n + run.count, 0)
  )
  const { runs, starts } = runsOf(answer, key)
  const places: number[] = []
  for (let r = 0; r < runs.length; r++) {
    if (runs[r].key !== last.key || runs[r].count < last.count) continue
    // a read that begins in the last run cannot say how much of the run it holds, unless the run
    // is one line with a timestamp of its own (then the read begins with it: a log file rotated
    // just after it); and it is every line shown, a whole log is counted by the caller
    if (r === 0) {
      if (unique && runs[0].count === 1) places.push(starts[0] + 1)
      continue
    }
    // the lines before the seam were shown: there cannot be more of them than were shown
    const at = starts[r] + last.count
    if (at <= shown.count && linesBeforeMatching(runs, r, kept, shown.whole) >= need)
      places.push(at)
  }
  if (places.length === 1) return { kind: 'at', at: places[0] }
  return places.length ? { kind: 'ambiguous' } : { kind: 'none' }
}
