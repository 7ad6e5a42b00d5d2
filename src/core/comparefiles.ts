// The changed files between two commits as GitHub's compare API lists them, for changed-jobs when
// the checkout is too shallow for git to compare (core/comparerange.ts): every page read, renames
// with their old path, and a list that may have been cut at GitHub's cap refused rather than used.
//
// GitHub's documentation of "Compare two commits" (GET /repos/{owner}/{repo}/compare/{basehead},
// docs.github.com/en/rest/commits/commits#compare-two-commits, "Working with large comparisons";
// the same text is in @octokit/openapi's description of the operation) says: with a paging
// parameter (per_page, at most 100, or page) the commits are paginated, "the list of changed files
// is only shown on the first page of results, and it includes up to 300 changed files for the
// entire comparison". `basehead` is `BASE...HEAD`: GitHub compares HEAD with the merge base of the
// two ("three-dot" comparison: docs.github.com/en/pull-requests/collaborating-with-pull-requests/
// proposing-changes-to-your-work-with-pull-requests/about-comparing-branches-in-pull-requests),
// and says which commit that is (merge_base_commit). A diff entry's `status` is one of added,
// removed, modified, renamed, copied, changed, unchanged, and a renamed one has
// `previous_filename` (the diff-entry schema of the same description).
import { baseFiles, type ComparedFile } from './basefiles.js'
import { TOO_SHALLOW, short, type GitRange, type ShallowRange } from './comparerange.js'
import { ActionFailure } from './errors.js'
import { treeFiles } from './git.js'
import { GitHubError, type GitHub } from './github.js'
import { jobTreesOf, type JobTree } from './jobtrees.js'

/** The most changed files GitHub lists for one comparison: a list this long may be cut. */
export const COMPARE_FILES_CAP = 300

/** The most commits a page holds (per_page's maximum). */
const PER_PAGE = 100

/** The statuses of a diff entry (the diff-entry schema). */
const STATUSES = ['added', 'removed', 'modified', 'renamed', 'copied', 'changed', 'unchanged']

export interface Comparison {
  files: ComparedFile[]
  /** The commit GitHub compared from: the merge base of base and head. */
  mergeBase: string
  /** The pages asked for (the last may have brought no files). */
  pages: number
}

/** What changed-jobs asks the compare API for, and how the failure says it. */
const COMPARE_CALL = {
  operation: 'list the changed files with the compare API',
  permission: 'contents: read'
}

/** A path from the top as a tree names one: no empty, '.' or '..' part, no NUL, not absolute. */
const isTreePath = (path: string): boolean =>
  path !== '' &&
  !path.includes('\0') &&
  path.split('/').every(p => p !== '' && p !== '.' && p !== '..')

/** The files of one page of the answer; an entry not as documented fails the comparison. */
function filesOf(data: unknown): ComparedFile[] {
  const files = (data as { files?: unknown }).files
  if (files === undefined) return []
  const wrong = (why: string): never => {
    throw new ActionFailure(`GitHub's compare API answered a list of files that ${why}`)
  }
  if (!Array.isArray(files)) return wrong('is not a list')
  return files.map((entry: unknown): ComparedFile => {
    const e = (entry ?? {}) as { filename?: unknown; status?: unknown; previous_filename?: unknown }
    if (typeof e.filename !== 'string' || !isTreePath(e.filename))
      return wrong('holds an entry without a path of the repository (filename)')
    if (typeof e.status !== 'string' || !STATUSES.includes(e.status))
      return wrong('holds an entry whose status is none of those documented')
    const previous = e.previous_filename
    if (previous !== undefined && (typeof previous !== 'string' || !isTreePath(previous)))
      return wrong('holds an entry whose previous_filename is not a path of the repository')
    if (e.status === 'renamed' && previous === undefined)
      return wrong('holds a renamed entry without its previous_filename')
    return { path: e.filename, status: e.status, previous }
  })
}

/**
 * Every page of the answer to `base...head` (the files come on the first; a page after it that
 * brings none ends the reading); a failure is GitHub's reason with the advice of a full checkout.
 */
