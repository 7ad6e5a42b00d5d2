// poll(): the loop's timing under an injected clock and sleep (no real time passes), its three
// endings (done, timeout, aborted), its checks of the options; and realSleep, the default sleep,
// under jest's fake timers.
import { jest } from '@jest/globals'
import { poll, realSleep, type PollOptions } from '../../src/core/poll.js'

const START = 1_700_000_000_000

/** A fake clock, and a sleep that advances it by the delay asked and records each delay. */
function fakeTime() {
  let now = START
  const sleeps: number[] = []
  const signals: Array<AbortSignal | undefined> = []
  return {
    sleeps,
    signals,
    clock: (): number => now,
    /** Milliseconds since START. */
    elapsed: (): number => now - START,
    advance(ms: number): void {
      now += ms
    },
    sleep(ms: number, signal?: AbortSignal): Promise<void> {
      sleeps.push(ms)
      signals.push(signal)
      now += ms
      return Promise.resolve()
    }
  }
}

/** A probe that is done at attempt `doneAt` (never when undefined), recording when each started. */
function counter(time: ReturnType<typeof fakeTime>, doneAt?: number, tookMs = 0) {
  const startedAt: number[] = []
  const attempts: number[] = []
  const probe = (attempt: number): Promise<{ done: boolean; value: string }> => {
    attempts.push(attempt)
    startedAt.push(time.elapsed())
    time.advance(tookMs)
    return Promise.resolve({ done: attempt === doneAt, value: `value ${attempt}` })
  }
  return { probe, startedAt, attempts }
}

