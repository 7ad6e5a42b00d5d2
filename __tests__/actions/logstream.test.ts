// LogStream and findSeam on hostile logs, against a pod log simulated in the test (the service's
// `tail_lines`: the last N lines; no final newline): every line shown exactly once and in order,
// whatever the log holds - identical lines around the seam, bursts larger than a read, a log that
// starts again, empty logs, an incomplete last line that grows, CRLF, very long lines - and what
// that costs in lines read. The same invariant through HTTP and the bundles: run-and-wait's tests.
import type { ActionContext } from '../../src/actions/runtime.js'
import { LogStream } from '../../src/actions/logstream.js'
import { findSeam, ShownLines, withoutStamp } from '../../src/core/logseam.js'

/** A pod's log as the service answers it: lines joined by \n, the last `n` when asked. */
class PodLog {
  lines: string[] = []
  /** The last line is still being written (no newline yet). */
  partial = false
  reads: Array<number | undefined> = []
  /** The log's length at each whole read. */
  wholeReads: number[] = []
  linesSent = 0
  fail?: Error

  /** Records of the runtime per line: tail_lines counts records (a line over 16 KiB is several). */
  recordsPerLine = 1

  write(...lines: string[]): void {
    if (this.partial) {
      this.lines[this.lines.length - 1] += lines.shift() ?? ''
      this.partial = false
    }
    this.lines.push(...lines)
  }

  read = (n: number | undefined): Promise<string> => {
    this.reads.push(n)
    if (!(n && n > 0)) this.wholeReads.push(this.lines.length)
    if (this.fail) return Promise.reject(this.fail)
    const sent = n && n > 0 ? this.lines.slice(-Math.ceil(n / this.recordsPerLine)) : this.lines
    this.linesSent += sent.length
    return Promise.resolve(sent.join('\n'))
  }
}

/** Writes `lines` to the pod's log and to `all`, the lines a follower must show. */
function write(pod: PodLog, all: string[], lines: string[]): void {
  pod.write(...lines)
  all.push(...lines)
}

/** An ActionContext that records what is shown, on a clock the test moves. */
function context() {
  const shown: string[] = []
  const info: string[] = []
  let now = 1_000_000
  const ctx = {
    clock: () => now,
    signal: new AbortController().signal,
    info: (line: string) => info.push(line),
    group: (_title: string, lines: string[]) => shown.push(...lines)
  } as unknown as ActionContext
  return { ctx, shown, info, advance: (ms: number) => (now += ms) }
}

function follow(pod: PodLog, mode: 'stream' | 'on-failure' = 'stream') {
  const c = context()
  const stream = new LogStream(c.ctx, 'ex-1', mode, n => pod.read(n))
  return { ...c, stream }
}

/** A seeded generator (mulberry32): the same cases on every run. */
function seeded(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A line as the real service sends it: a kubelet timestamp (RFC3339Nano), then the text. */
const stamp = (i: number, text = `line ${i}`): string =>
  `2026-12-04T10:00:00.${String(i).padStart(9, '0')}Z ${text}`

/** A line stamped `ms` after 09:00 by the node's clock (to the millisecond, padded to nine digits). */
const at = (ms: number, text: string): string =>
  `${new Date(Date.UTC(2026, 11, 4, 9) + ms).toISOString().replace('Z', '000000Z')} ${text}`

describe('findSeam', () => {
  const shown = (...lines: string[]): ShownLines => {
    const s = new ShownLines()
    s.add(lines)
    return s
  }

  it('places the seam after the lines shown, inside a run by its length', () => {
    expect(findSeam(shown(stamp(1), stamp(2), stamp(3)), [stamp(2), stamp(3), stamp(4)])).toEqual({
      kind: 'at',
      at: 2
    })
    expect(findSeam(shown('a', 'x', 'x'), ['a', 'x', 'x', 'x', 'y'])).toEqual({ kind: 'at', at: 3 })
  })

  it('places lines without timestamps only over enough of them', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `v${i % 2}`)
    lines.push('end')
    // 10 old lines alternating v0/v1 match by chance anywhere: not enough to place
    expect(findSeam(shown(...lines), [...lines.slice(-10), 'v0', 'v1'])).toEqual({ kind: 'none' })
    expect(findSeam(shown(...lines), [...lines.slice(-40), 'new'])).toEqual({ kind: 'at', at: 40 })
  })

  it('does not place a read that begins inside the last run of identical lines', () => {
    expect(findSeam(shown('a', 'x', 'x'), ['x', 'x', 'x', 'y'])).toEqual({ kind: 'none' })
  })

  it('says ambiguous when the lines shown end in two places', () => {
    expect(findSeam(shown('a', 'b', 'a', 'b'), ['a', 'b', 'a', 'b', 'c'])).toEqual({
      kind: 'at',
      at: 4
    })
    const twice = [stamp(1, 'a'), stamp(2, 'b')]
    const s = shown(...twice, ...twice)
    expect(findSeam(s, [...twice, ...twice, 'c'])).toEqual({
      kind: 'ambiguous'
    })
  })

  it('says none when the read does not reach the lines shown', () => {
    expect(findSeam(shown('a', 'b'), ['c', 'd'])).toEqual({ kind: 'none' })
    expect(findSeam(new ShownLines(), ['c'])).toEqual({ kind: 'none' })
  })

  it('takes a first line that is the end of a long line split by the kubelet', () => {
    const long = stamp(2, 'y'.repeat(100))
    const s = shown(stamp(1), long, stamp(3))
    // the kubelet begins the fragment with a timestamp of its own (kubernetes #113481)
    const fragment = stamp(7, 'y'.repeat(40))
    expect(findSeam(s, [fragment, stamp(3), stamp(4)])).toEqual({ kind: 'at', at: 2 })
    expect(findSeam(s, ['y'.repeat(40), stamp(3), stamp(4)])).toEqual({ kind: 'at', at: 2 })
  })

  it('refuses a read that goes back further than the whole log shown', () => {
    expect(findSeam(shown('x'), ['w', 'x', 'y'])).toEqual({ kind: 'none' })
  })

  it('compares without kubelet timestamps when told to', () => {
    const s = shown('2026-12-04T10:00:00.000000001Z a', '2026-12-04T10:00:00.000000002Z b')
    expect(findSeam(s, ['a', 'b', 'c'], withoutStamp)).toEqual({ kind: 'at', at: 2 })
  })
})

