// The Control Service's rules for what names a data job, and for its schedule, each with the
// words of its message, in one copy: the job name, the team, and the cron expression. The actions
// check inputs and config.ini against them before any request; the client checks them again
// before a path is made of a name.
import type { IniValue } from './configini.js'
import { hasControl } from './text.js'

/** The server's rule for job names (6–50 characters); the spec and the CLI say otherwise. */
export const JOB_NAME_RULE = /^[a-z][a-z0-9-]{5,49}$/

/** The job name rule in words, for every message that refuses a name. */
export const JOB_NAME_WORDS =
  '6 to 50 characters, a lowercase letter first, then lowercase letters, digits or dashes'

/** Why the job-name input is not a job name, after the input's name; undefined when it is one. */
export const jobNameProblem = (name: string): string | undefined =>
  JOB_NAME_RULE.test(name) ? undefined : `'${name}' is not a valid job name: ${JOB_NAME_WORDS}`

/**
 * Why the job folder's name, job-name's default, is not a job name; undefined when it is one.
 * Said among the problems of the inputs (`inputs`) or by validate on the job's files (`job`).
 */
export function folderNameProblem(name: string, where: 'inputs' | 'job'): string | undefined {
  if (JOB_NAME_RULE.test(name)) return undefined
  const fix = 'rename the folder or set job-name'
  return where === 'inputs'
    ? `the job folder's name (job-name defaults to it) '${name}' is not a valid job name: ${JOB_NAME_WORDS}; ${fix}`
    : `the job folder's name '${name}' is not a valid job name (job-name defaults to it): ${JOB_NAME_WORDS}; ${fix}`
}

/**
 * What is wrong with a team name, if anything: one with a line break or another control character
 * (a config.ini continuation line, say) is not a name, and `.` or `..` would reroute the request
 * (/data-jobs/for-team/../jobs).
 */
export function teamProblem(team: string): string | undefined {
  if (!team.trim()) return 'is empty'
  if (hasControl(team))
    return `${JSON.stringify(team).slice(0, 80)} holds a line break or another control character`
  if (team.trim() === '.' || team.trim() === '..') return `'${team}' is not a team name`
  return undefined
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
