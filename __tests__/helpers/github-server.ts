// A GitHub REST API of the tests' own, on loopback (node:http): stateful deployments and their
// statuses, issue comments and comparisons (github-routes/), tokens with the permissions a test
// gives them (403 "Resource not accessible by integration" like GitHub for a token without one),
// a journal of every request, and faults a test injects. Every request it gets and every answer
// it gives is checked against GitHub's official REST description (@octokit/openapi, pruned:
// github-contract.ts); a violation that no known GitHub behaviour below explains is collected, and
// `assertClean()` fails the test with it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Contract } from './contract.js'
import { violationKind } from './contract.js'
import { githubContract } from './github-contract.js'
import { commentRoutes } from './github-routes/comments.js'
import { compareRoutes } from './github-routes/compare.js'
import { deploymentRoutes } from './github-routes/deployments.js'
import {
  ACTIONS_BOT,
  basicError,
  validationFailed,
  type Permissions,
  type Reply,
  type RouteContext
} from './github-routes/objects.js'
import {
  emptyState,
  type ChangedFile,
  type GitHubRoute,
  type GitHubState
} from './github-routes/state.js'

export type { Permissions } from './github-routes/objects.js'
export type { ChangedFile, DeploymentRecord, CommentRecord } from './github-routes/state.js'

const ROUTES: GitHubRoute[] = [...deploymentRoutes, ...commentRoutes, ...compareRoutes]

/** What GitHub answers that its description does not document, each from GitHub's docs. */
export const GITHUB_DEVIATIONS: Record<
  string,
  { why: string; applies(violation: string, status: number, body: unknown): boolean }
> = {
  'no-permission-403': {
    why:
      'A token without the permission an endpoint needs gets 403 "Resource not accessible by integration" on any ' +
      'endpoint (docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api, "Resource not accessible"); ' +
      'the description lists 403 on few operations.',
    applies: (v, status, body) =>
      status === 403 &&
      messageOf(body) === 'Resource not accessible by integration' &&
      violationKind(v) === 'undocumented status'
  },
  'unauthorized-401': {
    why:
      'A missing or invalid token gets 401 "Requires authentication" / "Bad credentials" on any endpoint ' +
      '(docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api); no operation used lists 401.',
    applies: (v, status, body) =>
      status === 401 &&
      ['Bad credentials', 'Requires authentication'].includes(messageOf(body) ?? '') &&
      violationKind(v) === 'undocumented status'
  },
  'not-found-404': {
    why:
      'An unknown id (a deployment, a comment) gets 404 "Not Found" (basic-error) on any endpoint ' +
      '(docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api, "404 Not Found"); ' +
      'create-deployment-status and update-comment do not list 404.',
    applies: (v, status, body) =>
      status === 404 &&
      messageOf(body) === 'Not Found' &&
      violationKind(v) === 'undocumented status'
  },
  'empty-url': {
    why:
      'A deployment status keeps "" for a target_url, log_url or environment_url that was not given (the ' +
      'description\'s request body: `Default: ""` for each), where its answer schema says format: uri.',
    applies: (v, _status, body) => {
      const pointer = / (\/\S*_url) must match format "uri"$/.exec(v)?.[1]
      return pointer !== undefined && valueAt(body, pointer) === ''
    }
  },
  'conflict-body-409': {
    why:
      'create-deployment documents 409 ("Conflict when there is a merge conflict or the commit\'s status checks ' +
      'failed") without a body; GitHub sends its message (docs.github.com/en/rest/deployments/deployments, ' +
      '"Failed commit status checks").',
    applies: (v, status, body) =>
      status === 409 && messageOf(body) !== undefined && violationKind(v) === 'unexpected body'
  }
}

/** The value at a JSON pointer (/0/target_url) of a body. */
function valueAt(body: unknown, pointer: string): unknown {
  let at: unknown = body
  for (const key of pointer.split('/').slice(1))
    at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined
  return at
}

function messageOf(body: unknown): string | undefined {
  const m = (body as { message?: unknown } | undefined)?.message
  return typeof m === 'string' ? m : undefined
}

/** One request the server got, and what it answered. */
export interface GitHubJournalEntry {
  method: string
  /** The path under the API's base, without the query. */
  path: string
  query: string
  operationId?: string
  /** The name the test gave the token ("" without one). */
  token: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the request's JSON
  body?: any
  status: number
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the answer's JSON
  answer?: any
  injected: boolean
}

