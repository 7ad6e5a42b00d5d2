// A data job folder's config.ini as VDK reads it: team, schedule, python version, contacts and
// notification settings, each with its line for annotations; and the one way a file of the job
// folder itself (config.ini, .vdkignore) is read: only a regular file inside the folder, of
// bounded size. (The files to upload: scan.ts.)
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readSync,
  realpathSync
} from 'node:fs'
import type { Stats } from 'node:fs'
import { basename, join, relative, resolve, sep } from 'node:path'
import { iniGet, parseIni, type IniValue } from './configini.js'
import type { FileProblem } from './errors.js'
import { inert } from './text.js'
import type { DataJobConfig, DataJobContacts } from './types.js'

export const CONFIG_INI = 'config.ini'

/** The most config.ini or .vdkignore may hold: each is read whole, and a job's are a few KiB. */
export const MAX_JOB_FILE_BYTES = 1024 * 1024

/** Whether `path` is `dir` or lies under it (both real paths). */
export const under = (dir: string, path: string): boolean =>
  path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep)

/** What a file system error code means to a person (never the error's message: it holds paths). */
export function fsReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied'
  if (code === 'ENOENT') return 'it vanished while the job folder was read'
  if (code === 'ELOOP') return 'a loop of symbolic links'
  if (code === 'ENOTDIR') return 'it changed while the job folder was read'
  return code ?? 'an unknown error'
}

/** Why a symbolic link could not be followed (realpath's error). */
export const leadsNowhere = (e: unknown): string =>
  `a symbolic link that leads nowhere${(e as NodeJS.ErrnoException).code === 'ENOENT' ? '' : ` (${fsReason(e)})`}`

/** What kind of thing a non-regular, non-folder file is. */
export const specialKind = (st: Stats): string =>
  st.isFIFO() ? 'a named pipe' : st.isSocket() ? 'a socket' : 'a device'

/**
 * Where a file of the job folder itself (config.ini, .vdkignore) may be read from: its real path,
 * when it is a regular file inside the job folder and at most MAX_JOB_FILE_BYTES; `missing` when
 * there is none; else why not (one line, never the file's content). Nothing is opened here: a
 * FIFO or a device is refused by its type, before any read could block or run forever.
 *
 * A symbolic link is followed when its target stays inside the job folder (outside a `.git`
 * folder): what is read is then a file that the upload carries too, so config.ini says the same
 * to this action as to VDK on the service. One leading elsewhere, even inside the checkout, is
 * refused: these files are read on pull requests, and a link could lead to `.git/config` (where
 * actions/checkout keeps its token) or to a file of the runner.
 */