describe('poll with an injected clock and sleep', () => {
  test('sleeps the interval between probes, and ends with the value and the attempts of the probe that is done', async () => {
    const time = fakeTime()
    const { probe, startedAt, attempts } = counter(time, 4)
    const result = await poll({
      probe,
      intervalMs: 250,
      timeoutMs: 60_000,
      clock: time.clock,
      sleep: time.sleep
    })
    expect(result).toEqual({ reason: 'done', value: 'value 4', attempts: 4, elapsedMs: 750 })
    expect(time.sleeps).toEqual([250, 250, 250])
    expect(startedAt).toEqual([0, 250, 500, 750])
    expect(attempts).toEqual([1, 2, 3, 4])
  })

  test('with jitter: the first probe within one interval, each next after 1 to 1.25 intervals', async () => {
    const time = fakeTime()
    const { probe, startedAt } = counter(time, 5)
    const draws = [0.5, 0, 0.999, 0.2, 1 / 3]
    await poll({
      probe,
      intervalMs: 1000,
      timeoutMs: 60_000,
      clock: time.clock,
      sleep: time.sleep,
      jitter: { random: () => draws.shift() ?? 0 }
    })
    // (to the microsecond: the schedule adds up pauses, and their sums' last bits differ)
    expect(time.sleeps.map(ms => Math.round(ms * 1000) / 1000)).toEqual([
      500, 1000, 1249.75, 1050, 1083.333
    ])
    expect(startedAt[0]).toBe(500)
    // never two probes within one interval
    for (let i = 1; i < startedAt.length; i++)
      expect(startedAt[i] - startedAt[i - 1]).toBeGreaterThanOrEqual(1000)
  })

  test('with jitter, a late probe does not move the next ones: pollers held by one stall stay apart', async () => {
    // two pollers due 400 ms apart, each 1000 ms (no spread drawn); a stall of the service holds
    // the second probe of each until 3500: they end together, but the next ones keep their times
    const stall = 3500
    const pollerDueAt = async (first: number): Promise<number[]> => {
      const time = fakeTime()
      const startedAt: number[] = []
      await poll({
        probe: attempt => {
          startedAt.push(time.elapsed())
          if (attempt === 2) time.advance(stall - time.elapsed())
          return Promise.resolve({ done: attempt === 4, value: attempt })
        },
        intervalMs: 1000,
        timeoutMs: 60_000,
        clock: time.clock,
        sleep: time.sleep,
        jitter: { random: () => 0 }
      }).then(() => undefined)
      return startedAt.map(t => t + first)
    }
    // the first probe of each is due at `first`: a poller started that much later (random 0)
    const a = await pollerDueAt(0)
    const b = await pollerDueAt(400)
    expect(a).toEqual([0, 1000, 4000, 5000])
    expect(b).toEqual([400, 1400, 4400, 5400])
  })

  test('with jitter, a probe that started late keeps one interval to the next, and Retry-After spreads', async () => {
    const time = fakeTime()
    const startedAt: number[] = []
    let late = 0
    await poll({
      probe: attempt => {
        startedAt.push(time.elapsed())
        // the runner wakes the second probe 700 ms late (a busy machine)
        late = attempt === 1 ? 700 : 0
        return Promise.resolve({ done: attempt === 5, value: attempt })
      },
      intervalMs: 1000,
      timeoutMs: 60_000,
      clock: time.clock,
      sleep: (ms, signal) => time.sleep(ms + late, signal),
      jitter: { random: () => 0.5 },
      // the service asked (once, during the third probe) for no request before 6200
      notBefore: () => (startedAt.length >= 3 ? START + 6200 : 0)
    })
    // due at 500 (0.5 of an interval), then every 1125 (1 + 0.25 x 0.5 intervals): 1625 (woken
    // at 2325), 2750 (within an interval of 2325: the next, 3875), 5000 and 6125 (before the time
    // asked: the next of its own times after it, 7250), 8375
    expect(startedAt).toEqual([500, 2325, 3875, 7250, 8375])
    for (let i = 1; i < startedAt.length; i++)
      expect(startedAt[i] - startedAt[i - 1]).toBeGreaterThanOrEqual(1000)
  })

  test('with jitter, a request the probe sent again (a retry) keeps one interval to the next probe', async () => {
    const time = fakeTime()
    const sent: number[] = []
    let resent = -Infinity
    await poll({
      probe: attempt => {
        sent.push(time.elapsed())
        if (attempt === 2) {
          // answered 503, and sent again by the transport 4940 ms later
          time.advance(4940)
          resent = time.clock()
          sent.push(time.elapsed())
        }
        return Promise.resolve({ done: attempt === 4, value: attempt })
      },
      intervalMs: 5000,
      timeoutMs: 60_000,
      clock: time.clock,
      sleep: time.sleep,
      jitter: { random: () => 0 },
      resentAt: () => resent
    })
    // due 0, 5000, 10000 (within an interval of the retry at 9940: the next, 15000), 20000
    expect(sent).toEqual([0, 5000, 9940, 15000, 20000])
  })

  test('with jitter, a probe woken a few milliseconds late keeps its next time, one interval after it', async () => {
    const time = fakeTime()
    const startedAt: number[] = []
    await poll({
      probe: attempt => {
        startedAt.push(time.elapsed())
        return Promise.resolve({ done: attempt === 4, value: attempt })
      },
      intervalMs: 1000,
      timeoutMs: 60_000,
      clock: time.clock,
      // every timer fires 4 ms late, and no spread is drawn: each look is due an interval on
      sleep: (ms, signal) => time.sleep(ms + 4, signal),
      jitter: { random: () => 0 }
    })
    // not a look skipped each time for 4 ms: one interval after the one before began
    expect(startedAt).toEqual([4, 1008, 2012, 3016])
  })

  test('with jitter, far behind its times (a long stall, a distant Retry-After): within one interval after, at once', async () => {
    for (const draw of [0, 0.5, 0.999]) {
      const time = fakeTime()
      const { probe, startedAt } = counter(time, 3)
      let randoms = 0
      await poll({
        probe: attempt => {
          // the first probe is held 60 s by a stalled service
          if (attempt === 1) time.advance(60_000)
          return probe(attempt)
        },
        intervalMs: 1000,
        timeoutMs: 600_000,
        clock: time.clock,
        sleep: time.sleep,
        jitter: {
          random: () => {
            randoms++
            return draw
          }
        }
      })
      // the first probe at `draw` of an interval, held until 60 s later; the next at `draw` of an
      // interval after that
      expect(startedAt[1]).toBe(60_000 + 2 * 1000 * draw)
      // the first pause, and one draw per probe after it: no catching up over the 60 intervals
      expect(randoms).toBe(3)
    }
  })

  test('with jitter, an interval too small to count at the scale of the clock still ends', async () => {
    const time = fakeTime()
    const { probe, startedAt } = counter(time, undefined, 50)
    const result = await poll({
      probe,
      intervalMs: 1e-15,
      timeoutMs: 1000,
      clock: time.clock,
      sleep: (ms, signal) => time.sleep(Math.max(1, ms), signal),
      jitter: { random: () => 0.5 }
    })
    expect(result.reason).toBe('timeout')
    expect(startedAt.length).toBeGreaterThan(10)
  })

  test('with jitter, a clock set back during a probe moves the schedule back with it', async () => {
    const time = fakeTime()
    const startedAt: number[] = []
    const slept: number[] = []
    await poll({
      probe: attempt => {
        startedAt.push(time.elapsed())
        // the machine's clock is set back 10 minutes during the third probe
        if (attempt === 3) time.advance(-600_000)
        return Promise.resolve({ done: attempt === 5, value: attempt })
      },
      intervalMs: 1000,
      timeoutMs: 60_000,
      clock: time.clock,
      sleep: (ms, signal) => {
        slept.push(ms)
        return time.sleep(ms, signal)
      },
      jitter: { random: () => 0 }
    })
    // the first pause (0), then one interval each time, also after the step back
    expect(slept).toEqual([0, 1000, 1000, 1000, 1000])
    expect(startedAt).toEqual([0, 1000, 2000, 2000 - 600_000 + 1000, 2000 - 600_000 + 2000])
  })

  test('waits until the time the service asked for (Retry-After), beyond the interval', async () => {
    const time = fakeTime()
    const { probe, startedAt } = counter(time, 3)
    await poll({
      probe,
      intervalMs: 1000,
      timeoutMs: 60_000,
      clock: time.clock,
      sleep: time.sleep,
      notBefore: () => START + 7000
    })
    expect(startedAt).toEqual([0, 7000, 8000])
  })

  test('a probe that is done at once: one attempt, no sleep', async () => {
    const time = fakeTime()
    const result = await poll({
      probe: () => Promise.resolve({ done: true, value: { id: 'x' } }),
      intervalMs: 1000,
      timeoutMs: 5000,
      clock: time.clock,
      sleep: time.sleep
    })
    expect(result).toEqual({ reason: 'done', value: { id: 'x' }, attempts: 1, elapsedMs: 0 })
    expect(time.sleeps).toEqual([])
  })

  test('the time a probe takes counts in the elapsed time, not against the interval', async () => {
    const time = fakeTime()
    const { probe, startedAt } = counter(time, 3, 40)
    const result = await poll({
      probe,
      intervalMs: 100,
      timeoutMs: 10_000,
      clock: time.clock,
      sleep: time.sleep
    })
    expect(time.sleeps).toEqual([100, 100])
    expect(startedAt).toEqual([0, 140, 280])
    expect(result).toEqual({ reason: 'done', value: 'value 3', attempts: 3, elapsedMs: 320 })
  })

  test('with a factor the interval grows after each probe up to maxIntervalMs', async () => {
    const time = fakeTime()
    const { probe } = counter(time, 8)
    const result = await poll({
      probe,
      intervalMs: 100,
      factor: 2,
      maxIntervalMs: 1000,
      timeoutMs: 60_000,
      clock: time.clock,
      sleep: time.sleep
    })
    expect(time.sleeps).toEqual([100, 200, 400, 800, 1000, 1000, 1000])
    expect(result).toEqual({ reason: 'done', value: 'value 8', attempts: 8, elapsedMs: 4500 })
  })

  test('a fractional factor grows the interval in steps that reach the cap exactly', async () => {
    const time = fakeTime()
    const { probe } = counter(time, 5)
    await poll({
      probe,
      intervalMs: 1000,
      factor: 1.5,
      maxIntervalMs: 3000,
      timeoutMs: 60_000,
      clock: time.clock,
      sleep: time.sleep
    })
    expect(time.sleeps).toEqual([1000, 1500, 2250, 3000])
  })

  test('a factor without maxIntervalMs does not grow the interval (the cap defaults to intervalMs)', async () => {
    const time = fakeTime()
    const { probe } = counter(time, 4)
    await poll({
      probe,
      intervalMs: 100,
      factor: 3,
      timeoutMs: 60_000,
      clock: time.clock,
      sleep: time.sleep
    })
    expect(time.sleeps).toEqual([100, 100, 100])
  })

  test('a maxIntervalMs below intervalMs never shortens the interval', async () => {
    const time = fakeTime()
    const { probe } = counter(time, 3)
    await poll({
      probe,
      intervalMs: 500,
      factor: 2,
      maxIntervalMs: 100,
      timeoutMs: 60_000,
      clock: time.clock,
      sleep: time.sleep
    })
    expect(time.sleeps).toEqual([500, 500])
  })

  test('the deadline ends it with timeout and the last value; the last sleep is cut to the time left', async () => {
    const time = fakeTime()
    const { probe, startedAt } = counter(time)
    const result = await poll({
      probe,
      intervalMs: 300,
      timeoutMs: 1000,
      clock: time.clock,
      sleep: time.sleep
    })
    expect(result).toEqual({ reason: 'timeout', last: 'value 4', attempts: 4, elapsedMs: 1000 })
    expect(time.sleeps).toEqual([300, 300, 300, 100])
    // no probe at (or after) the deadline, and no sleep beyond it
    expect(startedAt).toEqual([0, 300, 600, 900])
    expect(time.sleeps.reduce((a, b) => a + b, 0)).toBe(1000)
  })

  test('a growing interval is cut at the deadline too', async () => {
    const time = fakeTime()
    const { probe, startedAt } = counter(time)
    const result = await poll({
      probe,
      intervalMs: 1000,
      factor: 2,
      maxIntervalMs: 8000,
      timeoutMs: 10_000,
      clock: time.clock,
      sleep: time.sleep
    })
    expect(time.sleeps).toEqual([1000, 2000, 4000, 3000])
    expect(startedAt).toEqual([0, 1000, 3000, 7000])
    expect(result).toMatchObject({ reason: 'timeout', last: 'value 4', attempts: 4 })
    expect(result.elapsedMs).toBe(10_000)
  })

  test('a probe that runs past the deadline ends it without another sleep or probe', async () => {
    const time = fakeTime()
    const { probe, startedAt } = counter(time, undefined, 600)
    const result = await poll({
      probe,
      intervalMs: 300,
      timeoutMs: 1000,
      clock: time.clock,
      sleep: time.sleep
    })
    // probe 1: 0 → 600, sleep 300 → 900; probe 2: 900 → 1500, past the deadline: the end
    expect(startedAt).toEqual([0, 900])
    expect(time.sleeps).toEqual([300])
    expect(result).toEqual({ reason: 'timeout', last: 'value 2', attempts: 2, elapsedMs: 1500 })
  })

  test('a probe that ends exactly at the deadline is the last one', async () => {
    const time = fakeTime()
    const { probe } = counter(time, undefined, 500)
    const result = await poll({
      probe,
      intervalMs: 500,
      timeoutMs: 1500,
      clock: time.clock,
      sleep: time.sleep
    })
    // probe 1: 0 → 500, sleep → 1000; probe 2: 1000 → 1500 = the deadline
    expect(time.sleeps).toEqual([500])
    expect(result).toEqual({ reason: 'timeout', last: 'value 2', attempts: 2, elapsedMs: 1500 })
  })

  test('timeoutMs 0 probes exactly once', async () => {
    const time = fakeTime()
    const { probe, attempts } = counter(time)
    const result = await poll({
      probe,
      intervalMs: 100,
      timeoutMs: 0,
      clock: time.clock,
      sleep: time.sleep
    })
    expect(attempts).toEqual([1])
    expect(time.sleeps).toEqual([])
    expect(result).toEqual({ reason: 'timeout', last: 'value 1', attempts: 1, elapsedMs: 0 })
  })

  test('timeoutMs 0 with a probe that is done: done', async () => {
    const time = fakeTime()
    const result = await poll({
      probe: () => Promise.resolve({ done: true, value: 7 }),
      intervalMs: 100,
      timeoutMs: 0,
      clock: time.clock,
      sleep: time.sleep
    })
    expect(result).toEqual({ reason: 'done', value: 7, attempts: 1, elapsedMs: 0 })
  })

  test('a signal aborted before the start: aborted, no probe, no sleep', async () => {
    const time = fakeTime()
    const { probe, attempts } = counter(time)
    const controller = new AbortController()
    controller.abort()
    const result = await poll({
      probe,
      intervalMs: 100,
      timeoutMs: 10_000,
      signal: controller.signal,
      clock: time.clock,
      sleep: time.sleep
    })
    expect(result).toEqual({ reason: 'aborted', last: undefined, attempts: 0, elapsedMs: 0 })
    expect(attempts).toEqual([])
    expect(time.sleeps).toEqual([])
  })

  test('an abort during a sleep ends it as aborted, with the last value, before another probe', async () => {
    const time = fakeTime()
    const { probe, attempts } = counter(time)
    const controller = new AbortController()
    const sleep = (ms: number, signal?: AbortSignal): Promise<void> => {
      // the second sleep is cut short by the abort: half of it passes
      if (time.sleeps.length === 1) {
        time.sleeps.push(ms)
        time.signals.push(signal)
        time.advance(ms / 2)
        controller.abort()
        return Promise.resolve()
      }
      return time.sleep(ms, signal)
    }
    const result = await poll({
      probe,
      intervalMs: 200,
      timeoutMs: 10_000,
      signal: controller.signal,
      clock: time.clock,
      sleep
    })
    expect(result).toEqual({ reason: 'aborted', last: 'value 2', attempts: 2, elapsedMs: 300 })
    expect(attempts).toEqual([1, 2])
    expect(time.sleeps).toEqual([200, 200])
    // the sleep is handed the signal, so that it can wake early
    expect(time.signals).toEqual([controller.signal, controller.signal])
  })

  test('an abort during the last sleep before the deadline is still reported as aborted', async () => {
    const time = fakeTime()
    const { probe } = counter(time)
    const controller = new AbortController()
    const result = await poll({
      probe,
      intervalMs: 1000,
      timeoutMs: 1000,
      signal: controller.signal,
      clock: time.clock,
      sleep: async (ms, signal) => {
        await time.sleep(ms, signal)
        controller.abort()
      }
    })
    expect(result).toEqual({ reason: 'aborted', last: 'value 1', attempts: 1, elapsedMs: 1000 })
  })

  test('an abort during a probe ends it as aborted after that probe, without a sleep', async () => {
    const time = fakeTime()
    const controller = new AbortController()
    const attempts: number[] = []
    const probe = (attempt: number): Promise<{ done: boolean; value: number }> => {
      attempts.push(attempt)
      time.advance(10)
      if (attempt === 3) controller.abort()
      return Promise.resolve({ done: false, value: attempt })
    }
    const result = await poll({
      probe,
      intervalMs: 100,
      timeoutMs: 10_000,
      signal: controller.signal,
      clock: time.clock,
      sleep: time.sleep
    })
    expect(result).toEqual({ reason: 'aborted', last: 3, attempts: 3, elapsedMs: 230 })
    expect(attempts).toEqual([1, 2, 3])
    expect(time.sleeps).toEqual([100, 100])
  })

  test('a probe that is done wins over an abort that came during it', async () => {
    const time = fakeTime()
    const controller = new AbortController()
    const result = await poll({
      probe: () => {
        controller.abort()
        return Promise.resolve({ done: true, value: 'finished' })
      },
      intervalMs: 100,
      timeoutMs: 10_000,
      signal: controller.signal,
      clock: time.clock,
      sleep: time.sleep
    })
    expect(result).toEqual({ reason: 'done', value: 'finished', attempts: 1, elapsedMs: 0 })
  })

  test('a probe that throws ends the poll with its error', async () => {
    const time = fakeTime()
    const boom = new Error('probe failed')
    await expect(
      poll({
        probe: attempt =>
          attempt === 2 ? Promise.reject(boom) : Promise.resolve({ done: false, value: attempt }),
        intervalMs: 100,
        timeoutMs: 10_000,
        clock: time.clock,
        sleep: time.sleep
      })
    ).rejects.toBe(boom)
    expect(time.sleeps).toEqual([100])
  })

  const base: PollOptions<number> = {
    probe: () => Promise.resolve({ done: true, value: 1 }),
    intervalMs: 100,
    timeoutMs: 1000
  }
  test.each<[string, Partial<PollOptions<number>>]>([
    ['intervalMs 0', { intervalMs: 0 }],
    ['a negative intervalMs', { intervalMs: -5 }],
    ['intervalMs NaN', { intervalMs: NaN }],
    ['a negative timeoutMs', { timeoutMs: -1 }],
    ['an infinite timeoutMs', { timeoutMs: Infinity }],
    ['timeoutMs NaN', { timeoutMs: NaN }]
  ])('%s is a RangeError, before any probe', async (_what, bad) => {
    let probed = 0
    const probe = (attempt: number) => {
      probed++
      return base.probe(attempt)
    }
    await expect(poll({ ...base, ...bad, probe })).rejects.toThrow(RangeError)
    expect(probed).toBe(0)
  })
})

