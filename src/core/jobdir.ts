// A data job folder's config.ini as VDK reads it: team, schedule, python version, contacts and
// notification settings, each with its line for annotations. (The files to upload: scan.ts.)
import { readFile } from 'node:fs/promises'
import { basename, join, relative, resolve, sep } from 'node:path'
import { iniGet, parseIni, type IniValue } from './configini.js'
import type { FileProblem } from './errors.js'
import type { DataJobConfig, DataJobContacts } from './types.js'

export const CONTACT_KEYS = [
  'notified_on_job_failure_user_error',
  'notified_on_job_failure_platform_error',
  'notified_on_job_success',
  'notified_on_job_deploy'
] as const satisfies ReadonlyArray<keyof DataJobContacts>

export interface JobConfigIni {
  file: string
  team?: IniValue
  scheduleCron?: IniValue
  pythonVersion?: IniValue
  /** Only the lists config.ini sets. */
  contacts: DataJobContacts
  enableExecutionNotifications?: boolean
  notificationDelayPeriodMinutes?: number
}

const BOOLEANS: Record<string, boolean> = {
  '1': true,
  yes: true,
  true: true,
  on: true,
  '0': false,
  no: false,
  false: false,
  off: false
}

/** Reads config.ini; problems carry the file and line. */
export async function readJobConfig(
  dir: string
): Promise<{ config?: JobConfigIni; problems: FileProblem[] }> {
  const file = join(dir, 'config.ini')
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    const message =
      code === 'ENOENT'
        ? `a data job folder needs a config.ini; there is none in ${dir}`
        : `config.ini cannot be read (${code ?? (e as Error).message})`
    return { problems: [{ file, message }] }
  }
  const ini = parseIni(text)
  const problems: FileProblem[] = ini.problems.map(p => ({
    file,
    line: p.line,
    message: p.message
  }))
  const config: JobConfigIni = { file, contacts: {} }
  config.team = iniGet(ini, 'owner', 'team')
  config.scheduleCron = iniGet(ini, 'job', 'schedule_cron')
  config.pythonVersion = iniGet(ini, 'job', 'python_version')
  for (const key of CONTACT_KEYS) {
    const v = iniGet(ini, 'contacts', key)
    if (v)
      config.contacts[key] = v.value
        .split(/[;,]/)
        .map(s => s.trim())
        .filter(Boolean)
  }
  const notify = iniGet(ini, 'contacts', 'enable_execution_notifications')
  if (notify) {
    const b = BOOLEANS[notify.value.toLowerCase()]
    if (b === undefined)
      problems.push({
        file,
        line: notify.line,
        message: `enable_execution_notifications must be true or false, not '${notify.value}'`
      })
    else config.enableExecutionNotifications = b
  }
  const delay = iniGet(ini, 'contacts', 'notification_delay_period_minutes')
  if (delay) {
    const n = Number(delay.value)
    if (!/^\d+$/.test(delay.value) || n <= 0)
      problems.push({
        file,
        line: delay.line,
        message: `notification_delay_period_minutes must be a whole number of minutes above 0, not '${delay.value}'`
      })
    else config.notificationDelayPeriodMinutes = n
  }
  return { config, problems }
}

/** What the job's config holds where config.ini says nothing, as the official CLI sends it. */
export const CONFIG_DEFAULTS = {
  enable_execution_notifications: true,
  notification_delay_period_minutes: 240
} as const

/**
 * The job's config with config.ini as the owner of schedule, contacts and notification settings,
 * as the official CLI writes them on deploy (vdk-control-cli deploy_cli_impl.py, job_config.py):
 * what config.ini does not say is cleared (no schedule, empty contact lists) or set to the CLI's
 * defaults. Unlike the CLI, the fields config.ini cannot express (db_default_type,
 * generate_keytab, …) are kept from `current` rather than dropped.
 */
export function jobConfigFromIni(current: DataJobConfig, ini: JobConfigIni): DataJobConfig {
  return {
    ...current,
    schedule: { ...current.schedule, schedule_cron: ini.scheduleCron?.value ?? '' },
    contacts: Object.fromEntries(CONTACT_KEYS.map(k => [k, ini.contacts[k] ?? []])),
    enable_execution_notifications:
      ini.enableExecutionNotifications ?? CONFIG_DEFAULTS.enable_execution_notifications,
    notification_delay_period_minutes:
      ini.notificationDelayPeriodMinutes ?? CONFIG_DEFAULTS.notification_delay_period_minutes
  }
}

/**
 * The fields of a job's config that config.ini owns, with an absent value read as the service's
 * default: two configs with the same view need no update (and no new deployment).
 */
export function iniOwnedView(config: DataJobConfig): string {
  return JSON.stringify([
    config.schedule?.schedule_cron ?? '',
    CONTACT_KEYS.map(k => config.contacts?.[k] ?? []),
    config.enable_execution_notifications ?? CONFIG_DEFAULTS.enable_execution_notifications,
    config.notification_delay_period_minutes ?? CONFIG_DEFAULTS.notification_delay_period_minutes
  ])
}

/** The job name VDK would use by default: the folder's name. */
export const folderJobName = (dir: string): string => basename(resolve(dir))

export const relativeToWorkspace = (
  path: string,
  workspace = process.env.GITHUB_WORKSPACE ?? process.cwd()
): string => {
  const rel = relative(workspace, path)
  return rel && !rel.startsWith('..') ? rel.split(sep).join('/') : path
}
