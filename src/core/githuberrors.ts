// How a failed GitHub call reads (github.ts): one line naming the operation and the cause — a
// permission the token lacks (403 "Resource not accessible by integration", or the 404 GitHub
// answers when the token may not see the resource), a rate limit, a timeout, a cancellation, a
// network fault, or GitHub's own message — and never the token.
import { TimeoutError } from './httperrors.js'
import { inert } from './text.js'

/** What a call is, for its failure's message. */
export interface GitHubCall {
  /** What it does, as a person says it: "create the deployment". */
  operation: string
  /** The permission of the GITHUB_TOKEN it needs, as a workflow writes it: "deployments: write". */
  permission: string
}

export type GitHubFailure = 'permission' | 'rate-limit' | 'timeout' | 'aborted' | 'network' | 'http'

/** A failed GitHub call. `permission` is set when the failure is that the token lacks it. */
export class GitHubError extends Error {
  constructor(
    message: string,
    readonly kind: GitHubFailure,
    readonly status?: number,
    readonly permission?: string
  ) {
    super(message)
    this.name = 'GitHubError'
  }
}

/** The shape of octokit's RequestError, as far as the message needs it. */
interface OctokitFailure {
  status?: number
  message?: string
  response?: { headers?: Record<string, string | undefined>; data?: unknown }
  cause?: unknown
}

/** The most characters of GitHub's own message shown. */
const MESSAGE_CHARS = 300

/** GitHub's `message` of an error answer, in one line, cut. */
function gitHubMessage(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined
  const message = (data as { message?: unknown }).message
  if (typeof message !== 'string' || !message.trim()) return undefined
  const one = message.replace(/\s+/g, ' ').trim()
  return one.length > MESSAGE_CHARS ? `${one.slice(0, MESSAGE_CHARS - 1)}…` : one
}

/** The causes of an error, itself first. */
function causes(e: unknown): unknown[] {
  const found: unknown[] = []
  for (let c = e; c !== undefined && c !== null && found.length < 8;) {
    found.push(c)
    c = (c as { cause?: unknown }).cause
  }
  return found
}

/**
 * Whether an error answer is a rate limit: 429, or 403 with no request left
 * (x-ratelimit-remaining: 0) or a Retry-After, or a message saying so (the secondary limits).
 * docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api ("Exceeding the rate limit").
 */
function isRateLimit(status: number, headers: Record<string, string | undefined>, text: string) {
  if (status === 429) return true
  if (status !== 403) return false
  return (
    headers['x-ratelimit-remaining'] === '0' ||
    headers['retry-after'] !== undefined ||
    /rate limit/i.test(text)
  )
}

/** When the limit ends, from x-ratelimit-reset (epoch seconds) or Retry-After (seconds). */
function rateLimitEnd(headers: Record<string, string | undefined>): string {
  const after = Number(headers['retry-after'])
  if (Number.isFinite(after) && after > 0) return ` (retry after ${after} s)`
  const reset = Number(headers['x-ratelimit-reset'])
  return Number.isFinite(reset) && reset > 0
    ? ` (the limit resets at ${new Date(reset * 1000).toISOString()})`
    : ''
}

/** A failure of a call as a GitHubError; the token, if anything quotes it, as ***. */
export function githubError(
  call: GitHubCall,
  e: unknown,
  context: { token: string; apiUrl: string; signal?: AbortSignal }
): GitHubError {
  const made = classify(call, e, context)
  const hidden = context.token ? made.message.split(context.token).join('***') : made.message
  return new GitHubError(inert(hidden), made.kind, made.status, made.permission)
}

function classify(
  call: GitHubCall,
  e: unknown,
  context: { apiUrl: string; signal?: AbortSignal }
): GitHubError {
  const head = `GitHub: could not ${call.operation}`
  const chain = causes(e)
  if (chain.some(c => c instanceof TimeoutError)) {
    const limit = chain.find(c => c instanceof TimeoutError) as TimeoutError
    return new GitHubError(`${head}: no answer from ${context.apiUrl} in ${limit.ms} ms`, 'timeout')
  }
  if (context.signal?.aborted) return new GitHubError(`${head}: cancelled`, 'aborted')
  const failure = (typeof e === 'object' && e !== null ? e : {}) as OctokitFailure
  const status = failure.response ? failure.status : undefined
  if (status === undefined) {
    const deepest = chain[chain.length - 1] as { message?: unknown; code?: unknown }
    const why = [deepest?.code, deepest?.message].filter(v => typeof v === 'string').join(' ')
    return new GitHubError(
      `${head}: no answer from ${context.apiUrl}${why ? ` (${why})` : ''}; check the network, a proxy in HTTPS_PROXY, or GITHUB_API_URL`,
      'network'
    )
  }
  const headers = failure.response?.headers ?? {}
  const said = gitHubMessage(failure.response?.data)
  const quoted = said ? `: ${said}` : ''
  if (isRateLimit(status, headers, said ?? '')) {
    return new GitHubError(
      `${head}: GitHub's rate limit is reached (HTTP ${status})${rateLimitEnd(headers)}`,
      'rate-limit',
      status
    )
  }
  if (status === 403 || status === 404) {
    // GitHub answers 404, not 403, for what the token may not see (docs.github.com/en/rest/
    // using-the-rest-api/troubleshooting-the-rest-api, "404 Not Found" for an existing resource)
    return new GitHubError(
      `${head} (HTTP ${status}${quoted}): the token lacks the permission ${call.permission}; grant it in the workflow with "permissions: ${call.permission}"`,
      'permission',
      status,
      call.permission
    )
  }
  if (status === 401)
    return new GitHubError(
      `${head} (HTTP 401${quoted}): the token is not valid (expired, or not a GitHub token); check github-token`,
      'http',
      status
    )
  return new GitHubError(`${head} (HTTP ${status}${quoted})`, 'http', status)
}
