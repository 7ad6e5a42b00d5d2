// validate: checks a data job folder for a pull request without changing anything on the service:
// config.ini parses, the schedule is a 5-field cron, the contacts are e-mail addresses, the job
// name follows the service's rule, the python version is one the service supports (its info, the
// only request, a GET), and the archive would be accepted. Every problem is an annotation on its
// file and line; a bad job is the action's finding, not an input error, so config() checks only
// the inputs and run() collects the problems.
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { JOB_NAME_RULE, teamProblem } from '../core/client.js'
import {
  workspacePath,
  Problems,
  readConnection,
  type ConnectionConfig,
  type InputSource
} from '../core/connection.js'
import { ControlServiceError, type FileProblem } from '../core/errors.js'
import {
  CONTACT_KEYS,
  folderJobName,
  readJobConfig,
  relativeToWorkspace,
  shown
} from '../core/jobdir.js'
import { scanJob, scanNotes } from '../core/scan.js'
import { iniTeamProblem } from './job.js'
import type { ActionDefinition, Outcome } from './runtime.js'

export interface ValidateConfig {
  connection: ConnectionConfig
  /** False without control-service-url: the python version is then not checked, nothing is sent. */
  checkService: boolean
  /** The job folder, absolute. */
  path: string
  jobName?: string
  team?: string
}

const NO_URL = 'control-service-url is required'
/** Never contacted: the client needs a base URL even when the service is not asked. */
const UNUSED_URL = 'http://127.0.0.1'

