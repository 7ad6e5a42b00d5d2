// The deployments routes of the GitHub test server, with GitHub's own behaviour as its REST
// description (@octokit/openapi) and docs.github.com/en/rest/deployments say it:
// - create: `task` defaults to deploy, `environment` to production, `production_environment` to
//   whether it is "production"; unless `required_contexts` is given, every commit status context
//   of the commit must be `success`, else 409 ("Failed commit status checks"; an empty array skips
//   the check); with `auto_merge` (default true) and the default branch ahead, GitHub merges it
//   into the ref instead (202 "Merged branch response") — docs.github.com/en/rest/deployments/
//   deployments#create-a-deployment.
// - create status: `log_url` also sets `target_url`; a `success` status with `auto_inactive`
//   (default true) "adds a new inactive status to all prior non-transient, non-production
//   environment deployments with the same repository and environment name … An inactive status is
//   only added to deployments that had a success state" — docs.github.com/en/rest/deployments/
//   statuses#create-a-deployment-status.
// - lists are newest first, paginated.
import { fakeSha, listReply, nodeId, notFound, user, type RouteContext } from './objects.js'
import type { DeploymentRecord, GitHubRoute, GitHubState, StatusRecord } from './state.js'

const DOC_DEPLOYMENTS = 'deployments/deployments'
const DOC_STATUSES = 'deployments/statuses'

function deploymentJson(d: DeploymentRecord, ctx: RouteContext): Record<string, unknown> {
  const repoUrl = `${ctx.api}/repos/${d.repoKey}`
  const url = `${repoUrl}/deployments/${d.id}`
  const latest = d.statuses.at(-1)
  return {
    url,
    id: d.id,
    node_id: nodeId('Deployment', d.id),
    sha: d.sha,
    ref: d.ref,
    task: d.task,
    payload: d.payload,
    original_environment: d.original_environment,
    environment: d.environment,
    description: d.description,
    creator: user(d.creator, ctx.web, ctx.api),
    created_at: d.created_at,
    updated_at: latest?.created_at ?? d.created_at,
    statuses_url: `${url}/statuses`,
    repository_url: repoUrl,
    transient_environment: d.transient_environment,
    production_environment: d.production_environment,
    performed_via_github_app: null
  }
}

function statusJson(d: DeploymentRecord, s: StatusRecord, ctx: RouteContext) {
  const deploymentUrl = `${ctx.api}/repos/${d.repoKey}/deployments/${d.id}`
  return {
    url: `${deploymentUrl}/statuses/${s.id}`,
    id: s.id,
    node_id: nodeId('DeploymentStatus', s.id),
    state: s.state,
    creator: user(s.creator, ctx.web, ctx.api),
    description: s.description,
    environment: s.environment,
    target_url: s.target_url,
    created_at: s.created_at,
    updated_at: s.created_at,
    deployment_url: deploymentUrl,
    repository_url: `${ctx.api}/repos/${d.repoKey}`,
    environment_url: s.environment_url,
    log_url: s.log_url,
    performed_via_github_app: null
  }
}

const findDeployment = (state: GitHubState, ctx: RouteContext) =>
  state.deployments.find(
    d => d.repoKey === ctx.repoKey && String(d.id) === ctx.params.deployment_id
  )

/** The commit contexts that are not `success` (what a deployment without required_contexts waits for). */
function failingContexts(state: GitHubState, sha: string, required?: string[]): string[] {
  const statuses = state.commitStatuses.get(sha) ?? new Map<string, string>()
  const contexts = required ?? [...statuses.keys()]
  return contexts.filter(c => statuses.get(c) !== 'success')
}

const createDeployment: GitHubRoute = {
  method: 'POST',
  template: '/repos/{owner}/{repo}/deployments',
  operationId: 'repos/create-deployment',
  needs: [['deployments', 'write']],
  doc: `${DOC_DEPLOYMENTS}#create-a-deployment`,
  handle(ctx, state) {
    const b = ctx.body as Record<string, unknown>
    const ref = String(b.ref)
    const sha = /^[0-9a-f]{40}$/i.test(ref) ? ref.toLowerCase() : fakeSha(`${ctx.repoKey} ${ref}`)
    const autoMerge = b.auto_merge !== false
    if (autoMerge && state.defaultBranchAhead.has(ctx.repoKey))
      return { status: 202, json: { message: `Auto-merged main into ${ref} on deployment.` } }
    const required = b.required_contexts as string[] | undefined
    const failing = failingContexts(state, sha, required)
    if (failing.length)
      return {
        status: 409,
        json: {
          message: `Conflict: Commit status checks failed for ${ref}.`,
          errors: failing.map(context => ({ contexts: [{ context, state: 'pending' }] })),
          documentation_url: `https://docs.github.com/rest/${this.doc}`
        }
      }
    const environment = typeof b.environment === 'string' ? b.environment : 'production'
    const d: DeploymentRecord = {
      id: state.nextId++,
      repoKey: ctx.repoKey,
      sha,
      ref,
      task: typeof b.task === 'string' ? b.task : 'deploy',
      payload: b.payload ?? {},
      environment,
      original_environment: environment,
      description: typeof b.description === 'string' ? b.description : null,
      transient_environment: b.transient_environment === true,
      production_environment:
        typeof b.production_environment === 'boolean'
          ? b.production_environment
          : environment === 'production',
      auto_merge: autoMerge,
      required_contexts: required,
      creator: ctx.login,
      created_at: ctx.now(),
      statuses: []
    }
    state.deployments.push(d)
    return { status: 201, json: deploymentJson(d, ctx) }
  }
}