export interface GitHubViolation {
  entry: GitHubJournalEntry
  side: 'request' | 'response'
  violation: string
  /** The deviation of GITHUB_DEVIATIONS that explains it; undefined: unexplained. */
  explainedBy?: string
}

export interface GitHubServerOptions {
  /** Each token the server knows, and its permissions (GitHub App permissions, as a workflow's `permissions:`). */
  tokens?: Record<string, Permissions>
  /** The API's base path: "" as api.github.com, "/api/v3" as GitHub Enterprise Server. */
  basePath?: string
  /** The clock of created_at fields (default: now). */
  now?: () => string
}

/** All the permissions the routes use, for a token that may do everything. */
export const ALL_PERMISSIONS: Permissions = {
  deployments: 'write',
  issues: 'write',
  pull_requests: 'write',
  contents: 'read',
  statuses: 'read'
}

const LEVELS = { read: 1, write: 2 } as const

export class GitHubServer {
  readonly journal: GitHubJournalEntry[] = []
  readonly violations: GitHubViolation[] = []
  readonly state: GitHubState = emptyState()
  private readonly tokens: Record<string, Permissions>
  private readonly faults: Array<{ operationId: string; reply: Reply; times: number }> = []
  private port = 0

  private constructor(
    private readonly server: Server,
    private readonly contract: Contract,
    private readonly options: GitHubServerOptions
  ) {
    this.tokens = options.tokens ?? { 'ghs-all': ALL_PERMISSIONS }
  }

  static async start(options: GitHubServerOptions = {}): Promise<GitHubServer> {
    const contract = await githubContract()
    const server = createServer()
    const gh = new GitHubServer(server, contract, options)
    server.on('request', (req, res) => void gh.serve(req, res))
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    gh.port = (server.address() as AddressInfo).port
    return gh
  }