export function locateJobFile(
  jobDir: string,
  name: string
): { path: string; size: number } | { missing: true } | { problem: string } {
  const file = join(jobDir, name)
  let root: string
  let path = file
  try {
    root = realpathSync(jobDir)
    const link = lstatSync(file)
    if (link.isSymbolicLink()) {
      try {
        path = realpathSync(file)
      } catch (e) {
        return { problem: leadsNowhere(e) }
      }
      if (!under(root, path))
        return {
          problem: `a symbolic link that leads outside the job folder: ${name} is read only from a file inside it`
        }
      if (relative(root, path).split(sep).includes('.git'))
        return { problem: `a symbolic link into a .git folder: ${name} is not read from there` }
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { missing: true }
    return { problem: `cannot be read (${fsReason(e)})` }
  }
  return checkedJobFile(path, name)
}

/** The checks of a job folder's own file by its status: a regular file, not too large. */
function checkedJobFile(
  path: string,
  name: string,
  st?: Stats
): { path: string; size: number } | { problem: string } {
  let s = st
  try {
    s ??= lstatSync(path)
  } catch (e) {
    return { problem: `cannot be read (${fsReason(e)})` }
  }
  if (s.isDirectory()) return { problem: `is a folder: ${name} must be a file` }
  if (!s.isFile()) return { problem: `is ${specialKind(s)}, not a file: ${name} must be a file` }
  if (s.size > MAX_JOB_FILE_BYTES)
    return {
      problem: `holds ${s.size} bytes, more than the ${MAX_JOB_FILE_BYTES} a ${name} may hold`
    }
  return { path, size: s.size }
}

/**
 * The text of a file of the job folder itself (see locateJobFile), or why it is not read. The file
 * is opened without following a link and without blocking, and checked again once open, so a file
 * swapped meanwhile for a pipe or a larger one is refused, not waited on or read whole.
 */
export function readJobFile(
  jobDir: string,
  name: string
): { text: string } | { missing: true } | { problem: FileProblem } {
  const file = join(jobDir, name)
  const found = locateJobFile(jobDir, name)
  if ('missing' in found) return found
  if ('problem' in found) return { problem: { file, message: found.problem } }
  let fd: number | undefined
  try {
    fd = openSync(found.path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW)
    const again = checkedJobFile(found.path, name, fstatSync(fd))
    if ('problem' in again) return { problem: { file, message: again.problem } }
    // one byte more than allowed is asked for, so that a file that grew is noticed
    const buf = Buffer.alloc(Math.min(again.size, MAX_JOB_FILE_BYTES) + 1)
    let got = 0
    for (;;) {
      const n = readSync(fd, buf, got, buf.length - got, got)
      if (n === 0 || (got += n) === buf.length) break
    }
    if (got > MAX_JOB_FILE_BYTES)
      return {
        problem: {
          file,
          message: `holds more than the ${MAX_JOB_FILE_BYTES} bytes a ${name} may hold`
        }
      }
    return { text: buf.toString('utf8', 0, got) }
  } catch (e) {
    return { problem: { file, message: `cannot be read (${fsReason(e)})` } }
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/**
 * A value from a job's file inside a message: inert (a line break shown as `\n`) and at most 60
 * characters, so that no line of the file is printed whole.
 */
export function shown(value: string): string {
  const one = inert(value)
  return `'${one.length > 60 ? `${one.slice(0, 60)}…` : one}'`
}

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
  /** The line of each contact list config.ini sets. */
  contactLines: Partial<Record<(typeof CONTACT_KEYS)[number], number>>
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
export function readJobConfig(jobDir: string): {
  config?: JobConfigIni
  problems: FileProblem[]
} {
  const file = join(jobDir, CONFIG_INI)
  const read = readJobFile(jobDir, CONFIG_INI)
  if ('missing' in read)
    return {
      problems: [
        { file, message: `a data job folder needs a config.ini; there is none in ${jobDir}` }
      ]
    }
  if ('problem' in read) return { problems: [read.problem] }
  const ini = parseIni(read.text)
  const problems: FileProblem[] = ini.problems.map(p => ({
    file,
    line: p.line,
    message: p.message
  }))
  const config: JobConfigIni = { file, contacts: {}, contactLines: {} }
  config.team = iniGet(ini, 'owner', 'team')
  config.scheduleCron = iniGet(ini, 'job', 'schedule_cron')
  config.pythonVersion = iniGet(ini, 'job', 'python_version')
  for (const key of CONTACT_KEYS) {
    const v = iniGet(ini, 'contacts', key)
    if (!v) continue
    config.contacts[key] = v.value
      .split(/[;,]/)
      .map(s => s.trim())
      .filter(Boolean)
    config.contactLines[key] = v.line
  }
  const notify = iniGet(ini, 'contacts', 'enable_execution_notifications')
  if (notify) {
    const b = BOOLEANS[notify.value.toLowerCase()]
    if (b === undefined)
      problems.push({
        file,
        line: notify.line,
        message: 'enable_execution_notifications must be true or false (or yes/no, on/off, 1/0)'
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
        message: 'notification_delay_period_minutes must be a whole number of minutes above 0'
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
export const folderJobName = (jobDir: string): string => basename(resolve(jobDir))
