// plan's inputs, read once before anything is sent: which jobs to plan (changed-jobs' `jobs` and
// `deleted` JSON, or one job-path), how to read the Control Service (read-only: a missing URL, or
// a pull request from a fork without secrets, skips the live part with one note), the commits to
// take the changed files from, the properties file of each job, and the pull-request comment.
import { statSync } from 'node:fs'
import { readConnection, type ConnectionConfig } from '../core/connection.js'
import { eventRefs, pullRequestOf } from '../core/event.js'
import { readGitHub, type GitHubConfig } from '../core/github.js'
import {
  choice,
  parseBoolean,
  workspacePath,
  type InputSource,
  type Problems
} from '../core/inputs.js'
import { folderJobName } from '../core/jobdir.js'
import { hasControl } from '../core/text.js'
import { readDeletedInput } from './deleted-input.js'
import { readJobPath, readTeamInput } from './job.js'

/** A job folder to plan: as given, and its folder. */
export interface PlannedJob {
  /** The path as given (relative to the workspace), for the report. */
  path: string
  jobDir: string
  name: string
  /** The team changed-jobs named (from config.ini at the head), if any. */
  team?: string
}

/** A job whose folder the change deletes: its path at the base and its name. */
export interface GoneJob {
  path: string
  name: string
}

/** The commits to compare for the changed files, and how they were chosen (for the log). */
export interface PlanRefs {
  base: string
  head: string
  /** Compare the merge base of base and head (pull requests). */
  mergeBase: boolean
  source: string
}

export interface PlanConfig {
  /** Absent: the live part is skipped, for `skipped`'s reason. */
  connection?: ConnectionConfig
  /** Why the Control Service is not read (one note), when it is not. */
  skipped?: string
  jobs: PlannedJob[]
  deleted: GoneJob[]
  /** The team input: for a job whose config.ini names none, and for deleted jobs. */
  team?: string
  /** A file name inside each job folder holding the properties set-properties would write. */
  propertiesFile?: string
  propertiesMode: 'merge' | 'replace'
  showValues: boolean
  /** deploy's `enabled` input, when the deploy step sets one. */
  enabled?: boolean
  refs?: PlanRefs
  /** Why the changed files are not compared, when they are not. */
  noRefs?: string
  /** The pull-request comment; `pullRequest` absent when the event is not a pull request. */
  comment?: { github: GitHubConfig; key: string; pullRequest?: number }
}

/** A JSON list of objects from an input, or a problem of that input. */
function jsonList(inputs: InputSource, name: string, problems: Problems): object[] {
  const raw = inputs.input(name)
  if (!raw) return []
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch {
    problems.add(name, 'is not JSON: pass the output of changed-jobs as it is')
    return []
  }
  if (!Array.isArray(value) || value.some(v => typeof v !== 'object' || v === null)) {
    problems.add(name, 'must be a JSON list of objects, as changed-jobs writes it')
    return []
  }
  return value as object[]
}

/** The string field `key` of a list entry, or undefined. */
const field = (entry: object, key: string): string | undefined => {
  const v = (entry as Record<string, unknown>)[key]
  return typeof v === 'string' ? v : undefined
}

/** `jobs` (changed-jobs' output) or `job-path`: the job folders, each a folder in the workspace. */
function readJobs(inputs: InputSource, problems: Problems): PlannedJob[] {
  if (inputs.input('job-path') && inputs.input('jobs')) {
    problems.add('set jobs (the output of changed-jobs) or job-path, not both')
    return []
  }
  if (inputs.input('job-path')) {
    const { raw, jobDir } = readJobPath(inputs, problems, true)
    return jobDir ? [{ path: raw, jobDir, name: folderJobName(jobDir) }] : []
  }
  const jobs: PlannedJob[] = []
  for (const [i, entry] of jsonList(inputs, 'jobs', problems).entries()) {
    const path = field(entry, 'path')
    const team = field(entry, 'team')
    if (!path || hasControl(path)) {
      problems.add('jobs', `entry ${i + 1} has no path (expected {"path", "name", "team"})`)
      continue
    }
    const jobDir = workspacePath(inputs, path)
    let isDir = false
    try {
      isDir = statSync(jobDir).isDirectory()
    } catch {
      // said below
    }
    if (!isDir) problems.add('jobs', `entry ${i + 1}: '${path}' is not a folder in the workspace`)
    else jobs.push({ path, jobDir, name: folderJobName(jobDir), team: team || undefined })
  }
  return jobs
}

/** `deleted` (changed-jobs' output): the jobs whose folders are gone, read as prune reads them. */
const readDeleted = (inputs: InputSource, problems: Problems): GoneJob[] =>
  readDeletedInput(inputs, problems).map(job => ({ name: job.name, path: job.path ?? '' }))

