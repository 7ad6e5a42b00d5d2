// The two commits changed-jobs compares, found with git in the checkout: the event's (or the
// inputs') base and head, the merge base of a pull request, a new branch's first parent. When the
// checkout is too shallow for git to reach the base, this says why and which commits GitHub's
// compare API can be asked about instead (core/comparefiles.ts); the advice of a failure names
// both ways out: a deeper checkout, or a token for that API.
import { ActionFailure } from './errors.js'
import { commitOf, isShallow, mergeBase, namedParents } from './git.js'

/** The fix for a checkout too shallow, when no GitHub token can stand in for the history. */
export const TOO_SHALLOW =
  'check out with actions/checkout and fetch-depth: 0 (or a depth that reaches the base)'

/** The fixes for a checkout too shallow for git to compare: a deeper one, or the compare API. */
export const TOO_SHALLOW_NO_TOKEN = `${TOO_SHALLOW}, or set github-token (default: the workflow's github.token, with contents: read) so that GitHub's compare API lists the changed files`

export const short = (sha: string): string => sha.slice(0, 12)

/** The commits git compares (no base: every job is new), and how, for the log. */
export interface GitRange {
  base?: string
  head: string
  described: string
}

/**
 * A comparison git cannot make in this checkout (it is too shallow), and what GitHub's compare
 * API is asked instead: `base...head`, which GitHub compares from their merge base.
 */
export interface ShallowRange {
  /** Why git cannot compare, one line without advice. */
  why: string
  base: string
  head: string
  /**
   * Whether the comparison is from the merge base (a pull request); otherwise from base itself,
   * which GitHub's three-dot comparison gives only when base is an ancestor of head.
   */
  fromMergeBase: boolean
}

export interface RangeRequest {
  /** The repository's top folder. */
  top: string
  /** The base as given (the event's or the input's), none for a push that created a branch. */
  base?: string
  head: string
  /** Compare the merge base of base and head (pull requests). */
  mergeBase: boolean
  /** A push that created a branch: compare against head's first parent. */
  newBranch: boolean
}

/** The commit to compare from, for a push that created a branch: head's first parent. */
async function newBranchRange(cwd: string, head: string): Promise<GitRange | ShallowRange> {
  const parent = await commitOf(cwd, `${head}^1`)
  if (parent)
    return {
      base: parent,
      head,
      described: `a new branch: its head ${short(head)} against its first parent ${short(parent)}`
    }
  if (await isShallow(cwd)) {
    // the commit still names its parent, which the shallow checkout does not hold
    const [named] = await namedParents(cwd, head)
    if (named)
      return {
        why: `the first parent ${short(named)} of the head commit ${short(head)} is not in this checkout (it is too shallow)`,
        base: named,
        head,
        fromMergeBase: false
      }
  }
  return {
    head,
    described: `a new branch whose head ${short(head)} has no parent: every job in it`
  }
}

/**
 * The commits to compare. A head missing from the checkout fails (its job folders are needed);
 * a base or merge base missing from it is a ShallowRange, for the caller to ask GitHub or fail.
 */
export async function compareRange(request: RangeRequest): Promise<GitRange | ShallowRange> {
  const cwd = request.top
  const head = await commitOf(cwd, request.head)
  if (!head)
    throw new ActionFailure(
      `the head commit ${short(request.head)} is not in this checkout (on a pull request, actions/checkout checks out a merge commit instead: give it ref: \${{ github.event.pull_request.head.sha }}); ${TOO_SHALLOW}`
    )
  if (request.newBranch) return newBranchRange(cwd, head)
  const given = request.base as string
  const base = await commitOf(cwd, given)
  if (!base)
    return {
      why: `the base commit ${short(given)} is not in this checkout (it is too shallow to compare)`,
      base: given,
      head,
      fromMergeBase: request.mergeBase
    }
  if (!request.mergeBase) return { base, head, described: `${short(base)} to ${short(head)}` }
  const mb = await mergeBase(cwd, base, head)
  if (!mb)
    return {
      why: `the base ${short(base)} and head ${short(head)} have no merge base in this checkout (it is too shallow)`,
      base,
      head,
      fromMergeBase: true
    }
  return {
    base: mb,
    head,
    described: `${short(mb)} (merge base of ${short(base)} and ${short(head)}) to ${short(head)}`
  }
}

export const isShallowRange = (range: GitRange | ShallowRange): range is ShallowRange =>
  'why' in range
