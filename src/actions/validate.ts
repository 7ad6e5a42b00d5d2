// validate: checks a data job folder for a pull request without changing anything on the service:
// config.ini parses, the schedule is a 5-field cron, the contacts are e-mail addresses, the job
// name follows the service's rule, the python version is one the service supports (its info, the
// only request, a GET), and the archive would be accepted. Every problem is an annotation on its
// file and line; a bad job is the action's finding, not an input error, so config() checks only
// the inputs and run() collects the problems.
import { join } from 'node:path'
import { readConnection, type ConnectionConfig } from '../core/connection.js'
import { ControlServiceError, type FileProblem } from '../core/errors.js'
import { relativeToWorkspace, type InputSource, type Problems } from '../core/inputs.js'
import {
  CONTACT_KEYS,
  folderJobName,
  readJobConfig,
  shown,
  type JobConfigIni
} from '../core/jobdir.js'
import { cronProblem, folderNameProblem, iniTeamProblem, jobNameProblem } from '../core/jobrules.js'
import { scanJob, scanNotes, type JobScan } from '../core/scan.js'
import { readJobPath, readTeamInput } from './job.js'
import type { ActionContext, ActionDefinition, Outcome } from './runtime.js'

export interface ValidateConfig {
  /** Absent without control-service-url: the python version is then not checked, nothing is sent. */
  connection?: ConnectionConfig
  /** The job folder, absolute. */
  jobDir: string
  jobName?: string
  team?: string
}