/** The commits: the base and head inputs, or the event's (a push's or a pull request's). */
function readRefs(inputs: InputSource, problems: Problems): { refs?: PlanRefs; noRefs?: string } {
  const base = inputs.input('base')
  const head = inputs.input('head') || 'HEAD'
  if (base) return { refs: { base, head, mergeBase: false, source: 'the base and head inputs' } }
  const event = inputs.env.GITHUB_EVENT_NAME ?? ''
  if (!['push', 'pull_request', 'pull_request_target'].includes(event))
    return {
      noRefs: `the ${event ? `'${event}'` : 'unknown'} event names no base commit (set the base input): the changed files are not listed`
    }
  const refs = eventRefs(inputs, problems)
  if (!refs?.base || !refs.head)
    return { noRefs: 'the event names no base commit: the changed files are not listed' }
  return {
    refs: {
      base: refs.base,
      head: inputs.input('head') || refs.head,
      mergeBase: refs.mergeBase,
      source: `the ${event} event`
    }
  }
}

/** The Control Service to read, or why it is not read. */
function readLive(
  inputs: InputSource,
  problems: Problems
): { connection?: ConnectionConfig; skipped?: string } {
  const connection = readConnection(inputs, problems, { urlRequired: false })
  if (
    connection.auth.kind === 'none' &&
    inputs.env.GITHUB_EVENT_NAME === 'pull_request' &&
    pullRequestOf(inputs.env)?.fromFork
  )
    return {
      skipped:
        'this pull request comes from a fork, and GitHub gives such a run no secrets (no access-token or api-token): the Control Service is not read; the plan shows the changed files and the checks of each job only'
    }
  if (!connection.url)
    return {
      skipped:
        'control-service-url is not given (nor VDK_CONTROL_SERVICE_REST_API_URL): the Control Service is not read; the plan shows the changed files and the checks of each job only'
    }
  return { connection }
}

/** comment, comment-key and github-token: the pull-request comment, when it is asked for. */
function readComment(inputs: InputSource, problems: Problems): PlanConfig['comment'] {
  const key = inputs.input('comment-key')
  if (hasControl(key) || key.length > 100)
    problems.add('comment-key', 'must be one line of text of at most 100 characters')
  // read (and its token masked) whether or not it is used, as every action reads its inputs
  const github = readGitHub(inputs, problems)
  if (!parseBoolean('comment', inputs.input('comment'), false, problems)) return undefined
  if (!github.token)
    problems.add(
      'github-token',
      'is required with comment: true (its default is ${{ github.token }}, with permissions: pull-requests: write)'
    )
  return { github, key, pullRequest: pullRequestOf(inputs.env)?.number }
}

/**
 * properties-file (a file name inside each job folder) and properties-mode (how set-properties
 * writes it): plan and drift compare each job's file with the deployed properties.
 */
export function readPropertiesInputs(
  inputs: InputSource,
  problems: Problems
): Pick<PlanConfig, 'propertiesFile' | 'propertiesMode'> {
  const propertiesFile = inputs.input('properties-file') || undefined
  if (propertiesFile && (/[\\/]/.test(propertiesFile) || !/\.(json|ya?ml)$/i.test(propertiesFile)))
    problems.add(
      'properties-file',
      `'${propertiesFile}' must be the name of a .json, .yaml or .yml file inside each job folder (no folders)`
    )
  const propertiesMode = choice(
    'properties-mode',
    inputs.input('properties-mode'),
    ['merge', 'replace'] as const,
    'merge',
    problems
  )
  return { propertiesFile, propertiesMode }
}

export function readPlanConfig(inputs: InputSource, problems: Problems): PlanConfig {
  const live = readLive(inputs, problems)
  const jobs = readJobs(inputs, problems)
  const deleted = readDeleted(inputs, problems)
  if (!inputs.input('job-path') && !inputs.input('jobs') && !inputs.input('deleted'))
    problems.add('nothing to plan: set jobs and deleted (the outputs of changed-jobs), or job-path')
  const team = readTeamInput(inputs, problems)
  const enabled =
    inputs.input('enabled') === ''
      ? undefined
      : parseBoolean('enabled', inputs.input('enabled'), true, problems)
  return {
    ...live,
    jobs,
    deleted,
    team,
    ...readPropertiesInputs(inputs, problems),
    showValues: parseBoolean('show-values', inputs.input('show-values'), false, problems),
    enabled,
    ...readRefs(inputs, problems),
    comment: readComment(inputs, problems)
  }
}
