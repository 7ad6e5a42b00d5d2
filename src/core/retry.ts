// The retry policy, as pure functions: which failures are worth another attempt, and how long to
// wait before it (capped exponential backoff with full jitter, or the server's Retry-After).

export interface BackoffOptions {
  /** First delay, before jitter (default 500 ms). */
  baseMs?: number
  /** No delay is longer (default 10 s); a longer Retry-After is honoured up to `maxRetryAfterMs`. */
  capMs?: number
  /** 0..1; uniform random source, injectable for tests (default Math.random). */
  random?: () => number
}

/** Delay before retry number `attempt` (1 = the first retry): full jitter over [base·2^(n-1)/2, base·2^(n-1)], capped. */
export function backoffDelay(
  attempt: number,
  { baseMs = 500, capMs = 10_000, random = Math.random }: BackoffOptions = {}
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}

/**
 * Retry-After in milliseconds from now, in either form (RFC 9110): delay-seconds, or an HTTP date.
 * Undefined when absent or unreadable; never negative.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined
  const v = value.trim()
  if (/^\d+$/.test(v)) return Number(v) * 1000
  const date = Date.parse(v)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - now)
}

/** HTTP statuses that say "not now", not "never". */
export const isTransientStatus = (status: number): boolean =>
  status === 429 || status === 502 || status === 503 || status === 504 || status === 500

/** Network error codes raised before the request could reach the server: always safe to retry. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'EHOSTUNREACH',
  'ENETUNREACH'
])

export function errorCode(e: unknown): string | undefined {
  let cur: unknown = e
  for (let i = 0; i < 5 && cur; i++) {
    const code = (cur as { code?: unknown }).code
    if (typeof code === 'string') return code
    cur = (cur as { cause?: unknown }).cause
  }
  return undefined
}

export const neverSent = (e: unknown): boolean => NOT_SENT.has(errorCode(e) ?? '')

/** The delay before the next attempt: the server's Retry-After when it gave one (bounded), else backoff. */
export function nextDelay(
  attempt: number,
  retryAfterMs: number | undefined,
  options: BackoffOptions & { maxRetryAfterMs?: number } = {}
): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, options.maxRetryAfterMs ?? 60_000)
  return backoffDelay(attempt, options)
}