const EMAIL = /^[^\s@,;<>()[\]"]+@[^\s@,;<>()[\]"]+\.[^\s@,;<>()[\]".]{2,}$/

export const validate: ActionDefinition<ValidateConfig> = {
  name: 'validate',

  config(inputs: InputSource, problems: Problems): Promise<ValidateConfig> {
    // the connection is optional here: without a URL, only the python version goes unchecked
    const connection = readConnection(inputs, problems, { urlRequired: false })
    const { jobDir } = readJobPath(inputs, problems, true)
    // an explicit job name is an input: a bad one is the workflow's mistake, not the job's
    const jobName = inputs.input('job-name') || undefined
    const badName = jobName && jobNameProblem(jobName)
    if (badName) problems.add('job-name', badName)
    const team = readTeamInput(inputs, problems)
    return Promise.resolve({
      connection: connection.url ? connection : undefined,
      jobDir: jobDir ?? '',
      jobName,
      team
    })
  },

  connection: config => config.connection,

  async run(config, ctx) {
    if (!config.connection)
      ctx.notice(
        'control-service-url is not given (nor VDK_CONTROL_SERVICE_REST_API_URL): the python version is not checked against the versions the Control Service supports'
      )
    const { name, ini, iniFile, job, python, scan, found } = await checkJob(config, ctx)

    const outputs: Outcome['outputs'] = { problems: found.length, valid: found.length === 0 }
    if (found.length || python.failure) {
      const parts = [`${found.length} problem(s) in ${name}`]
      if (python.failure) parts.push(python.failure)
      return {
        outputs: { ...outputs, valid: false },
        failure: parts.join('; '),
        annotations: found
      }
    }
    ctx.info(`${relativeToWorkspace(config.jobDir)}: no problems found`)
    const rows = [
      ['Job', `${name} (team ${job.team ?? '—'})`],
      ['config.ini', relativeToWorkspace(iniFile)],
      ['Schedule', ini?.scheduleCron?.value ?? 'none'],
      ['Contacts', `${job.contacts} e-mail address(es)`],
      ['Python version', python.result],
      ['Archive', archiveText(scan)]
    ]
    return {
      outputs,
      summary: { heading: `VDK data job ${name} is valid`, columns: ['Check', 'Result'], rows }
    }
  }
}

/** What validate found in a job folder: every problem, and what the summary says of it. */
export interface JobCheck {
  name: string
  ini?: JobConfigIni
  iniFile: string
  job: { team?: string; contacts: number }
  python: PythonCheck
  scan: JobScan
  /** Every problem, on its file and line. */
  found: FileProblem[]
}

/**
 * validate's checks of one job folder (the plan runs them too): config.ini, the job's name, team,
 * schedule and contacts, the python version (asked of the service when there is a connection)
 * and the archive. The scan's notes go to the log.
 */
export async function checkJob(config: ValidateConfig, ctx: ActionContext): Promise<JobCheck> {
  const read = readJobConfig(config.jobDir)
  const ini = read.config
  const iniFile = ini?.file ?? join(config.jobDir, 'config.ini')
  const name = config.jobName ?? folderJobName(config.jobDir)
  const job = jobProblems(config, name, ini, iniFile)
  const found: FileProblem[] = [...read.problems, ...job.found]
  const python = await checkPython(config, ctx, ini, job.team)
  if (python.problem) found.push({ file: iniFile, ...python.problem })
  const scan = await scanJob(config.jobDir, ctx.env.GITHUB_WORKSPACE ?? process.cwd())
  found.push(...scan.problems)
  for (const line of scanNotes(scan, config.jobDir)) ctx.info(line)
  return { name, ini, iniFile, job, python, scan, found }
}

const archiveText = (scan: JobScan): string =>
  `${scan.files} file(s), ${scan.bytes} bytes, ${scan.ignored.length} ignored${scan.nested.length ? `, ${scan.nested.length} nested data job(s) left out` : ''}`

/** The problems of the job's name, team, schedule and contacts; its team; how many contacts. */
function jobProblems(
  config: ValidateConfig,
  name: string,
  ini: JobConfigIni | undefined,
  iniFile: string
): { found: FileProblem[]; team?: string; contacts: number } {
  const found: FileProblem[] = []
  // a problem of the folder itself goes on config.ini when there is one (it is in the diff)
  const folderFile = ini ? iniFile : config.jobDir
  // job-name was checked with the inputs: only the folder's name can be wrong here
  const badName = folderNameProblem(name, 'job')
  if (badName) found.push({ file: folderFile, message: badName })

  // a team that would reroute a request or print as several lines is a problem of the job
  const iniBad = ini?.team?.value ? iniTeamProblem(ini.team) : undefined
  if (iniBad) found.push({ file: iniFile, line: ini?.team?.line, message: iniBad })
  const team = config.team ?? (iniBad ? undefined : ini?.team?.value)
  if (ini && !team && !iniBad)
    found.push({
      file: iniFile,
      message: 'no team: set [owner] team in config.ini (or the team input)'
    })

  const cron = ini?.scheduleCron
  const why = cron && cronProblem(cron.value)
  if (cron && why)
    found.push({
      file: iniFile,
      line: cron.line,
      message: `schedule_cron ${shown(cron.value)} is not a valid cron expression: ${why}`
    })

  let contacts = 0
  for (const key of ini ? CONTACT_KEYS : []) {
    for (const address of ini?.contacts[key] ?? []) {
      contacts++
      if (!EMAIL.test(address))
        found.push({
          file: iniFile,
          line: ini?.contactLines[key],
          message: `${key}: ${shown(address)} is not an e-mail address`
        })
    }
  }
  return { found, team, contacts }
}

export interface PythonCheck {
  /** What the summary says of the python version. */
  result: string
  /** The version is not one the service supports: on config.ini's line. */
  problem?: { line: number; message: string }
  /** The service could not be asked. */
  failure?: string
}

/** The python version of config.ini against the versions the service supports, when it is given one. */
async function checkPython(
  config: ValidateConfig,
  ctx: ActionContext,
  ini: JobConfigIni | undefined,
  team: string | undefined
): Promise<PythonCheck> {
  const python = ini?.pythonVersion
  const result = python ? python.value : "not set (the service's default)"
  if (!config.connection)
    return { result: python ? `${result} (not checked: no control-service-url)` : result }
  if (!python || !team) return { result }
  try {
    const info = await ctx.client.info(team)
    if (info.supported_python_versions.includes(python.value))
      return { result: `${result} (supported)` }
    return {
      result,
      problem: {
        line: python.line,
        message: `python_version ${python.value} is not supported by the Control Service, which supports ${info.supported_python_versions.join(', ')}`
      }
    }
  } catch (e) {
    if (!(e instanceof ControlServiceError)) throw e
    return { result, failure: `the python version could not be checked: ${e.message}` }
  }
}
