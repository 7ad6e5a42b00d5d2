// The one seam to GitHub's REST API: the `github-token` input and the runner's variables read into
// a typed config (through Problems, before any request), and the client the actions call GitHub
// with — @actions/github's getOctokit, with GITHUB_API_URL as its base (so GitHub Enterprise Server
// works), the proxy of the environment (routes.ts: HTTP(S)_PROXY, NO_PROXY, loopback never
// proxied, as @actions/http-client), a time limit on every request and the action's AbortSignal.
// Every call goes through `GitHub.call`, which turns any failure into a GitHubError of one line
// (githuberrors.ts) that never holds the token.
import { getOctokit } from '@actions/github'
import { fetch as undiciFetch } from 'undici'
import { githubError, type GitHubCall } from './githuberrors.js'
import { TimeoutError } from './httperrors.js'
import type { InputSource, Problems } from './inputs.js'
import { chooseRoutes, isLoopbackHost, isProxyUrl, proxyVariable } from './routes.js'
import { hasControl, hideCredentials, httpUrl } from './text.js'

export { GitHubError, type GitHubCall, type GitHubFailure } from './githuberrors.js'

/** What the actions know of GitHub: the token and the runner's variables, checked. */
export interface GitHubConfig {
  /** The token of the `github-token` input; "" when none is given. Masked once read. */
  token: string
  /** The REST API's base (GITHUB_API_URL, default https://api.github.com), without a final /. */
  apiUrl: string
  /** The web's base (GITHUB_SERVER_URL, default https://github.com), without a final /. */
  serverUrl: string
  /** GITHUB_REPOSITORY, split; undefined outside a workflow run. */
  repository?: { owner: string; repo: string }
  /** GITHUB_SHA: the commit the run is for. */
  sha?: string
  /** GITHUB_RUN_ID and GITHUB_RUN_ATTEMPT (attempt "1" when unset). */
  runId?: string
  runAttempt: string
  /** GITHUB_EVENT_PATH: the file of the event that started the run. */
  eventPath?: string
  /** The workflow run's page (its attempt), when the variables say where it is. */
  runUrl?: string
  /** The time limit of one request, answer included. */
  requestTimeoutMs: number
}

/** The time limit of one GitHub request unless a caller says otherwise. */
export const GITHUB_REQUEST_TIMEOUT_MS = 30_000

/** A base URL from the runner: http(s), no credentials; a problem named by its variable else. */
function baseUrl(
  name: string,
  raw: string | undefined,
  fallback: string,
  problems: Problems
): string {
  const value = raw?.trim() || fallback
  const url = httpUrl(value)
  if (!url) {
    problems.add(name, `must be an http(s) URL, not '${hideCredentials(value)}'`)
    return fallback
  }
  if (url.username || url.password) {
    problems.add(name, 'must not hold credentials')
    return fallback
  }
  return url.href.replace(/\/+$/, '')
}

/** A runner variable that must match a shape when set: its value, or undefined with a problem. */
function shaped(
  env: NodeJS.ProcessEnv,
  name: string,
  shape: RegExp,
  expected: string,
  problems: Problems
): string | undefined {
  const value = env[name]?.trim()
  if (!value) return undefined
  if (shape.test(value)) return value
  problems.add(name, `must be ${expected}, not '${hideCredentials(value)}'`)
  return undefined
}

/**
 * The GitHub config of an action: the token of `tokenInput` (masked; one with a line break is
 * refused, never sent), and the runner's variables. A variable that is not set is undefined (the
 * caller decides what it can do without); one that is set but malformed is a problem.
 */
