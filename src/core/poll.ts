// Polling as a loop with an injected clock and sleep, an AbortSignal, an interval that may grow
// to a cap, and a deadline: it always ends, and says why. Many pollers of one service (a matrix of
// jobs started by one merge) do not line up when given jitter: the first probe comes after a
// random part of one interval, each next one 1 to 1 + spread intervals after the one before was
// due - never sooner than one interval after it started, so never more than one probe per
// interval - and not before a time the service asked for (Retry-After). Counting from when a
// probe was due, not from when it ended, keeps pollers apart through a stall: when a slow answer
// (a busy service, a busy runner) holds many probes and lets them all end at once, each next one
// comes at the first of its own times after that, not all of them one interval later together.

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
  clock?: () => number
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
}

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
    const started = clock() - start
    const probed = await options.probe(attempts)
    last = probed.value
    if (probed.done)
      return { reason: 'done', value: probed.value, attempts, elapsedMs: clock() - start }
    if (options.signal?.aborted) return end('aborted')
    const now = clock() - start
    const left = options.timeoutMs - now
    if (left <= 0) break
    if (jitter) {
      // the next of this poller's times that is one interval after this probe began, to come,
      // and not before the time asked for (pollers told the same time do not all come then)
      const spread = jitter.spread ?? 0.25
      const notBefore = Math.max(started + interval, now, (options.notBefore?.() ?? 0) - start)
      do due += interval * (1 + spread * jitter.random())
      while (due < notBefore)
    } else due = Math.max(now + interval, (options.notBefore?.() ?? 0) - start)
    await sleep(Math.min(due - now, left), options.signal)
    interval = Math.min(cap, interval * (options.factor ?? 1))
  }
  return end(options.signal?.aborted ? 'aborted' : 'timeout')
}
