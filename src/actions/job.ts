// The job inputs every action shares — job-path, job-name, team — with VDK's defaults: the job
// name is the folder's name, the team is [owner] team of config.ini; explicit inputs win. The
// folder is read once here (config.ini, and for uploads the scan with its refusals). Also the
// upload inputs deploy and upload-sources share (reason, create-if-missing).
import { statSync } from 'node:fs'
import { jobRef, type JobRef } from '../core/client.js'
import {
  parseBoolean,
  relativeToWorkspace,
  workspacePath,
  type InputSource,
  type Problems
} from '../core/inputs.js'
import { folderJobName, readJobConfig, shown, type JobConfigIni } from '../core/jobdir.js'
import {
  folderNameProblem,
  iniTeamProblem,
  JOB_NAME_RULE,
  jobNameProblem,
  teamProblem
} from '../core/jobrules.js'
import type { JobScan } from '../core/scan.js'
import { runUrl } from './runtime.js'

export interface JobInputs {
  ref: JobRef
  /** The job folder, absolute, when job-path was given. */
  jobDir?: string
  ini?: JobConfigIni
  scan?: JobScan
}

/**
 * The ref of a config whose job inputs had problems. It is never used: the problems make the
 * runtime stop before run().
 */
export const NO_REF: JobRef = Object.freeze({ team: '', job: '' })

/** job-path as given (`raw`), and the job folder it names, absolute, when it is one. */
export interface JobPath {
  raw: string
  jobDir?: string
}

/** Reads job-path: a folder, relative to the workspace unless absolute. */
export function readJobPath(inputs: InputSource, problems: Problems, required: boolean): JobPath {
  const raw = inputs.input('job-path')
  if (!raw) {
    if (required)
      problems.add(
        'job-path',
        'is required: the folder of the data job (the one holding config.ini)'
      )
    return { raw }
  }
  const jobDir = workspacePath(inputs, raw)
  let isDir: boolean
  try {
    isDir = statSync(jobDir).isDirectory()
  } catch {
    problems.add('job-path', `'${raw}' does not exist (resolved to ${jobDir})`)
    return { raw }
  }
  if (!isDir) {
    problems.add('job-path', `'${raw}' is a file, not the job's folder`)
    return { raw }
  }
  return { raw, jobDir }
}

export async function readJobInputs(
  inputs: InputSource,
  problems: Problems,
  {
    pathRequired,
    scan
  }: { pathRequired: boolean; scan?: (dir: string, within: string) => Promise<JobScan> }
): Promise<JobInputs | undefined> {
  const { raw: rawPath, jobDir } = readJobPath(inputs, problems, pathRequired)
  let ini: JobConfigIni | undefined
  let scanned: JobScan | undefined
  if (jobDir) {
    const read = readJobConfig(jobDir)
    ini = read.config
    for (const p of read.problems) problems.addFile(p)
    if (scan && ini) {
      // links may lead anywhere inside the repository checkout (the workspace)
      scanned = await scan(jobDir, workspacePath(inputs, '.'))
      for (const p of scanned.problems) problems.addFile(p)
    }
  }
  // a job-path that is not a folder was said: what it would have given is not asked for again
  const badPath = rawPath !== '' && !jobDir
  const name = readJobName(inputs, problems, jobDir, badPath)
  const team = readTeam(inputs, problems, ini, jobDir, badPath)
  if (!name || !team || !JOB_NAME_RULE.test(name)) return undefined
  return { ref: jobRef(team, name), jobDir, ini, scan: scanned }
}

/** job-name, or the folder's name; "" when neither is given. */
function readJobName(
  inputs: InputSource,
  problems: Problems,
  jobDir: string | undefined,
  badPath: boolean
): string {
  const given = inputs.input('job-name')
  const name = given || (jobDir ? folderJobName(jobDir) : '')
  if (!name) {
    if (!badPath) problems.add('job-name', 'is required when job-path is not given')
    return ''
  }
  const bad = given ? jobNameProblem(name) : folderNameProblem(name, 'inputs')
  if (bad && given) problems.add('job-name', bad)
  else if (bad) problems.add(bad)
  return name
}

/** The team input alone, when given: undefined when empty, a problem of `team` when it is no team. */
export function readTeamInput(inputs: InputSource, problems: Problems): string | undefined {
  const team = inputs.input('team') || undefined
  const bad = team && teamProblem(team)
  if (bad) problems.add('team', bad)
  return team
}

/** The team input, or config.ini's [owner] team; "" when neither is given or it is no team. */
function readTeam(
  inputs: InputSource,
  problems: Problems,
  ini: JobConfigIni | undefined,
  jobDir: string | undefined,
  badPath: boolean
): string {
  // two teams named for one job: refused, as the official CLI refuses them
  // (vdk-control-cli deploy_cli_impl.py: "Team param … and team value in config.ini … do not match")
  const given = inputs.input('team')
  const iniTeam = ini?.team
  const iniBad = iniTeam?.value.trim() ? iniTeamProblem(iniTeam) : undefined
  const where = ini && iniTeam ? `${relativeToWorkspace(ini.file)} line ${iniTeam.line}` : ''
  if (ini && iniTeam && iniBad)
    problems.addFile({ file: ini.file, line: iniTeam.line, message: iniBad })
  else if (given && iniTeam && iniTeam.value !== given)
    problems.add(
      'team',
      `'${given}' (the team input) and [owner] team ${shown(iniTeam.value)} in ${where} do not match: leave the team input empty to take config.ini's, or make them the same`
    )
  const team = given || iniTeam?.value || ''
  if (!team && !badPath)
    problems.add(
      'team',
      jobDir ? 'is required: set the team input, or [owner] team in config.ini' : 'is required'
    )
  const givenBad = given ? teamProblem(given) : undefined
  if (givenBad) problems.add('team', givenBad)
  return (givenBad ?? iniBad) ? '' : team
}

/** The upload inputs deploy and upload-sources share. */
export interface UploadOptions {
  reason: string
  createIfMissing: boolean
}

export function readUploadOptions(inputs: InputSource, problems: Problems): UploadOptions {
  return {
    createIfMissing: parseBoolean(
      'create-if-missing',
      inputs.input('create-if-missing'),
      true,
      problems
    ),
    reason: inputs.input('reason') || defaultReason(inputs.env, runUrl(inputs.env))
  }
}

/** The default upload reason: the workflow, its run and the commit. */
export function defaultReason(env: NodeJS.ProcessEnv, runLink: string | undefined): string {
  const parts = [env.GITHUB_WORKFLOW ? `workflow '${env.GITHUB_WORKFLOW}'` : 'vdk-actions']
  if (runLink) parts.push(`run ${runLink}`)
  if (env.GITHUB_SHA) parts.push(`commit ${env.GITHUB_SHA.slice(0, 12)}`)
  return parts.join(', ')
}
