// What the GitHub test server remembers between requests (deployments and their statuses, issue
// comments, the comparisons a test gives, commit statuses), and the shape of a route.
import type { Level, Reply, RouteContext, Scope } from './objects.js'

export interface StatusRecord {
  id: number
  deploymentId: number
  state: string
  description: string
  environment: string
  target_url: string
  log_url: string
  environment_url: string
  creator: string
  created_at: string
}

export interface DeploymentRecord {
  id: number
  repoKey: string
  sha: string
  ref: string
  task: string
  payload: unknown
  environment: string
  original_environment: string
  description: string | null
  transient_environment: boolean
  production_environment: boolean
  auto_merge: boolean
  required_contexts?: string[]
  creator: string
  created_at: string
  /** Newest last. */
  statuses: StatusRecord[]
}

export interface CommentRecord {
  id: number
  repoKey: string
  issue: number
  body: string
  login: string
  created_at: string
  updated_at: string
}

/** A changed file of a comparison, as a test gives it. */
export interface ChangedFile {
  filename: string
  status: 'added' | 'removed' | 'modified' | 'renamed' | 'copied' | 'changed' | 'unchanged'
  previous_filename?: string
}

export interface Comparison {
  files: ChangedFile[]
  /** How many commits the comparison has (default 1). */
  commits?: number
}

export interface GitHubState {
  nextId: number
  deployments: DeploymentRecord[]
  comments: CommentRecord[]
  /** By "owner/repo basehead". */
  comparisons: Map<string, Comparison>
  /** Commit statuses by sha: what create-deployment checks when required_contexts is omitted. */
  commitStatuses: Map<string, Map<string, string>>
  /** Repositories whose default branch is ahead of what is deployed (auto_merge then merges). */
  defaultBranchAhead: Set<string>
}

export const emptyState = (): GitHubState => ({
  nextId: 1,
  deployments: [],
  comments: [],
  comparisons: new Map(),
  commitStatuses: new Map(),
  defaultBranchAhead: new Set()
})

/** One operation of GitHub's description that the server answers. */
export interface GitHubRoute {
  method: string
  /** The path template of the description: /repos/{owner}/{repo}/deployments. */
  template: string
  operationId: string
  /** The permissions that allow it: any one of them (e.g. issues or pull_requests: write). */
  needs: Array<[Scope, Level]>
  /** The docs page of the operation (for documentation_url): "deployments/deployments#…". */
  doc: string
  handle(ctx: RouteContext, state: GitHubState): Reply
}
