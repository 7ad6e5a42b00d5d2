// A pull_request event's payload as the runner gives it (GITHUB_EVENT_PATH), with the fields the
// actions read: the number, the base and head commits, and each side's repository (a fork's head
// is in another repository).
import { writeFileSync } from 'node:fs'

export interface PullRequestFields {
  number: number
  base: string
  head: string
  /** The repository of the base (default acme/data-jobs, GITHUB_REPOSITORY of the test runs). */
  baseRepo?: string
  /** The repository of the head (default: the base's; another one for a fork). */
  headRepo?: string
}

/** Writes the payload to `path`; returns `path`. */
export function writePullRequestEvent(path: string, pr: PullRequestFields): string {
  const baseRepo = pr.baseRepo ?? 'acme/data-jobs'
  const pull_request = {
    number: pr.number,
    base: { sha: pr.base, repo: { full_name: baseRepo } },
    head: { sha: pr.head, repo: { full_name: pr.headRepo ?? baseRepo } }
  }
  writeFileSync(path, JSON.stringify({ pull_request }))
  return path
}
