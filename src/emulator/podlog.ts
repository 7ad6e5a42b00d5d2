// An execution's log as the real service reads it from the job's pod: the scripted strings are
// what the job printed; the container runtime turns them into records of the pod's CRI log file,
// the kubelet answers the last `tail_lines` records of the current file (with its timestamps),
// and the service joins Java's lines of that answer with "\n". Facts and sources: the notes
// /work/notes/issue19-facts.md §1 (upstream VDK at 4389e38; Kubernetes and containerd where
// named). Which records exist, where files begin (restarts, rotation) and each record's offsets
// are computed once per execution and cached (never persisted): a tail read costs O(N records).
import type { ExecutionRecord } from './model.js'
import { visibleLogCount } from './model.js'

/**
 * containerd's `max_container_log_line_size`: a longer line is written as several partial (P)
 * records of at most this many bytes. 16 KiB is its default from memory, not checked in its source.
 */
export const MAX_RECORD_BYTES = 16 * 1024

/**
 * Bytes a record takes in the CRI file besides its text and "\n": a fixed-width RFC3339Nano time
 * (30), " stdout " (8) and the tag "F " or "P " (2). containerd writes the time with Go's
 * RFC3339Nano, which drops trailing zeros, so a real line can be a few bytes shorter.
 */
const CRI_HEADER_BYTES = 40

/** What the records depend on besides the execution (the service's settings). */
export interface PodLogOptions {
  /** The kubelet's containerLogMaxSize (0: never rotates). */
  rotateBytes: number
}

/** An execution's records: offsets into its scripted strings, and where each log file begins. */
interface RecordIndex {
  /** How many records there are. */
  count: number
  /** The first record of each scripted string (length: strings + 1); absent: one per string. */
  firstRecord?: Uint32Array
  /** Per record: its string, start and end in it, and whether the line goes on in the next one
   * (a P record); absent when each string is one whole record. */
  entry?: Uint32Array
  start?: Uint32Array
  end?: Uint32Array
  partial?: Uint8Array
  /** Records that begin a new file (a restart's new container, or a rotation), ascending. */
  fileStarts: number[]
}

const cache = new WeakMap<ExecutionRecord, RecordIndex>()

/** UTF-8 bytes of the code unit at `i` (a surrogate pair counts 4 on its first unit, 0 after). */
function unitBytes(s: string, i: number): number {
  const c = s.charCodeAt(i)
  if (c < 0x80) return 1
  if (c < 0x800) return 2
  if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1)
    if (d >= 0xdc00 && d < 0xe000) return 4
  }
  if (c >= 0xdc00 && c < 0xe000 && i > 0) {
    const p = s.charCodeAt(i - 1)
    if (p >= 0xd800 && p < 0xdc00) return 0
  }
  return 3
}

/**
 * Cuts the line s[a, b) into pieces of at most MAX_RECORD_BYTES bytes, calling `add` for each.
 * containerd cuts at a byte count, which can split a character (the service would then decode
 * replacement characters); here a piece ends before a character that would not fit.
 */
function cutLine(s: string, a: number, b: number, add: (x: number, y: number, p: boolean) => void) {
  if ((b - a) * 3 <= MAX_RECORD_BYTES) return add(a, b, false)
  let from = a
  let bytes = 0
  for (let i = a; i < b; i++) {
    const n = unitBytes(s, i)
    if (bytes + n > MAX_RECORD_BYTES) {
      add(from, i, true)
      from = i
      bytes = 0
    }
    bytes += n
  }
  add(from, b, false)
}

/** Whether a scripted string is one record as it is: one short line, no "\r" to strip. */
const isSimple = (s: string): boolean =>
  !s.includes('\n') &&
  !s.endsWith('\r') &&
  (s.length * 3 <= MAX_RECORD_BYTES || Buffer.byteLength(s) <= MAX_RECORD_BYTES)

/**
 * The records of the scripted strings. Each string is printed with a "\n" after it; every "\n"
 * ends a line (so a string holding "\n" is several records); containerd drops the "\r" of a
 * "\r\n" (its CRI logger's readLine, notes §1 "\r handling"); a line longer than
 * MAX_RECORD_BYTES becomes partial records. A lone "\r" stays inside its record.
 */
function buildRecords(logs: string[]): Omit<RecordIndex, 'fileStarts'> {
  if (logs.every(isSimple)) return { count: logs.length }
  const firstRecord = new Uint32Array(logs.length + 1)
  const entry: number[] = []
  const start: number[] = []
  const end: number[] = []
  const partial: number[] = []
  logs.forEach((s, k) => {
    firstRecord[k] = entry.length
    const add = (x: number, y: number, p: boolean): void => {
      entry.push(k)
      start.push(x)
      end.push(y)
      partial.push(p ? 1 : 0)
    }
    let a = 0
    for (;;) {
      const nl = s.indexOf('\n', a)
      const b = nl < 0 ? s.length : nl
      cutLine(s, a, b > a && s.charCodeAt(b - 1) === 13 ? b - 1 : b, add)
      if (nl < 0) break
      a = nl + 1
    }
  })
  firstRecord[logs.length] = entry.length
  return {
    count: entry.length,
    firstRecord,
    entry: Uint32Array.from(entry),
    start: Uint32Array.from(start),
    end: Uint32Array.from(end),
    partial: Uint8Array.from(partial)
  }
}