async function readPages(
  github: GitHub,
  base: string,
  head: string
): Promise<{ answers: unknown[]; pages: number }> {
  try {
    // the answers are checked after the call: a wrong answer is not a failed call
    return await github.call(COMPARE_CALL, async octokit => {
      const route = 'GET /repos/{owner}/{repo}/compare/{basehead}' as const
      const params = { ...github.repo, basehead: `${base}...${head}`, per_page: PER_PAGE }
      const answers: unknown[] = []
      let listed = 0
      // the pages by number, as long as GitHub links a next one (its Link header), and a page
      // after the first brings files (octokit's paginate.iterator is not used: at a comparison's
      // last page it reads the answer's own URL, which a fetch of the caller's may not keep)
      let pages = 0
      for (;;) {
        pages++
        const answer = await octokit.request(route, { ...params, page: pages })
        const files = (answer.data as { files?: unknown }).files
        const count = Array.isArray(files) ? files.length : 0
        if (pages > 1 && !count) break
        answers.push(answer.data)
        listed += count
        if (
          listed >= COMPARE_FILES_CAP ||
          !/<[^<>]+>;\s*rel="next"/.test(answer.headers.link ?? '')
        )
          break
      }
      return { answers, pages }
    })
  } catch (e) {
    if (!(e instanceof GitHubError)) throw e
    throw new ActionFailure(`${e.message}; ${TOO_SHALLOW}`)
  }
}

/**
 * The files that changed from the merge base of `base` and `head` to `head`, read from every page
 * GitHub gives (the files come on the first; a page after it that brings none ends the reading).
 * Fails, with the advice of a full checkout, when the list may be cut at COMPARE_FILES_CAP.
 */
export async function compareFiles(
  github: GitHub,
  base: string,
  head: string
): Promise<Comparison> {
  const { answers, pages } = await readPages(github, base, head)
  const files = answers.flatMap(filesOf)
  if (files.length >= COMPARE_FILES_CAP)
    throw new ActionFailure(
      `GitHub's compare API lists at most ${COMPARE_FILES_CAP} changed files, and it listed ${files.length} for ${short(base)}...${short(head)}: the list may be cut, so no job is listed from it; ${TOO_SHALLOW}`
    )
  const first = (answers[0] ?? {}) as { merge_base_commit?: { sha?: unknown } }
  const mergeBase = first.merge_base_commit?.sha
  if (typeof mergeBase !== 'string' || !/^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(mergeBase))
    throw new ActionFailure(
      `GitHub's compare API answered no merge base commit (merge_base_commit.sha)`
    )
  return { files, mergeBase: mergeBase.toLowerCase(), pages }
}

/**
 * The job folders under `root` of the head (read with git: the checkout holds it) and of the base
 * (rebuilt from the head's files and GitHub's list of changed files: core/basefiles.ts) of a
 * comparison git cannot make; a push's base must be an ancestor of its head, as GitHub compares
 * from the merge base.
 */
export async function jobTreesByGitHub(
  github: GitHub,
  top: string,
  root: string,
  range: ShallowRange
): Promise<{
  compared: GitRange
  atHead: Map<string, JobTree>
  atBase: Map<string, JobTree>
  files: number
  pages: number
}> {
  const answer = await compareFiles(github, range.base, range.head)
  if (!range.fromMergeBase && answer.mergeBase !== range.base.toLowerCase())
    throw new ActionFailure(
      `${range.why}, and GitHub compares from the merge base ${short(answer.mergeBase)} of the base and the head, not from the base (the push replaced its history?); ${TOO_SHALLOW}`
    )
  const headFiles = await treeFiles(top, range.head, root)
  const described = range.fromMergeBase
    ? `${short(answer.mergeBase)} (merge base of ${short(range.base)} and ${short(range.head)}, by GitHub) to ${short(range.head)}`
    : `${short(range.base)} to ${short(range.head)}`
  return {
    compared: { base: answer.mergeBase, head: range.head, described },
    atHead: jobTreesOf(headFiles, root),
    atBase: jobTreesOf(baseFiles(headFiles, answer.files, root), root),
    files: answer.files.length,
    pages: answer.pages
  }
}