export function readGitHub(
  inputs: InputSource,
  problems: Problems,
  { tokenInput = 'github-token', requestTimeoutMs = GITHUB_REQUEST_TIMEOUT_MS } = {}
): GitHubConfig {
  const { env } = inputs
  const token = inputs.input(tokenInput)
  if (token) inputs.mask?.(token)
  if (hasControl(token))
    problems.add(
      tokenInput,
      'holds a line break or another control character: copy the token into the secret again, without them'
    )
  const apiUrl = baseUrl('GITHUB_API_URL', env.GITHUB_API_URL, 'https://api.github.com', problems)
  const serverUrl = baseUrl(
    'GITHUB_SERVER_URL',
    env.GITHUB_SERVER_URL,
    'https://github.com',
    problems
  )
  const name = shaped(env, 'GITHUB_REPOSITORY', /^[\w.-]+\/[\w.-]+$/, 'owner/repository', problems)
  const [owner, repo] = name?.split('/') ?? []
  const sha = shaped(env, 'GITHUB_SHA', /^([0-9a-f]{40}|[0-9a-f]{64})$/i, 'a commit id', problems)
  const runId = shaped(env, 'GITHUB_RUN_ID', /^\d+$/, 'a number', problems)
  const runAttempt = shaped(env, 'GITHUB_RUN_ATTEMPT', /^\d+$/, 'a number', problems) ?? '1'
  const eventPath = env.GITHUB_EVENT_PATH?.trim() || undefined
  // the proxy GitHub's requests would use: a bad one is a problem now, not a failure later
  const scheme = apiUrl.startsWith('https:') ? 'https' : 'http'
  const proxy = proxyVariable(env, scheme)
  if (proxy && !isProxyUrl(proxy.value) && !isLoopbackHost(new URL(apiUrl).hostname))
    problems.add(
      `${proxy.name} is not a valid proxy URL: '${hideCredentials(proxy.value)}' (expected e.g. http://proxy.example.com:3128)`
    )
  return {
    token: hasControl(token) ? '' : token,
    apiUrl,
    serverUrl,
    repository: owner && repo ? { owner, repo } : undefined,
    sha,
    runId,
    runAttempt,
    eventPath,
    runUrl:
      name && runId
        ? `${serverUrl}/${name}/actions/runs/${runId}${runAttempt === '1' ? '' : `/attempts/${runAttempt}`}`
        : undefined,
    requestTimeoutMs
  }
}

/** The REST client getOctokit makes (rest.*, paginate, request). */
export type Octokit = ReturnType<typeof getOctokit>

export interface GitHubClientOptions {
  /** The environment the proxy variables are read from (default process.env). */
  env?: NodeJS.ProcessEnv
  /** The action's cancellation: every request in flight ends with it. */
  signal?: AbortSignal
  /** The User-Agent (e.g. connection.ts userAgent(action)). */
  userAgent?: string
}

/** undici's fetch through the routes of the environment, each request with its time limit. */
function routedFetch(config: GitHubConfig, options: GitHubClientOptions): typeof fetch {
  const base = new URL(config.apiUrl)
  const routes = chooseRoutes(base, options.env ?? process.env, 10_000)
  return (async (url: string | URL, init: RequestInit = {}) => {
    const target = new URL(String(url))
    const dispatcher = isLoopbackHost(target.hostname) ? routes.direct : routes.usual
    const limit = new AbortController()
    const timer = setTimeout(
      () => limit.abort(new TimeoutError(config.requestTimeoutMs)),
      config.requestTimeoutMs
    )
    const signals = [limit.signal, options.signal, init.signal ?? undefined].filter(
      (s): s is AbortSignal => s !== undefined
    )
    try {
      const res = await undiciFetch(target, {
        ...(init as object),
        dispatcher,
        signal: AbortSignal.any(signals)
      })
      // the answer is read after this returns: its time limit lasts until it is read
      const body = await res.arrayBuffer()
      const answer = new Response(res.status === 204 || res.status === 304 ? null : body, {
        status: res.status,
        statusText: res.statusText,
        headers: res.headers
      })
      // a Response made here has no url; octokit's paginate reads it on the last page
      Object.defineProperty(answer, 'url', { value: res.url || target.href })
      return answer
    } finally {
      clearTimeout(timer)
    }
  }) as typeof fetch
}

/** The client of every GitHub call of an action. */
export class GitHub {
  readonly octokit: Octokit

  constructor(
    readonly config: GitHubConfig,
    private readonly options: GitHubClientOptions = {}
  ) {
    if (!config.token) throw new Error('GitHub: no token to call GitHub with')
    this.octokit = getOctokit(config.token, {
      baseUrl: config.apiUrl,
      userAgent: options.userAgent,
      request: { fetch: routedFetch(config, options) },
      // octokit logs deprecations and its own notes to the console: not to the action's log
      log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }
    })
  }

  /** The repository of the run (GITHUB_REPOSITORY); an error when the run has none. */
  get repo(): { owner: string; repo: string } {
    if (!this.config.repository) throw new Error('GitHub: GITHUB_REPOSITORY is not set')
    return this.config.repository
  }

  /**
   * One call to GitHub (a request, or a paginated list). Any failure is a GitHubError naming the
   * operation, and for a 403/404 the permission the token lacks.
   */
  async call<T>(what: GitHubCall, send: (octokit: Octokit) => Promise<T>): Promise<T> {
    try {
      return await send(this.octokit)
    } catch (e) {
      throw githubError(what, e, {
        token: this.config.token,
        apiUrl: this.config.apiUrl,
        signal: this.options.signal
      })
    }
  }
}

/** The GitHub client of a config with a token; undefined without one. */
export const githubClient = (
  config: GitHubConfig,
  options: GitHubClientOptions = {}
): GitHub | undefined => (config.token ? new GitHub(config, options) : undefined)
