// Polling as a loop with an injected clock and sleep, an AbortSignal, an interval that may grow
// to a cap, and a deadline: it always ends, and says why. Many pollers of one service (a matrix of
// jobs started by one merge) do not line up when given jitter: the first probe comes after a
// random part of one interval, each next one after 1 to 1 + spread intervals - never sooner than
// one interval, so never more than one probe per interval - and not before a time the service
// asked for (Retry-After).

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
  if (jitter) await sleep(Math.min(jitter.random() * interval, options.timeoutMs), options.signal)
  while (attempts === 0 || clock() < deadline) {
    if (options.signal?.aborted) return end('aborted')
    attempts++
    const probed = await options.probe(attempts)
    last = probed.value
    if (probed.done)
      return { reason: 'done', value: probed.value, attempts, elapsedMs: clock() - start }
    if (options.signal?.aborted) return end('aborted')
    const left = deadline - clock()
    if (left <= 0) break
    const spread = jitter ? interval * (jitter.spread ?? 0.25) * jitter.random() : 0
    const asked = (options.notBefore?.() ?? 0) - clock()
    await sleep(Math.min(Math.max(interval + spread, asked), left), options.signal)
    interval = Math.min(cap, interval * (options.factor ?? 1))
  }
  return end(options.signal?.aborted ? 'aborted' : 'timeout')
}
