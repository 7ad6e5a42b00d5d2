// The objects the GitHub test server answers with, in the shapes of GitHub's REST description
// (@octokit/openapi: components.schemas simple-user, deployment, deployment-status, issue-comment,
// commit, diff-entry), and what every route shares: its context, its answer, pagination.
import { createHash } from 'node:crypto'

/** The permissions of a token, as a workflow's `permissions:` names them (GitHub App permissions). */
export type Level = 'read' | 'write'
export type Scope = 'deployments' | 'issues' | 'pull_requests' | 'contents' | 'statuses'
export type Permissions = Partial<Record<Scope, Level>>

/** An answer of a route. */
export interface Reply {
  status: number
  json?: unknown
  headers?: Record<string, string>
}

/** What a route handler is given. */
export interface RouteContext {
  params: Record<string, string>
  query: URLSearchParams
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the request's JSON, already checked against the description
  body: any
  /** The API's base as the client reached it (http://127.0.0.1:port[/api/v3]), for `url` fields and Link. */
  api: string
  /** The web's base, for `html_url` fields. */
  web: string
  /** The path of the request under `api`, without the query. */
  path: string
  /** The login of the token's user. */
  login: string
  /** The repository's key, "owner/repo" (lowercase: GitHub's names are not case sensitive). */
  repoKey: string
  now: () => string
}

export const ACTIONS_BOT = 'github-actions[bot]'

/** A fake but stable node id / sha of a thing. */
export const fakeSha = (of: string): string => createHash('sha1').update(of).digest('hex')
export const nodeId = (kind: string, id: number): string =>
  Buffer.from(`${kind}:${id}`).toString('base64')

/** GitHub's simple-user (required fields all present). */
export function user(login: string, web: string, api: string): Record<string, unknown> {
  const url = `${api}/users/${encodeURIComponent(login)}`
  return {
    login,
    id: 41898282,
    node_id: 'MDM6Qm90NDE4OTgyODI=',
    avatar_url: `${web}/avatars/${encodeURIComponent(login)}`,
    gravatar_id: '',
    url,
    html_url: `${web}/apps/github-actions`,
    followers_url: `${url}/followers`,
    following_url: `${url}/following{/other_user}`,
    gists_url: `${url}/gists{/gist_id}`,
    starred_url: `${url}/starred{/owner}{/repo}`,
    subscriptions_url: `${url}/subscriptions`,
    organizations_url: `${url}/orgs`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    received_events_url: `${url}/received_events`,
    type: login.endsWith('[bot]') ? 'Bot' : 'User',
    site_admin: false
  }
}

/** A list answer: the page of `items` the query asks for (per_page ≤ 100, default 30) and its Link. */
export function page<T>(items: T[], ctx: RouteContext): { items: T[]; link?: string } {
  const perPage = Math.min(100, Math.max(1, Number(ctx.query.get('per_page') ?? 30) || 30))
  const at = Math.max(1, Number(ctx.query.get('page') ?? 1) || 1)
  const last = Math.max(1, Math.ceil(items.length / perPage))
  const slice = items.slice((at - 1) * perPage, at * perPage)
  return { items: slice, link: linkHeader(ctx, at, last, perPage) }
}

/**
 * GitHub's Link header (docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api):
 * rel="prev", "next", "last", "first" as they apply; none when everything fits one page.
 */
export function linkHeader(
  ctx: RouteContext,
  at: number,
  last: number,
  perPage: number
): string | undefined {
  if (last <= 1 && at <= 1) return undefined
  const to = (n: number): string => {
    const q = new URLSearchParams(ctx.query)
    q.set('per_page', String(perPage))
    q.set('page', String(n))
    return `<${ctx.api}${ctx.path}?${q.toString()}>`
  }
  const rels: string[] = []
  if (at > 1) rels.push(`${to(Math.min(at - 1, last))}; rel="prev"`)
  if (at < last) rels.push(`${to(at + 1)}; rel="next"`, `${to(last)}; rel="last"`)
  if (at > 1) rels.push(`${to(1)}; rel="first"`)
  return rels.join(', ') || undefined
}

/** A list reply: the page, with its Link header when there is more than one. */
export function listReply<T>(items: T[], ctx: RouteContext): Reply {
  const { items: shown, link } = page(items, ctx)
  return { status: 200, json: shown, headers: link ? { link } : {} }
}

/** GitHub's basic-error body. */
export const basicError = (message: string, doc: string): Record<string, string> => ({
  message,
  documentation_url: `https://docs.github.com/rest/${doc}`
})

/** GitHub's 404 (basic-error, the same for what does not exist and what the token may not see). */
export const notFound = (doc: string): Reply => ({
  status: 404,
  json: { ...basicError('Not Found', doc), status: '404' }
})

/** GitHub's 422 validation-error. */
export const validationFailed = (doc: string, errors: unknown[] = []): Reply => ({
  status: 422,
  json: { ...basicError('Validation Failed', doc), errors }
})
