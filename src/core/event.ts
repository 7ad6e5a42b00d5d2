// The base and head commits a GitHub event names, read from its payload (GITHUB_EVENT_PATH): a
// push's before and after, a pull request's base and head. changed-jobs compares them when the
// base input is not set; an event that names none is a problem of the inputs.
import { readFileSync } from 'node:fs'
import type { InputSource, Problems } from './inputs.js'

/** A commit id of zeros: the branch did not exist before a push, or no longer does after it. */
const ZERO_SHA = /^0+$/

export interface EventRefs {
  base?: string
  head?: string
  mergeBase: boolean
  newBranch: boolean
}

/** base and head from the event payload, or a problem. */
export function eventRefs(inputs: InputSource, problems: Problems): EventRefs | undefined {
  const name = inputs.env.GITHUB_EVENT_NAME ?? ''
  const path = inputs.env.GITHUB_EVENT_PATH ?? ''
  const known = ['push', 'pull_request', 'pull_request_target']
  if (!known.includes(name)) {
    problems.add(
      `the ${name ? `'${name}'` : 'unknown'} event has no base and head to compare; set the base input (and head, default: HEAD), or run on push or pull_request`
    )
    return undefined
  }
  let payload: unknown
  try {
    payload = JSON.parse(readFileSync(path, 'utf8'))
  } catch (e) {
    problems.add(
      `the event payload at GITHUB_EVENT_PATH ('${path}') cannot be read: ${(e as Error).message.split('\n')[0]}; or set the base and head inputs`
    )
    return undefined
  }
  const p = payload as {
    before?: unknown
    after?: unknown
    pull_request?: { base?: { sha?: unknown }; head?: { sha?: unknown } }
  }
  const str = (v: unknown): string | undefined =>
    typeof v === 'string' && v !== '' ? v : undefined
  if (name === 'push') {
    const before = str(p.before)
    const after = str(p.after)
    if (!after || !before) {
      problems.add(
        `the push event payload has no before/after commits; set the base and head inputs`
      )
      return undefined
    }
    // a deleted branch: nothing to compare (after is all zeros)
    if (ZERO_SHA.test(after)) {
      problems.add(`the push deleted its branch (after is all zeros): there is no head to compare`)
      return undefined
    }
    return ZERO_SHA.test(before)
      ? { head: after, mergeBase: false, newBranch: true }
      : { base: before, head: after, mergeBase: false, newBranch: false }
  }
  const base = str(p.pull_request?.base?.sha)
  const head = str(p.pull_request?.head?.sha)
  if (!base || !head) {
    problems.add(
      `the ${name} event payload has no pull_request.base.sha/head.sha; set the base and head inputs`
    )
    return undefined
  }
  return { base, head, mergeBase: true, newBranch: false }
}

/** The pull request of a `pull_request` or `pull_request_target` event, from its payload. */
export interface PullRequestEvent {
  number: number
  /**
   * Its head is in another repository than its base (payload pull_request.head.repo.full_name and
   * base.repo; a deleted fork leaves head.repo null). On `pull_request` GitHub then passes no
   * secrets to the run and gives its GITHUB_TOKEN read access only ("With the exception of
   * GITHUB_TOKEN, secrets are not passed to the runner when a workflow is triggered from a forked
   * repository. The GITHUB_TOKEN has read-only permissions in pull requests from forked
   * repositories": docs.github.com, Events that trigger workflows, "Pull request events for
   * forked repositories").
   */
  fromFork: boolean
}

/** The event's pull request; undefined for another event or a payload that cannot be read. */
export function pullRequestOf(env: NodeJS.ProcessEnv): PullRequestEvent | undefined {
  const name = env.GITHUB_EVENT_NAME
  if ((name !== 'pull_request' && name !== 'pull_request_target') || !env.GITHUB_EVENT_PATH)
    return undefined
  try {
    const p = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as {
      pull_request?: {
        number?: unknown
        head?: { repo?: { full_name?: unknown } | null }
        base?: { repo?: { full_name?: unknown } }
      }
    }
    const number = p.pull_request?.number
    if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 1) return undefined
    const base = p.pull_request?.base?.repo?.full_name
    const head = p.pull_request?.head?.repo?.full_name
    return { number, fromFork: typeof base === 'string' && head !== base }
  } catch {
    return undefined
  }
}
