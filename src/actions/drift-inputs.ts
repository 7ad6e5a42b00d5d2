// drift's inputs, read once before anything is sent: the Control Service (read only), jobs-root
// and the job folders under it (folders holding a config.ini, found on disk: a scheduled run has
// no change to list), the team, the properties file of each job (plan's input, plan-inputs.ts),
// the identity the workflows deploy with, and whether drift fails the step.
import { readdirSync, realpathSync, statSync, type Dirent } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { readConnection, type ConnectionConfig } from '../core/connection.js'
import { parseBoolean, workspacePath, type InputSource, type Problems } from '../core/inputs.js'
import { CONFIG_INI, folderJobName } from '../core/jobdir.js'
import { hasControl } from '../core/text.js'
import { readTeamInput } from './job.js'
import { readPropertiesInputs } from './plan-inputs.js'
import type { PlanConfig } from './plan-inputs.js'

/** A job folder under jobs-root. */
export interface JobFolder {
  /** Its path from the workspace, '/' separators, for the report. */
  path: string
  jobDir: string
  name: string
}

export interface DriftConfig extends Pick<PlanConfig, 'propertiesFile' | 'propertiesMode'> {
  connection: ConnectionConfig
  folders: JobFolder[]
  /** The team input: of the jobs whose config.ini names none, and the team whose jobs are listed. */
  team?: string
  /** The identity the workflows deploy with: another last_deployed_by is drift. */
  deployedBy?: string
  failOnDrift: boolean
}

/** More job folders than this under jobs-root is refused (the run would take hours). */
export const MAX_JOB_FOLDERS = 2000
/** Folders looked into at most, job folders or not. */
const MAX_FOLDERS = 50_000

/**
 * The job folders under `root`: folders holding a config.ini (a regular file), at any depth, a
 * job folder's own sub-folders included (a nested job is a job of its own, as changed-jobs says).
 * Symbolic links and folders whose names start with '.' (.git, .github) are not followed.
 */
export function findJobFolders(root: string): { dirs: string[]; tooMany?: boolean } {
  const dirs: string[] = []
  const queue = [root]
  let seen = 0
  while (queue.length) {
    const dir = queue.shift() as string
    if (++seen > MAX_FOLDERS) return { dirs, tooMany: true }
    let entries: Dirent[]
    try {
      entries = readdirSync(dir, { withFileTypes: true })
    } catch {
      continue // unreadable: no job folder is found in it
    }
    if (entries.some(e => e.name === CONFIG_INI && e.isFile())) dirs.push(dir)
    if (dirs.length > MAX_JOB_FOLDERS) return { dirs, tooMany: true }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)))
      if (e.isDirectory() && !e.name.startsWith('.')) queue.push(join(dir, e.name))
  }
  return { dirs }
}

/** jobs-root's job folders, or undefined for a problem of jobs-root. */
function readFolders(inputs: InputSource, problems: Problems): JobFolder[] | undefined {
  const raw = inputs.input('jobs-root') || '.'
  const workspace = workspacePath(inputs, '.')
  let root: string
  try {
    root = realpathSync(workspacePath(inputs, raw))
    if (!statSync(root).isDirectory()) {
      problems.add('jobs-root', `'${raw}' is not a folder`)
      return undefined
    }
  } catch {
    problems.add(
      'jobs-root',
      `'${raw}' does not exist in the workspace (check the repository out first)`
    )
    return undefined
  }
  const found = findJobFolders(root)
  if (found.tooMany) {
    problems.add(
      'jobs-root',
      `'${raw}' holds more than ${MAX_JOB_FOLDERS} data job folders (or ${MAX_FOLDERS} folders): point it at the folder of one team's jobs`
    )
    return undefined
  }
  let top = workspace
  try {
    top = realpathSync(workspace)
  } catch {
    // the paths are then shown from the workspace as given
  }
  return found.dirs.map(jobDir => ({
    path: relative(top, jobDir).split(sep).join('/') || '.',
    jobDir,
    name: folderJobName(jobDir)
  }))
}

export function readDriftConfig(inputs: InputSource, problems: Problems): DriftConfig {
  const connection = readConnection(inputs, problems)
  const folders = readFolders(inputs, problems)
  const team = readTeamInput(inputs, problems)
  if (folders?.length === 0 && !team)
    problems.add(
      'jobs-root',
      `holds no data job folder (a folder with a config.ini): check the repository out first, or set team to list the team's jobs all the same`
    )
  const deployedBy = inputs.input('deployed-by') || undefined
  if (deployedBy && (hasControl(deployedBy) || deployedBy.length > 256))
    problems.add('deployed-by', 'must be one line of text of at most 256 characters')
  return {
    connection,
    folders: folders ?? [],
    team,
    ...readPropertiesInputs(inputs, problems),
    deployedBy,
    failOnDrift: parseBoolean('fail-on-drift', inputs.input('fail-on-drift'), false, problems)
  }
}
