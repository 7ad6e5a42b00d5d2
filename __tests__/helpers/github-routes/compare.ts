// The compare route of the GitHub test server, as GitHub's REST description documents it
// (repos/compare-commits-with-basehead, docs.github.com/en/rest/commits/commits#compare-two-commits):
// `page`/`per_page` page the COMMITS (with Link); "the list of changed files is only shown on the
// first page of results, and it includes up to 300 changed files for the entire comparison";
// renamed files carry `previous_filename`. A comparison the test did not give answers 404.
import { fakeSha, linkHeader, nodeId, notFound, user, type RouteContext } from './objects.js'
import type { ChangedFile, GitHubRoute } from './state.js'

/** The most changed files a comparison shows (the description's "up to 300"). */
export const COMPARE_MAX_FILES = 300
/** The most commits without paging parameters (the description's "limited to 250 commits"). */
const UNPAGED_MAX_COMMITS = 250

function commitJson(sha: string, ctx: RouteContext): Record<string, unknown> {
  const url = `${ctx.api}/repos/${ctx.repoKey}/commits/${sha}`
  const person = { name: 'A Data Engineer', email: 'engineer@example.com', date: ctx.now() }
  return {
    url,
    sha,
    node_id: nodeId('Commit', parseInt(sha.slice(0, 6), 16)),
    html_url: `${ctx.web}/${ctx.repoKey}/commit/${sha}`,
    comments_url: `${url}/comments`,
    commit: {
      url: `${ctx.api}/repos/${ctx.repoKey}/git/commits/${sha}`,
      author: person,
      committer: person,
      message: `change ${sha.slice(0, 7)}`,
      comment_count: 0,
      tree: { sha: fakeSha(`tree ${sha}`), url: `${ctx.api}/repos/${ctx.repoKey}/git/trees/${sha}` }
    },
    author: user('engineer', ctx.web, ctx.api),
    committer: user('engineer', ctx.web, ctx.api),
    parents: []
  }
}

function fileJson(f: ChangedFile, head: string, ctx: RouteContext): Record<string, unknown> {
  const path = f.filename.split('/').map(encodeURIComponent).join('/')
  return {
    sha: fakeSha(`blob ${f.filename}`),
    filename: f.filename,
    status: f.status,
    additions: 1,
    deletions: f.status === 'added' ? 0 : 1,
    changes: f.status === 'added' ? 1 : 2,
    blob_url: `${ctx.web}/${ctx.repoKey}/blob/${head}/${path}`,
    raw_url: `${ctx.web}/${ctx.repoKey}/raw/${head}/${path}`,
    contents_url: `${ctx.api}/repos/${ctx.repoKey}/contents/${path}?ref=${head}`,
    ...(f.previous_filename !== undefined ? { previous_filename: f.previous_filename } : {})
  }
}

export const compareRoutes: GitHubRoute[] = [
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/compare/{basehead}',
    operationId: 'repos/compare-commits-with-basehead',
    needs: [['contents', 'read']],
    doc: 'commits/commits#compare-two-commits',
    handle(ctx, state) {
      const basehead = ctx.params.basehead
      const comparison = state.comparisons.get(`${ctx.repoKey} ${basehead}`)
      const [base, head] = basehead.split('...')
      if (!comparison || head === undefined) return notFound(this.doc)
      const shas = Array.from({ length: comparison.commits ?? 1 }, (_, i) =>
        fakeSha(`${basehead} ${i}`)
      )
      const paged = ctx.query.has('page') || ctx.query.has('per_page')
      const perPage = Math.min(100, Math.max(1, Number(ctx.query.get('per_page') ?? 30) || 30))
      const at = Math.max(1, Number(ctx.query.get('page') ?? 1) || 1)
      const commits = paged
        ? shas.slice((at - 1) * perPage, at * perPage)
        : shas.slice(-UNPAGED_MAX_COMMITS)
      const last = paged ? Math.max(1, Math.ceil(shas.length / perPage)) : 1
      const link = paged ? linkHeader(ctx, at, last, perPage) : undefined
      const files =
        at === 1
          ? comparison.files.slice(0, COMPARE_MAX_FILES).map(f => fileJson(f, head, ctx))
          : []
      const repoWeb = `${ctx.web}/${ctx.repoKey}`
      return {
        status: 200,
        headers: link ? { link } : {},
        json: {
          url: `${ctx.api}/repos/${ctx.repoKey}/compare/${basehead}`,
          html_url: `${repoWeb}/compare/${basehead}`,
          permalink_url: `${repoWeb}/compare/${base}...${head}`,
          diff_url: `${repoWeb}/compare/${basehead}.diff`,
          patch_url: `${repoWeb}/compare/${basehead}.patch`,
          base_commit: commitJson(fakeSha(`base ${base}`), ctx),
          merge_base_commit: commitJson(fakeSha(`base ${base}`), ctx),
          status: 'ahead',
          ahead_by: shas.length,
          behind_by: 0,
          total_commits: shas.length,
          commits: commits.map(sha => commitJson(sha, ctx)),
          files
        }
      }
    }
  }
]
