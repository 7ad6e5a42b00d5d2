// The issue comment routes of the GitHub test server (a pull request's conversation is its issue's
// comments): list (oldest first, paginated with Link, `since`), create, update in place —
// docs.github.com/en/rest/issues/comments. Allowed by issues or pull_requests permissions
// (docs.github.com/en/rest/authentication/permissions-required-for-github-apps).
import { listReply, nodeId, notFound, user, type RouteContext } from './objects.js'
import type { CommentRecord, GitHubRoute } from './state.js'

const DOC = 'issues/comments'

function commentJson(c: CommentRecord, ctx: RouteContext): Record<string, unknown> {
  const repoUrl = `${ctx.api}/repos/${c.repoKey}`
  return {
    id: c.id,
    node_id: nodeId('IssueComment', c.id),
    url: `${repoUrl}/issues/comments/${c.id}`,
    body: c.body,
    html_url: `${ctx.web}/${c.repoKey}/pull/${c.issue}#issuecomment-${c.id}`,
    user: user(c.login, ctx.web, ctx.api),
    created_at: c.created_at,
    updated_at: c.updated_at,
    issue_url: `${repoUrl}/issues/${c.issue}`,
    author_association: 'NONE',
    performed_via_github_app: null
  }
}

export const commentRoutes: GitHubRoute[] = [
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/issues/{issue_number}/comments',
    operationId: 'issues/list-comments',
    needs: [
      ['issues', 'read'],
      ['pull_requests', 'read']
    ],
    doc: `${DOC}#list-issue-comments`,
    handle(ctx, state) {
      const since = ctx.query.get('since')
      const found = state.comments.filter(
        c =>
          c.repoKey === ctx.repoKey &&
          String(c.issue) === ctx.params.issue_number &&
          (!since || c.updated_at >= since)
      )
      return listReply(
        found.map(c => commentJson(c, ctx)),
        ctx
      )
    }
  },
  {
    method: 'POST',
    template: '/repos/{owner}/{repo}/issues/{issue_number}/comments',
    operationId: 'issues/create-comment',
    needs: [
      ['issues', 'write'],
      ['pull_requests', 'write']
    ],
    doc: `${DOC}#create-an-issue-comment`,
    handle(ctx, state) {
      const now = ctx.now()
      const c: CommentRecord = {
        id: state.nextId++,
        repoKey: ctx.repoKey,
        issue: Number(ctx.params.issue_number),
        body: String((ctx.body as { body: string }).body),
        login: ctx.login,
        created_at: now,
        updated_at: now
      }
      state.comments.push(c)
      return {
        status: 201,
        json: commentJson(c, ctx),
        headers: { location: `${ctx.api}/repos/${c.repoKey}/issues/comments/${c.id}` }
      }
    }
  },
  {
    method: 'PATCH',
    template: '/repos/{owner}/{repo}/issues/comments/{comment_id}',
    operationId: 'issues/update-comment',
    needs: [
      ['issues', 'write'],
      ['pull_requests', 'write']
    ],
    doc: `${DOC}#update-an-issue-comment`,
    handle(ctx, state) {
      const c = state.comments.find(
        x => x.repoKey === ctx.repoKey && String(x.id) === ctx.params.comment_id
      )
      if (!c) return notFound(this.doc)
      c.body = String((ctx.body as { body: string }).body)
      c.updated_at = ctx.now()
      return { status: 200, json: commentJson(c, ctx) }
    }
  }
]
