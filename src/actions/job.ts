// The job inputs every action shares — job-path, job-name, team — with VDK's defaults: the job
// name is the folder's name, the team is [owner] team of config.ini; explicit inputs win. The
// folder is read once here (config.ini, and for uploads the scan with its refusals).
import { statSync } from 'node:fs'
import { JOB_NAME_RULE, jobRef, teamProblem, type JobRef } from '../core/client.js'
import { workspacePath, type InputSource, type Problems } from '../core/connection.js'
import type { IniValue } from '../core/configini.js'
import {
  folderJobName,
  readJobConfig,
  relativeToWorkspace,
  shown,
  type JobConfigIni
} from '../core/jobdir.js'
import type { JobScan } from '../core/scan.js'
import { hasControl } from '../core/text.js'

export interface JobInputs {
  ref: JobRef
  /** The job folder, absolute, when job-path was given. */
  path?: string
  ini?: JobConfigIni
  scan?: JobScan
}

/**
 * The ref of a config whose job inputs had problems. It is never used: the problems make the
 * config's owner throw (an action's own check, or the root action's check of all its parts).
 */
export const NO_REF: JobRef = Object.freeze({ team: '', job: '' })

export async function readJobInputs(
  src: InputSource,
  problems: Problems,
  {
    pathRequired,
    scan
  }: { pathRequired: boolean; scan?: (dir: string, within: string) => Promise<JobScan> }
): Promise<JobInputs | undefined> {
  const rawPath = src.input('job-path')
  let path: string | undefined
  let ini: JobConfigIni | undefined
  let scanned: JobScan | undefined
  if (!rawPath && pathRequired)
    problems.add('job-path is required: the folder of the data job (the one holding config.ini)')
  if (rawPath) {
    path = workspacePath(src, rawPath)
    let isDir = false
    try {
      isDir = statSync(path).isDirectory()
    } catch {
      problems.add(`job-path '${rawPath}' does not exist (resolved to ${path})`)
      path = undefined
    }
    if (path && !isDir) {
      problems.add(`job-path '${rawPath}' is a file, not the job's folder`)
      path = undefined
    }
  }
  if (path) {
    const read = readJobConfig(path)
    ini = read.config
    for (const p of read.problems) problems.addFile(p)
    if (scan && ini) {
      // links may lead anywhere inside the repository checkout (the workspace)
      scanned = await scan(path, workspacePath(src, '.'))
      for (const p of scanned.problems) problems.addFile(p)
    }
  }
  const name = src.input('job-name') || (path ? folderJobName(path) : '')
  // a job-path that is not a folder was said: what it would have given is not asked for again
  const badPath = rawPath !== '' && !path
  if (!name) {
    if (!badPath) problems.add('job-name is required when job-path is not given')
  } else if (!JOB_NAME_RULE.test(name)) {
    const from = src.input('job-name')
      ? 'job-name'
      : `the job folder's name (job-name defaults to it)`
    problems.add(
      `${from} '${name}' is not a valid job name: 6 to 50 characters, a lowercase letter first, then lowercase letters, digits or dashes${src.input('job-name') ? '' : '; rename the folder or set job-name'}`
    )
  }
  // two teams named for one job: refused, as the official CLI refuses them
  // (vdk-control-cli deploy_cli_impl.py: "Team param … and team value in config.ini … do not match")
  const given = src.input('team')
  const iniTeam = ini?.team
  const iniBad = iniTeam?.value.trim() ? iniTeamProblem(iniTeam) : undefined
  const where = ini && iniTeam ? `${relativeToWorkspace(ini.file)} line ${iniTeam.line}` : ''
  if (ini && iniTeam && iniBad)
    problems.addFile({ file: ini.file, line: iniTeam.line, message: iniBad })
  else if (given && iniTeam && iniTeam.value !== given)
    problems.add(
      `team '${given}' (the team input) and [owner] team ${shown(iniTeam.value)} in ${where} do not match: leave the team input empty to take config.ini's, or make them the same`
    )
  const team = given || iniTeam?.value || ''
  if (!team && !badPath)
    problems.add(
      path
        ? 'team is required: set the team input, or [owner] team in config.ini'
        : 'team is required'
    )
  const givenBad = given ? teamProblem(given) : undefined
  if (givenBad) problems.add(`team ${givenBad}`)
  const badTeam = givenBad ?? iniBad
  if (!name || !team || badTeam || !JOB_NAME_RULE.test(name)) return undefined
  return { ref: jobRef(team, name), path, ini, scan: scanned }
}

/**
 * Why config.ini's [owner] team cannot be a team, if it cannot (teamProblem's rules). A team that
 * spans lines (an indented line continues a value) or holds a control character is not shown.
 */
export function iniTeamProblem(team: IniValue): string | undefined {
  if (hasControl(team.value))
    return '[owner] team must be one line: the line after it is indented, so config.ini reads it as part of the team (or the team holds a control character)'
  const bad = teamProblem(team.value)
  return bad && `[owner] team ${bad}`
}

/** The default upload reason: the workflow, its run and the commit. */
export function defaultReason(env: NodeJS.ProcessEnv, runLink: string | undefined): string {
  const parts = [env.GITHUB_WORKFLOW ? `workflow '${env.GITHUB_WORKFLOW}'` : 'vdk-actions']
  if (runLink) parts.push(`run ${runLink}`)
  if (env.GITHUB_SHA) parts.push(`commit ${env.GITHUB_SHA.slice(0, 12)}`)
  return parts.join(', ')
}