  /** GITHUB_API_URL of the server. */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}${this.options.basePath ?? ''}`
  }

  /** GITHUB_SERVER_URL of the server (its html_url base). */
  get serverUrl(): string {
    return `http://127.0.0.1:${this.port}`
  }

  /** The next `times` requests of an operation get `reply` (a rate limit, a 500…). */
  inject(operationId: string, reply: Reply, times = 1): void {
    this.faults.push({ operationId, reply, times })
  }

  /** The changed files of a comparison (GET …/compare/{base}...{head}) of a repository. */
  setComparison(repository: string, basehead: string, files: ChangedFile[], commits = 1): void {
    this.state.comparisons.set(`${repository.toLowerCase()} ${basehead}`, { files, commits })
  }

  /** A commit status context of a commit (what create-deployment checks without required_contexts). */
  setCommitStatus(sha: string, context: string, state: 'pending' | 'success' | 'failure'): void {
    const map = this.state.commitStatuses.get(sha) ?? new Map<string, string>()
    map.set(context, state)
    this.state.commitStatuses.set(sha, map)
  }

  /** The violations that no known GitHub behaviour explains. */
  unexplained(): GitHubViolation[] {
    return this.violations.filter(v => v.explainedBy === undefined)
  }

  /** Throws when a request or an answer broke GitHub's description without a known reason. */
  assertClean(): void {
    const bad = this.unexplained()
    if (bad.length)
      throw new Error(
        `the GitHub test server saw ${bad.length} unexplained violation(s) of GitHub's REST description:\n` +
          bad
            .map(
              v =>
                `  - ${v.entry.method} ${v.entry.path} (${v.entry.operationId ?? 'no operation'}, ${v.side} ${v.entry.status}): ${v.violation}`
            )
            .join('\n')
      )
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>(resolve => this.server.close(() => resolve()))
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req)
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const base = this.options.basePath ?? ''
    const path = url.pathname.startsWith(base) ? url.pathname.slice(base.length) : url.pathname
    const entry: GitHubJournalEntry = {
      method: req.method ?? 'GET',
      path,
      query: url.search.replace(/^\?/, ''),
      token: '',
      status: 0,
      injected: false
    }
    this.journal.push(entry)
    let reply: Reply
    try {
      reply = this.answer(req, raw, path, url.searchParams, entry)
    } catch (e) {
      // a defect of the server itself: never hidden, never a hung request
      reply = { status: 500, json: basicError(`test server: ${String(e)}`, 'rest') }
      this.violations.push({ entry, side: 'response', violation: `server error: ${String(e)}` })
    }
    entry.status = reply.status
    entry.answer = reply.json
    try {
      this.checkResponse(entry, reply)
    } catch (e) {
      this.violations.push({ entry, side: 'response', violation: `unchecked: ${String(e)}` })
    }
    const text = reply.json === undefined ? '' : JSON.stringify(reply.json)
    res.writeHead(reply.status, {
      ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}),
      'x-github-media-type': 'github.v3; format=json',
      ...reply.headers
    })
    res.end(text)
  }

  private answer(
    req: IncomingMessage,
    raw: string,
    path: string,
    query: URLSearchParams,
    entry: GitHubJournalEntry
  ): Reply {
    const matched = matchRoute(entry.method, path)
    entry.operationId = matched?.route.operationId
    let body: unknown
    try {
      body = raw ? (JSON.parse(raw) as unknown) : undefined
    } catch {
      body = raw
    }
    entry.body = body
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')])
    )
    const requestViolations = this.contract.validateRequest({
      method: entry.method,
      path: `${path}${entry.query ? `?${entry.query}` : ''}`,
      headers,
      body
    })
    for (const violation of requestViolations)
      this.violations.push({ entry, side: 'request', violation })
    if (!matched) return { status: 404, json: basicError('Not Found', 'rest') }
    const { route, params } = matched
    const auth = this.authorize(headers.authorization, route, entry)
    if (auth.refused) return auth.refused
    const fault = this.faults.find(f => f.operationId === route.operationId && f.times > 0)
    if (fault) {
      fault.times--
      entry.injected = true
      return fault.reply
    }
    if (requestViolations.length) return validationFailed(route.doc)
    const host = req.headers.host ?? `127.0.0.1:${this.port}`
    const ctx: RouteContext = {
      params,
      query,
      body,
      api: `http://${host}${this.options.basePath ?? ''}`,
      web: `http://${host}`,
      path,
      login: auth.login,
      repoKey: `${params.owner}/${params.repo}`.toLowerCase(),
      now: this.options.now ?? (() => new Date().toISOString().replace(/\.\d+Z$/, 'Z'))
    }
    return route.handle(ctx, this.state)
  }

  /** The token's user, or GitHub's 401/403 for a request it may not make. */
  private authorize(
    header: string | undefined,
    route: GitHubRoute,
    entry: GitHubJournalEntry
  ): { login: string; refused?: Reply } {
    const token = /^(?:token|bearer)\s+(\S+)$/i.exec(header ?? '')?.[1]
    if (!token)
      return {
        login: '',
        refused: { status: 401, json: basicError('Requires authentication', 'rest') }
      }
    entry.token = token
    const permissions = this.tokens[token]
    if (!permissions)
      return { login: '', refused: { status: 401, json: basicError('Bad credentials', 'rest') } }
    const allowed = route.needs.some(([scope, level]) => {
      const has = permissions[scope]
      return has !== undefined && LEVELS[has] >= LEVELS[level]
    })
    if (!allowed)
      return {
        login: ACTIONS_BOT,
        refused: {
          status: 403,
          json: {
            ...basicError('Resource not accessible by integration', route.doc),
            status: '403'
          }
        }
      }
    return { login: ACTIONS_BOT }
  }

  private checkResponse(entry: GitHubJournalEntry, reply: Reply): void {
    if (!entry.operationId) return // already a request violation: no operation
    const text = reply.json === undefined ? undefined : 'application/json; charset=utf-8'
    for (const violation of this.contract.validateResponse(
      entry.operationId,
      reply.status,
      reply.json,
      text
    )) {
      const explainedBy = entry.injected
        ? 'injected'
        : Object.keys(GITHUB_DEVIATIONS).find(id =>
            GITHUB_DEVIATIONS[id].applies(violation, reply.status, reply.json)
          )
      this.violations.push({ entry, side: 'response', violation, explainedBy })
    }
  }
}

/** The route of a request and its path parameters ({basehead} may hold slashes: x-multi-segment). */
function matchRoute(
  method: string,
  path: string
): { route: GitHubRoute; params: Record<string, string> } | undefined {
  for (const route of ROUTES) {
    if (route.method !== method) continue
    const names: string[] = []
    const pattern = route.template.replace(/\{(\w+)\}/g, (_m, name: string) => {
      names.push(name)
      return name === 'basehead' ? '(.+)' : '([^/]+)'
    })
    const m = new RegExp(`^${pattern}$`).exec(path)
    if (m)
      return {
        route,
        params: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1])]))
      }
  }
  return undefined
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