/** The text of record `i`. */
function recordText(e: ExecutionRecord, x: RecordIndex, i: number): string {
  if (!x.entry) return e.logs[i]
  return e.logs[x.entry[i]].slice(x.start![i], x.end![i])
}

/**
 * Where new files begin: at each restart point (the new container writes a new file, and
 * previous=false reads only it: KubernetesService.java:716, restartPolicy OnFailure in
 * k8s-data-job-template.yaml:22,35), and after the record that brings the current file to
 * `rotateBytes` (the kubelet rotates at containerLogMaxSize, default 10 MiB, and reads only the
 * latest file: notes §1 "Log rotation"). The kubelet checks sizes periodically, so a real file
 * can grow somewhat past the limit before it rotates; here it rotates at once.
 */
function fileStarts(e: ExecutionRecord, x: Omit<RecordIndex, 'fileStarts'>, rotateBytes: number) {
  const restarts = new Set((e.restartAtLines ?? []).filter(i => i > 0 && i < x.count))
  if (!rotateBytes) return [...restarts].sort((a, b) => a - b)
  const starts: number[] = []
  let bytes = 0
  for (let i = 0; i < x.count; i++) {
    if (restarts.has(i) && starts.at(-1) !== i) {
      starts.push(i)
      bytes = 0
    }
    bytes += Buffer.byteLength(recordText(e, x as RecordIndex, i)) + CRI_HEADER_BYTES + 1
    if (bytes >= rotateBytes && i + 1 < x.count) {
      starts.push(i + 1)
      bytes = 0
    }
  }
  return starts
}

function recordIndex(e: ExecutionRecord, options: PodLogOptions): RecordIndex {
  let x = cache.get(e)
  if (!x) {
    const records = buildRecords(e.logs)
    x = { ...records, fileStarts: fileStarts(e, records, options.rotateBytes) }
    cache.set(e, x)
  }
  return x
}

/** The last file start at or before record `last` (0 when none). */
function fileStartOf(starts: number[], last: number): number {
  let lo = 0
  let hi = starts.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (starts[mid] <= last) lo = mid + 1
    else hi = mid
  }
  return lo ? starts[lo - 1] : 0
}

/** Milliseconds (maybe fractional) as whole nanoseconds, without losing digits to floats. */
function nanos(ms: number): bigint {
  const whole = Math.floor(ms)
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6))
}

/**
 * The time record `i` (of scripted string `k`) was written, as the kubelet prints it: Go's
 * RFC3339NanoFixed, always 9 fraction digits (kubernetes pkg/kubelet/kuberuntime/logs/logs.go,
 * timeFormatOut). String k appears at running_at + k/strings of the running time (the rule of
 * visibleLogCount); adding the record's number in nanoseconds keeps every record's time distinct
 * and increasing. Deterministic: the same execution always shows the same times.
 */
function timestamp(e: ExecutionRecord, k: number, i: number): string {
  const span = nanos(Math.max(0, e.end_at - e.running_at))
  const ns =
    nanos(e.running_at) + (BigInt(k) * span) / BigInt(Math.max(1, e.logs.length)) + BigInt(i)
  const seconds = ns / 1_000_000_000n
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, '0')
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${fraction}Z`
}

/**
 * The answer of GET …/logs: the last `tail` records (0: all) of the current file, among those
 * written by `now`. The kubelet counts "\n" of the CRI file, one per record
 * (pkg/util/tail/tail.go FindTailLineStartIndex), so a tail may begin inside a long line. With
 * `timestamps` (the service asks for them: KubernetesService.java:710-726) the kubelet prefixes
 * the time of the record that begins each output line, and of the first record it sends. Since
 * kubernetes/kubernetes#113481 (fix of #77603, 2022) a partial record's continuation gets none;
 * older kubelets put one before every piece, inside the line. The service then reads the answer
 * with BufferedReader.lines() and joins with "\n" (KubernetesService.java:698): "\r", "\n" and
 * "\r\n" all end a line, and there is no final newline.
 */
export function podLogText(
  e: ExecutionRecord,
  now: number,
  tail: number,
  options: PodLogOptions & { timestamps: boolean }
): string {
  const x = recordIndex(e, options)
  const shown = visibleLogCount(e, now)
  const written = x.firstRecord ? x.firstRecord[shown] : shown
  if (!written) return ''
  const fileStart = fileStartOf(x.fileStarts, written - 1)
  const from = tail > 0 ? Math.max(fileStart, written - tail) : fileStart
  const parts: string[] = []
  for (let i = from; i < written; i++) {
    const opensLine = i === from || !x.partial?.[i - 1]
    if (options.timestamps && opensLine) parts.push(timestamp(e, x.entry?.[i] ?? i, i), ' ')
    parts.push(recordText(e, x, i))
    if (!x.partial?.[i]) parts.push('\n')
  }
  const text = parts.join('').replace(/\r\n?/g, '\n')
  return text.endsWith('\n') ? text.slice(0, -1) : text
}
