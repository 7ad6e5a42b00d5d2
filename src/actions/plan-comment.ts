// The plan's pull-request comment: one comment per comment-key, found again by the hidden marker
// on its first line, created once and then updated in place (never a second one), through the
// GitHub seam (core/github.ts). GitHub's REST API, as its OpenAPI description (@octokit/openapi)
// and docs.github.com/en/rest/issues/comments say it: a pull request's conversation comments are
// its issue's comments — GET /repos/{owner}/{repo}/issues/{issue_number}/comments ("Issue comments
// are ordered by ascending ID", paginated), POST to the same path, PATCH
// /repos/{owner}/{repo}/issues/comments/{comment_id}; a GITHUB_TOKEN needs pull-requests: write
// (or issues: write) to create and update them.
import { ActionFailure } from '../core/errors.js'
import { GitHub, GitHubError, type GitHubConfig } from '../core/github.js'
import { commentMarker } from './plan-report.js'
import type { ActionContext } from './runtime.js'

/** What became of the comment. */
export type CommentResult = 'created' | 'updated' | 'unchanged' | 'not written'

const LIST = {
  operation: 'list the comments of the pull request',
  permission: 'pull-requests: read'
}
const CREATE = { operation: 'comment on the pull request', permission: 'pull-requests: write' }
const UPDATE = { operation: "update the plan's comment", permission: 'pull-requests: write' }

/**
 * The first comment (the oldest: ascending ids) whose body starts with the marker and that an app
 * wrote (the workflow's GITHUB_TOKEN writes as github-actions[bot], a GitHub App as its bot): a
 * person's comment that copies the marker is never taken for the plan, as its author could edit
 * it afterwards to show a false plan under the plan's name.
 */
async function findComment(
  github: GitHub,
  pullRequest: number,
  marker: string
): Promise<{ id: number; body: string } | undefined> {
  const { owner, repo } = github.repo
  const comments = await github.call(LIST, octokit =>
    octokit.paginate(octokit.rest.issues.listComments, {
      owner,
      repo,
      issue_number: pullRequest,
      per_page: 100
    })
  )
  const found = comments.find(
    c => c.user?.type === 'Bot' && ((c.body ?? '').startsWith(`${marker}\n`) || c.body === marker)
  )
  return found ? { id: found.id, body: found.body ?? '' } : undefined
}

/**
 * Writes the plan's comment on the pull request: the one with the marker updated when its body
 * differs, else created. A failure to write it (a token without the permission, a fork's
 * read-only token) is a warning naming the permission: the plan itself stands.
 */
export async function writeComment(
  ctx: ActionContext,
  target: { github: GitHubConfig; key: string; pullRequest?: number },
  body: string,
  userAgent: string
): Promise<CommentResult> {
  if (target.pullRequest === undefined) {
    ctx.notice('comment: true, but this run is not for a pull request: no comment written')
    return 'not written'
  }
  if (!target.github.repository) {
    ctx.notice('comment: true, but GITHUB_REPOSITORY is not set: no comment written')
    return 'not written'
  }
  const github = new GitHub(target.github, { env: ctx.env, signal: ctx.signal, userAgent })
  const { owner, repo } = github.repo
  try {
    const found = await findComment(github, target.pullRequest, commentMarker(target.key))
    if (found?.body === body) return 'unchanged'
    if (found) {
      await github.call(UPDATE, octokit =>
        octokit.rest.issues.updateComment({ owner, repo, comment_id: found.id, body })
      )
      return 'updated'
    }
    await github.call(CREATE, octokit =>
      octokit.rest.issues.createComment({
        owner,
        repo,
        issue_number: target.pullRequest as number,
        body
      })
    )
    return 'created'
  } catch (e) {
    if (!(e instanceof GitHubError)) throw e
    if (e.kind === 'aborted') throw new ActionFailure(e.message)
    ctx.warning(`the plan is not written as a comment: ${e.message}`)
    return 'not written'
  }
}