describe('LogStream: every line once, in order', () => {
  it.each([
    ['with kubelet timestamps', 100, (i: number) => stamp(i)],
    ['without timestamps', 300, (i: number) => `line ${i}`]
  ])('streams a growing log %s with reads of about its new lines', async (_, perLook, line) => {
    const pod = new PodLog()
    const f = follow(pod)
    const all: string[] = []
    for (let look = 0; look < 20_000 / perLook; look++) {
      const lines = Array.from({ length: perLook }, (_, i) => line(look * perLook + i))
      write(pod, all, lines)
      await f.stream.look()
      f.advance(5000)
    }
    await f.stream.look(true)
    expect(f.shown).toEqual(all)
    // reads of about the new lines: the whole log is 20,000 lines
    expect(pod.linesSent / all.length).toBeLessThan(1.5)
    expect(pod.reads.filter(n => n === undefined).length).toBeLessThanOrEqual(2)
  })

  it('with kubelet times, reads a tail from the second look on: the first read gives the rate', async () => {
    // 100 lines a second, each stamped when written (the node's clock, not the runner's)
    const pod = new PodLog()
    const f = follow(pod)
    const all: string[] = []
    let n = 0
    const writeFor = (seconds: number): void =>
      write(
        pod,
        all,
        Array.from({ length: seconds * 100 }, () => at(n * 10, `line ${n++}`))
      )
    writeFor(50)
    await f.stream.look()
    for (let look = 0; look < 10; look++) {
      f.advance(5000)
      writeFor(5)
      await f.stream.look()
    }
    await f.stream.look(true)
    expect(f.shown).toEqual(all)
    // the first look reads the log whole (5,000 lines), every later one about 500 new lines
    expect(pod.wholeReads).toEqual([5000])
    const tails = pod.reads.slice(1, -1)
    expect(tails).toHaveLength(10)
    expect(tails.every(r => r !== undefined && r >= 500 && r < 700)).toBe(true)
    // the last look, at once after one: a few lines
    expect(pod.reads.at(-1)).toBeLessThan(50)
    expect(pod.linesSent).toBeLessThan(5000 + 11 * 700)
  })

  it('with kubelet times, a burst at the start of the log is not expected again', async () => {
    const pod = new PodLog()
    const f = follow(pod)
    const all: string[] = []
    // 20,000 lines in the first 200 ms, then 10 a second; looks every 5 s from 20 s on
    write(
      pod,
      all,
      Array.from({ length: 20_000 }, (_, i) => at(i / 100, `start ${i}`))
    )
    let t = 200
    const writeUntil = (end: number): void => {
      for (; t < end; t += 100) write(pod, all, [at(t, `line at ${t}`)])
    }
    writeUntil(20_000)
    await f.stream.look()
    for (let look = 0; look < 10; look++) {
      f.advance(5000)
      writeUntil(t + 5000)
      await f.stream.look()
    }
    await f.stream.look(true)
    expect(f.shown).toEqual(all)
    // one whole read; after it, reads of about the 50 new lines, not of the 20,000 of the burst
    expect(pod.wholeReads).toHaveLength(1)
    expect(pod.reads.slice(1).every(n => n !== undefined && n < 200)).toBe(true)
  })

  it('a log that comes in bursts after quiet looks costs a few times its size, not its square', async () => {
    const pod = new PodLog()
    const f = follow(pod)
    const all: string[] = []
    for (let burst = 0; burst < 20; burst++) {
      const lines = Array.from({ length: 1000 }, (_, i) => stamp(burst * 1000 + i))
      write(pod, all, lines)
      for (let look = 0; look < 6; look++) {
        await f.stream.look()
        f.advance(5000)
      }
    }
    await f.stream.look(true)
    expect(f.shown).toEqual(all)
    // whole reads only while the log is small (a wider read would be about as big), then
    // tail_lines only
    expect(pod.wholeReads.every(size => size <= 5000)).toBe(true)
    // each burst is found by reads twice as wide each time, and the looks after it expect more
    // for a while: a few times the log, against 55 times with whole reads
    expect(pod.linesSent / all.length).toBeLessThan(5)
  })

  it('holds identical lines around the seam, and a burst larger than a read', async () => {
    const pod = new PodLog()
    const f = follow(pod)
    const all: string[] = []
    write(pod, all, ['start', 'x', 'x'])
    await f.stream.look()
    write(pod, all, ['x', 'x', 'x'])
    await f.stream.look()
    write(pod, all, [...Array<string>(5000).fill('x'), 'end of burst'])
    f.advance(1000)
    await f.stream.look()
    write(pod, all, ['x', 'x'])
    await f.stream.look()
    await f.stream.look(true)
    expect(f.shown).toEqual(all)
  })

  it('shows the held-back last line once, after it grew', async () => {
    const pod = new PodLog()
    const f = follow(pod)
    pod.write('a', 'progress 10%')
    pod.partial = true
    await f.stream.look()
    expect(f.shown).toEqual(['a'])
    pod.write(' 100%', 'b')
    await f.stream.look()
    await f.stream.look(true)
    expect(f.shown).toEqual(['a', 'progress 10% 100%', 'b'])
  })

  it('says when the log starts again and shows the new one whole', async () => {
    const pod = new PodLog()
    const f = follow(pod)
    pod.write('a', 'b', 'c')
    await f.stream.look()
    pod.lines = ['A', 'B']
    await f.stream.look()
    await f.stream.look(true)
    // the last line of the log before (held back) is shown before the new log
    expect(f.shown).toEqual(['a', 'b', 'c', 'A', 'B'])
    expect(f.info.join('\n')).toContain('starts again')
  })

  it('a log of one line that starts again: the line is shown, and the new log after it', async () => {
    const pod = new PodLog()
    const f = follow(pod)
    pod.write(stamp(1, 'starting'))
    await f.stream.look()
    // the container failed and started again: a new log
    pod.lines = [stamp(2, 'starting again'), stamp(3, 'work')]
    await f.stream.look()
    await f.stream.look(true)
    expect(f.shown).toEqual([stamp(1, 'starting'), stamp(2, 'starting again'), stamp(3, 'work')])
    expect(f.info).toEqual([expect.stringContaining('starts again')])
  })

  it('after a rotation, goes on after the lines shown', async () => {
    const pod = new PodLog()
    const f = follow(pod)
    pod.write(...Array.from({ length: 50 }, (_, i) => stamp(i)))
    await f.stream.look()
    pod.lines = pod.lines.slice(40)
    pod.write(stamp(50), stamp(51))
    await f.stream.look(true)
    expect(f.shown).toEqual(Array.from({ length: 52 }, (_, i) => stamp(i)))
    expect(f.info).toEqual([])
  })

  it('reads nothing more from an empty log, and shows nothing', async () => {
    const pod = new PodLog()
    const f = follow(pod)
    await f.stream.look()
    await f.stream.look(true)
    f.stream.flush()
    expect(f.shown).toEqual([])
  })

  it('splits CRLF and keeps very long lines whole', async () => {
    const pod = new PodLog()
    const f = follow(pod)
    const long = 'z'.repeat(300_000)
    pod.lines = ['a\r', long]
    await f.stream.look(true)
    expect(f.shown).toEqual(['a', long])
  })

  it('says once that the logs cannot be read, and goes on when they can', async () => {
    const pod = new PodLog()
    const f = follow(pod)
    pod.fail = new Error('HTTP 503')
    await f.stream.look()
    await f.stream.look()
    expect(f.info.filter(l => l.includes('logs unavailable'))).toHaveLength(1)
    pod.fail = undefined
    pod.write('a', 'b')
    await f.stream.look(true)
    expect(f.shown).toEqual(['a', 'b'])
  })

  it('on-failure keeps only the last lines, with bounded reads', async () => {
    const pod = new PodLog()
    const f = follow(pod, 'on-failure')
    for (let i = 0; i < 10; i++) {
      pod.write(...Array.from({ length: 1000 }, (_, j) => `${i}-${j}`))
      await f.stream.look()
    }
    expect(pod.reads.every(n => n === 20)).toBe(true)
    expect(f.stream.tail).toEqual(pod.lines.slice(-20))
    expect(f.shown).toEqual([])
  })

  it('lines of several records each (over 16 KiB) are still read by their new lines', async () => {
    const pod = new PodLog()
    pod.recordsPerLine = 3
    const f = follow(pod)
    const all: string[] = []
    for (let look = 0; look < 50; look++) {
      const lines = Array.from({ length: 20 }, (_, i) => stamp(look * 20 + i))
      write(pod, all, lines)
      await f.stream.look()
      f.advance(5000)
    }
    await f.stream.look(true)
    expect(f.shown).toEqual(all)
    expect(pod.wholeReads.length).toBeLessThanOrEqual(4)
  })

  it('a log file rotated at the last line shown, or at the held-back one: no line twice', async () => {
    for (const at of [2, 3]) {
      const pod = new PodLog()
      const f = follow(pod)
      pod.write(...[1, 2, 3].map(i => stamp(i)))
      await f.stream.look()
      // lines 1 and 2 shown, 3 held back; the new file begins at line `at`
      pod.lines = pod.lines.slice(at - 1)
      pod.write(stamp(4))
      await f.stream.look(true)
      expect(f.shown).toEqual([1, 2, 3, 4].map(i => stamp(i)))
      expect(f.info).toEqual([])
    }
  })

  it('times to the second are not taken for the kubelet times that make lines unique', () => {
    const s = new ShownLines()
    const t = '2026-12-04T10:00:00Z '
    s.add([`${t}x`, `${t}a`, `${t}b`])
    expect(findSeam(s, [`${t}a`, `${t}b`, `${t}d`])).toEqual({ kind: 'none' })
  })

  it('keeps an empty last line of the log', async () => {
    const pod = new PodLog()
    const f = follow(pod)
    pod.lines = ['a', '', '']
    await f.stream.look(true)
    expect(f.shown).toEqual(['a', '', ''])
  })

  it('from a log store, a seam inside a long run of the same text is not guessed', async () => {
    const pod = new PodLog()
    const f = follow(pod)
    const lines = [
      stamp(0, 'start'),
      ...Array.from({ length: 105 }, (_, i) => stamp(i + 1, 'heartbeat'))
    ]
    pod.write(...lines)
    await f.stream.look()
    const store = ['start', ...Array<string>(105).fill('heartbeat'), 'done']
    expect(f.stream.fromStore(store)).toBe(false)
    f.stream.flush()
    expect(f.shown).toEqual(lines)
  })

  it('holds on random hostile logs (seeded): identical lines, bursts, looks at any time', async () => {
    const random = seeded(20261204)
    for (let round = 0; round < 200; round++) {
      const pod = new PodLog()
      const f = follow(pod)
      const all: string[] = []
      const alphabet = 1 + Math.floor(random() * 3)
      const looks = 5 + Math.floor(random() * 30)
      for (let look = 0; look < looks; look++) {
        const burst = random() < 0.1 ? Math.floor(random() * 3000) : Math.floor(random() * 40)
        const lines = Array.from({ length: burst }, () => `v${Math.floor(random() * alphabet)}`)
        write(pod, all, lines)
        f.advance(Math.floor(random() * 10_000))
        const before = f.shown.length
        await f.stream.look()
        if (f.shown.some((l, i) => l !== all[i]))
          throw new Error(
            `round ${round} look ${look}: shown ${before} -> ${f.shown.length}, log ${all.length}, read ${pod.reads.at(-1)}; log tail ${all.slice(before - 10, before + 5).join(',')} / shown ${f.shown.slice(before - 10, before + 5).join(',')}`
          )
      }
      await f.stream.look(true)
      if (f.shown.join('|') !== all.join('|'))
        throw new Error(
          `round ${round}: shown ${f.shown.length} lines, written ${all.length} ${f.info.join(';')} ${JSON.stringify(pod.reads)} first diff ${f.shown.findIndex((l, i) => l !== all[i])}`
        )
    }
  })
})
