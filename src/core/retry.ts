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

/** Delay before retry number `attempt` (1 = the first retry): "equal jitter" over [c/2, c], c = min(cap, base·2^(n-1)). */
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
  // an HTTP date starts with the day's name (IMF-fixdate, RFC 850, asctime); Date.parse alone
  // would also read "1.5" or "-1" as dates
  if (!/^[A-Za-z]{3}/.test(v)) return undefined
  const date = Date.parse(v)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - now)
}

/** HTTP statuses that say "not now", not "never". */
export const isTransientStatus = (status: number): boolean =>
  status === 408 ||
  status === 429 ||
  status === 500 ||
  status === 502 ||
  status === 503 ||
  status === 504

/** Network error codes raised before the request could reach the server: always safe to retry. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'EHOSTUNREACH',
  'ENETUNREACH'
])

/** An error and its causes, outermost first, at most 5 deep (a cycle of causes ends too). */
function causes(e: unknown): Array<{ code?: unknown; message?: unknown }> {
  const chain: Array<{ code?: unknown; message?: unknown; cause?: unknown }> = []
  for (
    let cur = e as { cause?: unknown } | undefined;
    cur && chain.length < 5;
    cur = cur.cause as typeof cur
  ) {
    chain.push(cur)
  }
  return chain
}

/** Every error code along the chain of causes, outermost first. */
export const errorCodes = (e: unknown): string[] =>
  causes(e)
    .map(c => c.code)
    .filter((c): c is string => typeof c === 'string')

export const errorCode = (e: unknown): string | undefined => errorCodes(e)[0]

export const neverSent = (e: unknown): boolean => errorCodes(e).some(c => NOT_SENT.has(c))

/** A proxy that refused the tunnel (undici: "Proxy response (407) !== 200 when HTTP Tunneling"): its status. */
export function proxyRefusal(e: unknown): number | undefined {
  for (const c of causes(e)) {
    const m = typeof c.message === 'string' ? /Proxy response \((\d{3})\)/.exec(c.message) : null
    if (m) return Number(m[1])
  }
  return undefined
}

/** The delay before the next attempt: the server's Retry-After when it gave one (bounded), else backoff. */
export function nextDelay(
  attempt: number,
  retryAfterMs: number | undefined,
  options: BackoffOptions & { maxRetryAfterMs?: number } = {}
): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, options.maxRetryAfterMs ?? 60_000)
  return backoffDelay(attempt, options)
}