const listDeployments: GitHubRoute = {
  method: 'GET',
  template: '/repos/{owner}/{repo}/deployments',
  operationId: 'repos/list-deployments',
  needs: [['deployments', 'read']],
  doc: `${DOC_DEPLOYMENTS}#list-deployments`,
  handle(ctx, state) {
    const q = ctx.query
    const matches = (d: DeploymentRecord) =>
      d.repoKey === ctx.repoKey &&
      (!q.get('sha') || d.sha === q.get('sha')) &&
      (!q.get('ref') || d.ref === q.get('ref')) &&
      (!q.get('task') || d.task === q.get('task')) &&
      (!q.get('environment') || d.environment === q.get('environment'))
    const newestFirst = state.deployments.filter(matches).reverse()
    return listReply(
      newestFirst.map(d => deploymentJson(d, ctx)),
      ctx
    )
  }
}

const getDeployment: GitHubRoute = {
  method: 'GET',
  template: '/repos/{owner}/{repo}/deployments/{deployment_id}',
  operationId: 'repos/get-deployment',
  needs: [['deployments', 'read']],
  doc: `${DOC_DEPLOYMENTS}#get-a-deployment`,
  handle(ctx, state) {
    const d = findDeployment(state, ctx)
    return d ? { status: 200, json: deploymentJson(d, ctx) } : notFound(this.doc)
  }
}

/** The inactive statuses a new success status of `d` adds to earlier deployments. */
function inactivateEarlier(state: GitHubState, d: DeploymentRecord, ctx: RouteContext): void {
  for (const other of state.deployments) {
    if (other === d || other.repoKey !== d.repoKey || other.environment !== d.environment) continue
    if (other.transient_environment || other.production_environment) continue
    if (other.statuses.at(-1)?.state !== 'success') continue
    other.statuses.push({
      ...other.statuses.at(-1)!,
      id: state.nextId++,
      state: 'inactive',
      description: '',
      creator: ctx.login,
      created_at: ctx.now()
    })
  }
}

const createStatus: GitHubRoute = {
  method: 'POST',
  template: '/repos/{owner}/{repo}/deployments/{deployment_id}/statuses',
  operationId: 'repos/create-deployment-status',
  needs: [['deployments', 'write']],
  doc: `${DOC_STATUSES}#create-a-deployment-status`,
  handle(ctx, state) {
    const d = findDeployment(state, ctx)
    if (!d) return notFound(this.doc)
    const b = ctx.body as Record<string, unknown>
    const text = (k: string): string => (typeof b[k] === 'string' ? b[k] : '')
    if (typeof b.environment === 'string' && b.environment) d.environment = b.environment
    const logUrl = text('log_url')
    const s: StatusRecord = {
      id: state.nextId++,
      deploymentId: d.id,
      state: String(b.state),
      description: text('description'),
      environment: d.environment,
      target_url: logUrl || text('target_url'),
      log_url: logUrl || text('target_url'),
      environment_url: text('environment_url'),
      creator: ctx.login,
      created_at: ctx.now()
    }
    d.statuses.push(s)
    if (s.state === 'success' && b.auto_inactive !== false) inactivateEarlier(state, d, ctx)
    return { status: 201, json: statusJson(d, s, ctx) }
  }
}

const listStatuses: GitHubRoute = {
  method: 'GET',
  template: '/repos/{owner}/{repo}/deployments/{deployment_id}/statuses',
  operationId: 'repos/list-deployment-statuses',
  needs: [['deployments', 'read']],
  doc: `${DOC_STATUSES}#list-deployment-statuses`,
  handle(ctx, state) {
    const d = findDeployment(state, ctx)
    if (!d) return notFound(this.doc)
    return listReply(
      [...d.statuses].reverse().map(s => statusJson(d, s, ctx)),
      ctx
    )
  }
}

export const deploymentRoutes: GitHubRoute[] = [
  createDeployment,
  listDeployments,
  getDeployment,
  createStatus,
  listStatuses
]