interface CronField {
  name: string
  min: number
  max: number
  names?: string[]
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']
const CRON_FIELDS: CronField[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  // 7 is Sunday too, as in UNIX cron
  { name: 'day of week', min: 0, max: 7, names: DAYS }
]

/** Why a UNIX cron expression (5 fields, as the Control Service takes) is not valid; undefined when it is. */
export function cronProblem(expr: string): string | undefined {
  const fields = expr.trim().split(/\s+/).filter(Boolean)
  if (fields.length !== 5)
    return `expected 5 fields (minute hour day-of-month month day-of-week), e.g. '0 6 * * *', found ${fields.length}`
  for (const [i, field] of fields.entries()) {
    const f = CRON_FIELDS[i]
    const value = (s: string): number | undefined => {
      const named = f.names?.indexOf(s.toLowerCase()) ?? -1
      if (named >= 0) return named + (f.name === 'month' ? 1 : 0)
      return /^\d+$/.test(s) ? Number(s) : undefined
    }
    for (const part of field.split(',')) {
      const m = /^([^/]+)(?:\/(.+))?$/.exec(part)
      const bad = `${f.name} '${field}' is not valid: expected *, a number from ${f.min} to ${f.max}${f.names ? ' or a name' : ''}, a range a-b, a list a,b or a step */n`
      if (!m) return bad
      const [, range, step] = m
      if (step !== undefined && (!/^\d+$/.test(step) || Number(step) === 0)) return bad
      if (range === '*') continue
      const [a, b, ...rest] = range.split('-')
      const lo = value(a)
      const hi = b === undefined ? lo : value(b)
      if (rest.length || lo === undefined || hi === undefined) return bad
      for (const n of [lo, hi])
        if (n < f.min || n > f.max) return `${f.name} ${n} is out of range: ${f.min} to ${f.max}`
      if (lo > hi) return `${f.name} range ${range} goes backwards`
    }
  }
  return undefined
}

const EMAIL = /^[^\s@,;<>()[\]"]+@[^\s@,;<>()[\]"]+\.[^\s@,;<>()[\]".]{2,}$/

export const validate: ActionDefinition<ValidateConfig> = {
  name: 'validate',

  async config(src: InputSource, problems: Problems): Promise<ValidateConfig> {
    // the connection is optional here: without a URL, only the python version goes unchecked
    const own = new Problems()
    const connection = readConnection(src, own)
    const checkService = !own.list.some(p => p.startsWith(NO_URL))
    for (const p of own.list) if (!p.startsWith(NO_URL)) problems.add(p)

    const rawPath = src.input('job-path')
    let path = ''
    if (!rawPath)
      problems.add('job-path is required: the folder of the data job (the one holding config.ini)')
    else {
      path = workspacePath(src, rawPath)
      let isDir: boolean | undefined
      try {
        isDir = (await stat(path)).isDirectory()
      } catch {
        problems.add(`job-path '${rawPath}' does not exist (resolved to ${path})`)
      }
      if (isDir === false) problems.add(`job-path '${rawPath}' is a file, not the job's folder`)
    }
    // an explicit job name is an input: a bad one is the workflow's mistake, not the job's
    const jobName = src.input('job-name') || undefined
    if (jobName && !JOB_NAME_RULE.test(jobName))
      problems.add(
        `job-name '${jobName}' is not a valid job name: 6 to 50 characters, a lowercase letter first, then lowercase letters, digits or dashes`
      )
    const team = src.input('team') || undefined
    const badTeam = team && teamProblem(team)
    if (badTeam) problems.add(`team ${badTeam}`)
    problems.check()
    return {
      connection: checkService ? connection : { ...connection, url: UNUSED_URL },
      checkService,
      path,
      jobName,
      team
    }
  },

  connection: c => c.connection,

  async run(c, ctx) {
    const found: FileProblem[] = []
    const read = readJobConfig(c.path)
    found.push(...read.problems)
    const ini = read.config
    const iniFile = ini?.file ?? join(c.path, 'config.ini')
    // a problem of the folder itself goes on config.ini when there is one (it is in the diff)
    const folderFile = ini ? iniFile : c.path

    const name = c.jobName ?? folderJobName(c.path)
    if (!JOB_NAME_RULE.test(name))
      found.push({
        file: folderFile,
        message: `the job folder's name '${name}' is not a valid job name (job-name defaults to it): 6 to 50 characters, a lowercase letter first, then lowercase letters, digits or dashes; rename the folder or set job-name`
      })

    // a team that would reroute a request or print as several lines is a problem of the job
    const iniBad = ini?.team?.value ? iniTeamProblem(ini.team) : undefined
    if (iniBad) found.push({ file: iniFile, line: ini?.team?.line, message: iniBad })
    const team = c.team ?? (iniBad ? undefined : ini?.team?.value)
    if (ini && !team && !iniBad)
      found.push({
        file: iniFile,
        message: 'no team: set [owner] team in config.ini (or the team input)'
      })

    const cron = ini?.scheduleCron
    if (cron) {
      const why = cronProblem(cron.value)
      if (why)
        found.push({
          file: iniFile,
          line: cron.line,
          message: `schedule_cron ${shown(cron.value)} is not a valid cron expression: ${why}`
        })
    }

    let contacts = 0
    if (ini) {
      for (const key of CONTACT_KEYS) {
        for (const address of ini.contacts[key] ?? []) {
          contacts++
          if (!EMAIL.test(address))
            found.push({
              file: iniFile,
              line: ini.contactLines[key],
              message: `${key}: ${shown(address)} is not an e-mail address`
            })
        }
      }
    }

    const python = ini?.pythonVersion
    let pythonResult = python ? python.value : "not set (the service's default)"
    let serviceFailure: string | undefined
    if (!c.checkService) {
      ctx.notice(
        'control-service-url is not given (nor VDK_CONTROL_SERVICE_REST_API_URL): the python version is not checked against the versions the Control Service supports'
      )
      if (python) pythonResult += ' (not checked: no control-service-url)'
    } else if (python && team) {
      try {
        const info = await ctx.client.info(team)
        if (info.supported_python_versions.includes(python.value)) pythonResult += ' (supported)'
        else
          found.push({
            file: iniFile,
            line: python.line,
            message: `python_version ${python.value} is not supported by the Control Service, which supports ${info.supported_python_versions.join(', ')}`
          })
      } catch (e) {
        if (!(e instanceof ControlServiceError)) throw e
        serviceFailure = `the python version could not be checked: ${e.message}`
      }
    }

    const scan = await scanJob(c.path, ctx.env.GITHUB_WORKSPACE ?? process.cwd())
    found.push(...scan.problems)
    for (const line of scanNotes(scan, c.path)) ctx.info(line)

    const outputs: Outcome['outputs'] = { problems: found.length, valid: found.length === 0 }
    const where = relativeToWorkspace(c.path)
    if (found.length || serviceFailure) {
      const parts = [`${found.length} problem(s) in ${name}`]
      if (serviceFailure) parts.push(serviceFailure)
      return {
        outputs: { ...outputs, valid: false },
        failure: parts.join('; '),
        annotations: found
      }
    }
    ctx.info(`${where}: no problems found`)
    return {
      outputs,
      summary: {
        heading: `VDK data job ${name} is valid`,
        columns: ['Check', 'Result'],
        rows: [
          ['Job', `${name} (team ${team ?? '—'})`],
          ['config.ini', relativeToWorkspace(iniFile)],
          ['Schedule', cron?.value ?? 'none'],
          ['Contacts', `${contacts} e-mail address(es)`],
          ['Python version', pythonResult],
          [
            'Archive',
            `${scan.files} file(s), ${scan.bytes} bytes, ${scan.ignored.length} ignored${scan.nested.length ? `, ${scan.nested.length} nested data job(s) left out` : ''}`
          ]
        ]
      }
    }
  }
}