describe('realSleep', () => {
  // Node's timers under jest's fake clock: time passes only when a test moves it
  beforeEach(() => jest.useFakeTimers())
  afterEach(() => jest.useRealTimers())

  /** Whether `p` has settled, after the microtasks queued so far have run. */
  const settled = async (p: Promise<unknown>): Promise<boolean> => {
    let done = false
    void p.then(() => (done = true))
    await Promise.resolve()
    await Promise.resolve()
    return done
  }

  test('resolves once the time asked has passed, not before', async () => {
    const sleeping = realSleep(30)
    await jest.advanceTimersByTimeAsync(29)
    expect(await settled(sleeping)).toBe(false)
    await jest.advanceTimersByTimeAsync(1)
    expect(await settled(sleeping)).toBe(true)
  })

  test('an abort wakes it at once, and its timer is cleared', async () => {
    const controller = new AbortController()
    const sleeping = realSleep(5000, controller.signal)
    await jest.advanceTimersByTimeAsync(10)
    expect(await settled(sleeping)).toBe(false)
    controller.abort()
    expect(await settled(sleeping)).toBe(true)
    expect(jest.getTimerCount()).toBe(0)
  })

  test('an already aborted signal: it resolves at once, with no timer', async () => {
    expect(await settled(realSleep(5000, AbortSignal.abort()))).toBe(true)
    expect(jest.getTimerCount()).toBe(0)
  })

  test('poll with the real sleep stops waiting when the signal aborts', async () => {
    const controller = new AbortController()
    const polling = poll({
      probe: attempt => Promise.resolve({ done: false, value: attempt }),
      intervalMs: 5000,
      timeoutMs: 60_000,
      signal: controller.signal
    })
    await jest.advanceTimersByTimeAsync(20)
    expect(await settled(polling)).toBe(false)
    controller.abort()
    expect(await polling).toMatchObject({ reason: 'aborted', last: 1, attempts: 1 })
    expect(jest.getTimerCount()).toBe(0)
  })
})
