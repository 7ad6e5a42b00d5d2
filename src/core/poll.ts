// Polling as a loop with an injected clock and sleep, an AbortSignal, an interval that may grow
// to a cap, and a deadline: it always ends, and says why. Many pollers of one service (a matrix of
// jobs started by one merge) do not line up when given jitter: the first probe comes after a
// random part of one interval, each next one 1 to 1 + spread intervals after the one before was
// due - never sooner than one interval after it started, so never more than one probe per
// interval, nor sooner than one interval after a request the probe sent again (a retry) - and not
// before a time the service asked for (Retry-After). Counting from when a probe was due, not from
// when it ended, keeps pollers apart through a stall: when a slow answer (a busy service, a busy
// runner) holds many probes and lets them all end at once, each next one comes at the first of
// its own times after that (far behind, at a random time within one interval), not all of them
// one interval later together.

export interface PollOptions<T> {
  /** One look at the world: `done: true` ends the loop with its value. */
  probe: (attempt: number) => Promise<{ done: boolean; value: T }>
  intervalMs: number
  /** The interval grows by `factor` after each probe up to this (default: intervalMs, no growth). */
  maxIntervalMs?: number
  factor?: number
  /** Milliseconds from the start after which no new probe starts. Required: no loop without one. */
  timeoutMs: number
  signal?: AbortSignal
  /** Spreads the probes: `random` gives numbers in [0, 1); `spread` (default 0.25) of an interval. */
  jitter?: { random: () => number; spread?: number }
  /** The earliest time (on `clock`) the next probe may start, e.g. what a Retry-After asked. */
  notBefore?: () => number
  /** When a probe last sent a request again (a retry inside it): the next waits an interval after. */
  resentAt?: () => number
  clock?: () => number
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
}

/** How a poller waits, apart from what it waits for (actions/runtime.ts pacing). */
export type Pacing = Pick<
  PollOptions<unknown>,
  'signal' | 'clock' | 'sleep' | 'jitter' | 'notBefore' | 'resentAt'
>

export type PollResult<T> =
  | { reason: 'done'; value: T; attempts: number; elapsedMs: number }
  | { reason: 'timeout'; last?: T; attempts: number; elapsedMs: number }
  | { reason: 'aborted'; last?: T; attempts: number; elapsedMs: number }

export const realSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise(resolve => {
    if (signal?.aborted) return resolve()
    const done = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })

/**
 * How late (a part of the interval) a probe may begin and keep its next time, moved to one
 * interval after it: a timer's lateness. Later (a busy runner, a stall), the next comes at the
 * poller's next own time, so pollers held together go back to their own times.
 */
const LATE = 0.01

/** A time an option gives (on the clock), or none: NaN, like none. */
const timeOf = (option: (() => number) | undefined): number => {
  const time = option?.() ?? -Infinity
  return Number.isNaN(time) ? -Infinity : time
}

/**
 * The first of a poller's own times at or after `floor` (each 1 to 1 + spread intervals after the
 * one before, from `due`), all in milliseconds since its start. Far behind (a long stall, a
 * distant Retry-After), a random time within one interval from `floor`: pollers held to one time
 * still spread, and catching up is never a long loop. Never more than one pause past `floor`: a
 * clock set back leaves the schedule ahead of it.
 */
function nextDue(
  due: number,
  floor: number,
  interval: number,
  jitter: NonNullable<PollOptions<unknown>['jitter']>
): number {
  const pause = (): number => interval * (1 + (jitter.spread ?? 0.25) * jitter.random())
  if (floor - due > 4 * interval) return floor + interval * jitter.random()
  let next = due
  do {
    const after = next + pause()
    // an interval too small to count at this scale
    if (!(after > next)) return floor
    next = after
  } while (next < floor)
  return Math.min(next, floor + interval * (1 + (jitter.spread ?? 0.25)))
}

export async function poll<T>(options: PollOptions<T>): Promise<PollResult<T>> {
  if (!(options.intervalMs > 0)) throw new RangeError('poll: intervalMs must be more than 0')
  if (!(options.timeoutMs >= 0) || !Number.isFinite(options.timeoutMs))
    throw new RangeError('poll: timeoutMs must be a finite number, 0 or more')
  const clock = options.clock ?? Date.now
  const sleep = options.sleep ?? realSleep
  const start = clock()
  const deadline = start + options.timeoutMs
  const cap = Math.max(options.intervalMs, options.maxIntervalMs ?? options.intervalMs)
  let interval = options.intervalMs
  let last: T | undefined
  let attempts = 0
  const end = (reason: 'timeout' | 'aborted'): PollResult<T> => ({
    reason,
    last,
    attempts,
    elapsedMs: clock() - start
  })
  const { jitter } = options
  /**
   * When the next probe is due, in milliseconds since the start (with jitter, its time on this
   * poller's own schedule; kept apart from the clock's large numbers, whose fractions are coarse).
   */
  let due = 0
  if (jitter) {
    due = Math.min(jitter.random() * interval, options.timeoutMs)
    await sleep(due, options.signal)
  }
  while (attempts === 0 || clock() < deadline) {
    if (options.signal?.aborted) return end('aborted')
    attempts++
    let started = clock() - start
    // a probe never starts before it is due (sleeps do not end early): a clock set back
    due = Math.min(due, started)
    const probed = await options.probe(attempts)
    last = probed.value
    if (probed.done)
      return { reason: 'done', value: probed.value, attempts, elapsedMs: clock() - start }
    if (options.signal?.aborted) return end('aborted')
    const now = clock() - start
    // a clock set back during the probe: the schedule goes back with it
    if (now < started) {
      due -= started - now
      started = now
    }
    const left = options.timeoutMs - now
    if (left <= 0) break
    const asked = timeOf(options.notBefore) - start
    if (jitter) {
      // to come, one interval after this probe began and after any request it sent again, and
      // not before the time asked for: there, the next of this poller's own times; a probe that
      // began only a little late (a timer's lateness) keeps its next time, held to one interval
      const resent = timeOf(options.resentAt) - start
      const floor = Math.max(now, asked, resent + interval)
      const oneAfter = started + interval
      due = nextDue(due, floor, interval, jitter)
      if (due < oneAfter)
        due =
          oneAfter - due <= interval * LATE ? oneAfter : nextDue(due, oneAfter, interval, jitter)
    } else due = Math.max(now + interval, asked)
    await sleep(Math.min(due - now, left), options.signal)
    interval = Math.min(cap, interval * (options.factor ?? 1))
  }
  return end(options.signal?.aborted ? 'aborted' : 'timeout')
}
