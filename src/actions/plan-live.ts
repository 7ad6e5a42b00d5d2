// What merging would change for one job, against the Control Service as it is now, read with GETs
// only: the job (created or not), its config field by field as deploy would write it from
// config.ini (jobdir.ts jobConfigFromIni, deploy's own merge), the deployment (python version,
// enabled), and the properties against the deployed ones. How the real service answers what is
// not there, which this relies on (pipelines_control_service, com/vmware/taurus/…):
// - GET …/jobs/{job}: 404 when the team has no such job (datajobs/DataJobsController.dataJobRead);
// - GET …/jobs/{job}/deployments: 404 for no such job, [] when it is not deployed
//   (datajobs/DataJobsDeploymentController.deploymentList);
// - GET …/deployments/{id}/properties: {} when none were written, read by the job name alone,
//   whether the job exists or not (properties/service/PropertiesService.readJobProperties).
import { extname, join } from 'node:path'
import type { JobRef } from '../core/client.js'
import type { FileProblem } from '../core/errors.js'
import {
  CONFIG_DEFAULTS,
  CONTACT_KEYS,
  jobConfigFromIni,
  readJobFile,
  type JobConfigIni
} from '../core/jobdir.js'
import { hasControl } from '../core/text.js'
import type { DataJobConfig, DataJobDeploymentStatus, JsonMap } from '../core/types.js'
import {
  kind,
  nextProperties,
  propertyChanges,
  readValue,
  type PropertyChange
} from './property-values.js'
import type { ActionContext } from './runtime.js'

/** One field of the job or its deployment: its value now (absent: none) and after the merge. */
export interface FieldChange {
  field: string
  before?: string
  after: string
}

/** What the service holds of a job now. */
export interface LiveJob {
  exists: boolean
  config?: DataJobConfig
  deployment?: DataJobDeploymentStatus
}

/** Reads the job and its deployment (the deployments only of a job that exists). */
export async function readLive(ctx: ActionContext, ref: JobRef): Promise<LiveJob> {
  const job = await ctx.client.readJob(ref)
  if (!job) return { exists: false }
  const [deployment] = await ctx.client.listDeployments(ref)
  return { exists: true, config: job.config, deployment }
}

/** The fields config.ini owns, as text, with what the service assumes when one is absent. */
function configFields(config: DataJobConfig): Array<[string, string]> {
  return [
    ['schedule_cron', config.schedule?.schedule_cron ?? ''],
    ...CONTACT_KEYS.map((k): [string, string] => [k, (config.contacts?.[k] ?? []).join(', ')]),
    [
      'enable_execution_notifications',
      String(
        config.enable_execution_notifications ?? CONFIG_DEFAULTS.enable_execution_notifications
      )
    ],
    [
      'notification_delay_period_minutes',
      String(
        config.notification_delay_period_minutes ??
          CONFIG_DEFAULTS.notification_delay_period_minutes
      )
    ]
  ]
}

/**
 * The config changes deploy would write: config.ini merged into the job's config as deploy merges
 * it (jobConfigFromIni), field by field; a new job is created with config.ini's config (upload.ts
 * creates it with jobConfigFromIni({}, ini)), so each field it sets is listed without a before.
 */
export function configChanges(live: LiveJob, ini: JobConfigIni): FieldChange[] {
  const now = live.config ?? {}
  const before = new Map(configFields(now))
  const changes: FieldChange[] = []
  const blank = new Map(configFields({}))
  for (const [field, after] of configFields(jobConfigFromIni(now, ini))) {
    if (!live.exists) {
      if (after !== blank.get(field)) changes.push({ field, after })
    } else if (before.get(field) !== after)
      changes.push({ field, before: before.get(field), after })
  }
  return changes
}

/**
 * The deployment's changes: the python version config.ini sets (deploy sends it) and deploy's
 * enabled input (a new deployment is enabled unless it says otherwise).
 */
export function deploymentChanges(
  live: LiveJob,
  ini: JobConfigIni,
  enabled: boolean | undefined
): FieldChange[] {
  const d = live.deployment
  const changes: FieldChange[] = []
  const python = ini.pythonVersion?.value
  if (python && python !== d?.python_version)
    changes.push({ field: 'python_version', before: d?.python_version, after: python })
  const wanted = enabled ?? d?.enabled ?? true
  if (!d || d.enabled !== wanted)
    changes.push({
      field: 'enabled',
      before: d?.enabled === undefined ? undefined : String(d.enabled),
      after: String(wanted)
    })
  return changes
}

/** The properties file of a job folder as a map, or a problem on the file; none: no file. */
export function readPropertiesFile(
  jobDir: string,
  name: string
): { map?: JsonMap; problem?: FileProblem } {
  // read as config.ini is: only a regular file inside the job folder, of bounded size
  const read = readJobFile(jobDir, name)
  if ('missing' in read) return {}
  if ('problem' in read) return { problem: read.problem }
  const file = join(jobDir, name)
  const value = readValue(name, read.text, {
    json: extname(name).toLowerCase() === '.json',
    allPlain: false
  })
  if ('problem' in value) return { problem: { file, message: value.problem } }
  const map = value.value
  if (typeof map !== 'object' || map === null || Array.isArray(map))
    return {
      problem: { file, message: `must be a mapping of keys to values, not ${kind(map)}` }
    }
  if (Object.keys(map).some(hasControl))
    return {
      problem: { file, message: 'holds keys with a line break or another control character' }
    }
  return { map: map as JsonMap }
}

/**
 * The properties a job folder's properties file would change on the service (as set-properties
 * writes it, in `mode`), with the deployed properties read (GET); none read when the folder has no
 * such file, or when the file has a problem.
 */
export async function propertiesAgainstFile(
  ctx: ActionContext,
  ref: JobRef,
  jobDir: string,
  file: { name: string; mode: 'merge' | 'replace' }
): Promise<{ changes: PropertyChange[]; problem?: FileProblem; read: boolean }> {
  const read = readPropertiesFile(jobDir, file.name)
  if (!read.map) return { changes: [], problem: read.problem, read: false }
  const current = await ctx.client.readProperties(ref)
  return {
    changes: propertyChanges(current, nextProperties(current, read.map, file.mode)),
    read: true
  }
}
