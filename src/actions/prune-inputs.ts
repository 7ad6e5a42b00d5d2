// prune's inputs, read once before anything is sent: the jobs to retire (changed-jobs' `deleted`
// JSON, or one job-name with its team), jobs-root (where the job folders at head are looked for),
// the team to act in when the old config.ini names none, the base commit the old config.ini is
// read at, the mode (disable, undeploy, delete) and delete's confirmation: the names of the jobs
// it may delete.
import { readFileSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { readConnection, type ConnectionConfig } from '../core/connection.js'
import { choice, type InputSource, type Problems } from '../core/inputs.js'
import { JOB_NAME_RULE, JOB_NAME_WORDS } from '../core/jobrules.js'
import { readDeletedInput, type DeletedJobInput } from './deleted-input.js'
import { readTeamInput } from './job.js'

export const PRUNE_MODES = ['disable', 'undeploy', 'delete'] as const
export type PruneMode = (typeof PRUNE_MODES)[number]

/** A job to retire: its name, and its folder's path at the base (from the workspace), if known. */
export type PruneJob = DeletedJobInput

export interface PruneConfig {
  connection: ConnectionConfig
  jobs: PruneJob[]
  /** The team input: for a job whose old config.ini cannot be read or names none. */
  team?: string
  /** jobs-root as given (for messages) and resolved; the workspace when not given. */
  jobsRoot: { input: string; path: string }
  /** The commit the deleted folders' config.ini is read at, and where it comes from. */
  base?: { rev: string; source: string }
  mode: PruneMode
}

/** `deleted`, or `job-name` (with the team input): the jobs to retire. */
function readJobs(inputs: InputSource, problems: Problems, team?: string): PruneJob[] {
  const name = inputs.input('job-name')
  if (name && inputs.input('deleted')) {
    problems.add('set deleted (the output of changed-jobs) or job-name, not both')
    return []
  }
  if (inputs.input('deleted')) return readDeletedInput(inputs, problems)
  if (!name) {
    problems.add('nothing to prune: set deleted (the output of changed-jobs), or job-name and team')
    return []
  }
  if (!JOB_NAME_RULE.test(name)) {
    problems.add('job-name', `'${name}' is not a valid job name: ${JOB_NAME_WORDS}`)
    return []
  }
  if (!team) problems.add('team', 'is required with job-name (the team the job is in)')
  return [{ name }]
}

/** jobs-root: a path in the workspace (default: the workspace itself). */
function readJobsRoot(inputs: InputSource): PruneConfig['jobsRoot'] {
  const workspace = resolve(inputs.env.GITHUB_WORKSPACE ?? process.cwd())
  const input = inputs.input('jobs-root')
  return { input: input || '.', path: isAbsolute(input) ? input : resolve(workspace, input) }
}

/**
 * The base commit: the base input, or a push's `before` (the commit the deleted folders were in).
 * None (a new branch, another event): the team input is the team to act in.
 */
function readBase(inputs: InputSource): PruneConfig['base'] {
  const base = inputs.input('base')
  if (base) return { rev: base, source: 'the base input' }
  if (inputs.env.GITHUB_EVENT_NAME !== 'push') return undefined
  try {
    // the push's payload names the commit before it; unreadable: no base
    const payload = JSON.parse(readFileSync(inputs.env.GITHUB_EVENT_PATH ?? '', 'utf8')) as {
      before?: unknown
    }
    const before = typeof payload.before === 'string' ? payload.before : ''
    return /^[0-9a-f]{40,64}$/.test(before) && !/^0+$/.test(before)
      ? { rev: before, source: "the push's before commit" }
      : undefined
  } catch {
    return undefined
  }
}

/**
 * mode and confirm-delete: delete loses the job's history (executions, sources, deployments), so
 * it is done only for the jobs confirm-delete names one by one — a flag set once in a workflow
 * would confirm whatever folder is deleted later; a name confirms that job only.
 */
function readMode(inputs: InputSource, problems: Problems, jobs: PruneJob[]): PruneMode {
  const mode = choice('mode', inputs.input('mode'), PRUNE_MODES, 'disable', problems)
  const confirmed = inputs
    .input('confirm-delete')
    .split(/[\s,]+/)
    .filter(Boolean)
  if (mode !== 'delete') {
    if (confirmed.length) problems.add('confirm-delete', 'is only read with mode: delete')
    return mode
  }
  if (!confirmed.length)
    problems.add(
      'confirm-delete',
      'is required with mode: delete: the names of the jobs it may delete (their history, sources and deployment go with them); use mode: undeploy to keep them'
    )
  else {
    const unconfirmed = jobs.filter(j => !confirmed.includes(j.name)).map(j => j.name)
    if (unconfirmed.length)
      problems.add(
        'confirm-delete',
        `does not name ${unconfirmed.join(', ')}: with mode: delete, every job deleted must be named in it`
      )
  }
  return mode
}

export function readPruneConfig(inputs: InputSource, problems: Problems): PruneConfig {
  const connection = readConnection(inputs, problems)
  const team = readTeamInput(inputs, problems)
  const jobs = readJobs(inputs, problems, team)
  return {
    connection,
    jobs,
    team,
    jobsRoot: readJobsRoot(inputs),
    base: readBase(inputs),
    mode: readMode(inputs, problems, jobs)
  }
}
