// The state of the local Control Service and the rules that derive what a client sees from it.
// Everything that changes with time (deployments becoming live, executions running and ending,
// logs growing) is stored as timestamps and derived from the clock on each read: no timers, so a
// restart from --data-dir resumes exactly where it was.

import { EXECUTION_STATUSES, type ExecutionStatus } from '../core/types.js'
import type { ClockSnapshot } from './clock.js'

export type DeploymentOutcome = 'SUCCESS' | 'USER_ERROR' | 'PLATFORM_ERROR'
export type DeploymentStatus = 'NONE' | DeploymentOutcome

// the statuses are the service's (ExecutionStatus.java upstream): one list, shared with the client
export { EXECUTION_STATUSES, type ExecutionStatus }
export type FinalStatus = 'succeeded' | 'user_error' | 'platform_error' | 'skipped'
export const FINAL_STATUSES: readonly FinalStatus[] = [
  'succeeded',
  'user_error',
  'platform_error',
  'skipped'
]

export interface JobRecord {
  job_name: string
  team: string
  description: string
  config: Record<string, unknown>
}

/** The job config's schedule, as stored (what a deployment's CronJob takes). */
export const jobSchedule = (job: JobRecord): { schedule_cron?: string } =>
  (job.config.schedule as { schedule_cron?: string } | undefined) ?? {}

/** The job config's contact lists, as stored. */
export const jobContacts = (job: JobRecord): Record<string, string[]> =>
  (job.config.contacts ?? {}) as Record<string, string[]>

/** Who is e-mailed about a deployment: the job config's notified_on_job_deploy, as stored. */
export function deployContacts(js: JobState): string[] {
  const to: unknown = jobContacts(js.job).notified_on_job_deploy
  return Array.isArray(to) ? to.filter((r): r is string => typeof r === 'string') : []
}

export interface SourceVersion {
  version: string
  tree: string
  reason?: string
  uploaded_at: number
  uploaded_by: string
  files: number
  bytes: number
}

/** The deployment as it is live (what GET .../deployments shows). */
export interface LiveDeployment {
  job_version: string
  python_version: string
  vdk_version?: string
  enabled: boolean
  mode: 'release' | 'testing'
  last_deployed_by: string
  last_deployed_date: string
  schedule?: { schedule_cron?: string }
}

export interface PendingDeployment {
  started_at: number
  ready_at: number
  outcome: DeploymentOutcome
  target: LiveDeployment
  /** `send_notification` of the POST (default true): whether the outcome is e-mailed. */
  notify: boolean
  /** The job's notified_on_job_deploy when the POST came (the job as the build started with). */
  recipients?: string[]
}

/**
 * An e-mail the real service would send about a deployment, to the job's notified_on_job_deploy
 * contacts, for a success and for a failure alike (DeploymentNotificationHelper,
 * NotificationContent). It is the only place the outcome of a build reaches users: no REST or
 * GraphQL field carries it. The local service records it for GET /_emulator/notifications.
 */
export interface DeploymentNotification {
  at: string
  job_name: string
  team: string
  job_version: string
  outcome: DeploymentOutcome
  recipients: string[]
  /** The version that runs after it: the new one, or after a failure the one live before. */
  live_version: string | null
}

export interface ExecutionScript {
  status: FinalStatus
  seconds: number
  /** How long it stays submitted (default: the service's submitSeconds); 0: running at once. */
  submitSeconds?: number
  logs?: string[]
  /** A platform_error that the service later overwrites (the real watcher can do that). */
  becomes?: FinalStatus
  becomesAfterSeconds?: number
  /** Instead of a time: the final status is read this many times (GET execution), then it becomes. */
  becomesAfterReads?: number
  /** false: GET …/logs serves this execution's lines without kubelet timestamps (podlog.ts). */
  timestamps?: boolean
  /** Record numbers (0-based, podlog.ts) where the container restarts: from each on, the logs
   * endpoint shows only the new container's records. */
  restartAtLines?: number[]
}

export interface DeploymentScript {
  status: DeploymentOutcome
  seconds: number
}

export interface ExecutionRecord {
  id: string
  job_name: string
  team: string
  type: 'manual' | 'scheduled'
  started_by: string
  args: Record<string, unknown>
  op_id: string
  created_at: number
  running_at: number
  end_at: number
  final: FinalStatus
  /** `at`: when it becomes; unset while it waits for `afterReads` reads (`reads` so far). */
  becomes?: { status: FinalStatus; at?: number; afterReads?: number; reads?: number }
  cancelled_at?: number
  logs: string[]
  /** Scripted: false turns the kubelet timestamps off for this execution. */
  timestamps?: boolean
  /** Scripted: the records where its container restarts (see ExecutionScript). */
  restartAtLines?: number[]
  deployment: LiveDeployment
}

export interface JobState {
  job: JobRecord
  versions: SourceVersion[]
  live?: LiveDeployment
  pending?: PendingDeployment
  /** `latest_job_deployment_status`; absent until the job's first deployment request. */
  deployment_status?: DeploymentStatus
  executions: ExecutionRecord[]
}

/** What tests scripted through the admin API, keyed `team/job`, used first come first served. */
export interface Scripts {
  executions: ExecutionScript[]
  deployments: DeploymentScript[]
}

export interface ServiceState {
  jobs: Record<string, JobState>
  /** Keyed by job name only, as the real service does (team and deployment id are ignored). */
  properties: Record<string, Record<string, unknown>>
  /** Keyed `team/job`, as the real service keys them in Vault. */
  secrets: Record<string, Record<string, unknown>>
  scripts: Record<string, Scripts>
  /** Access tokens handed out by the token endpoint, with their expiry (epoch ms). */
  issued_tokens: Record<string, number>
  /** The deployment e-mails the real service would have sent, oldest first. */
  notifications: DeploymentNotification[]
  /** The service's clock as it was at the last write (restored on a restart; see clock.ts). */
  clock?: ClockSnapshot
}

export const emptyState = (): ServiceState => ({
  jobs: {},
  properties: {},
  secrets: {},
  scripts: {},
  issued_tokens: {},
  notifications: []
})

export const iso = (ms: number): string => new Date(ms).toISOString()

/**
 * Applies a deployment whose build time has passed and returns it (undefined: nothing to apply).
 * As on the real service, the CronJob — what GET .../deployments shows — is written only after a
 * successful build, and its deployed date is the moment it is written (DeploymentService
 * .updateDeployment, JobImageDeployer.updateCronJob); a failed build leaves the old one running
 * and its outcome only in latest_job_deployment_status (DeploymentMonitor.recordDeploymentStatus).
 */
export function settleDeployment(js: JobState, now: number): PendingDeployment | undefined {
  const p = js.pending
  if (!p || now < p.ready_at) return undefined
  js.deployment_status = p.outcome
  if (p.outcome === 'SUCCESS') {
    js.live = { ...p.target, last_deployed_date: iso(p.ready_at) }
  }
  js.pending = undefined
  return p
}

export function executionStatus(e: ExecutionRecord, now: number): ExecutionStatus {
  if (e.cancelled_at !== undefined) return 'cancelled'
  if (now < e.running_at) return 'submitted'
  if (now < e.end_at) return 'running'
  if (e.becomes?.at !== undefined && now >= e.becomes.at) return e.becomes.status
  return e.final
}

export const isActive = (s: ExecutionStatus): boolean => s === 'submitted' || s === 'running'

export function executionEnd(e: ExecutionRecord, now: number): number | undefined {
  if (e.cancelled_at !== undefined) return e.cancelled_at
  return now >= e.end_at ? e.end_at : undefined
}

/**
 * How many scripted log strings are written by now: they appear one by one over the running time
 * (string k at running_at + k/strings of it); none before it runs.
 */
export function visibleLogCount(e: ExecutionRecord, now: number): number {
  const stop = Math.min(now, e.cancelled_at ?? Infinity)
  if (stop < e.running_at) return 0
  const span = e.end_at - e.running_at
  if (span <= 0 || stop >= e.end_at) return e.logs.length
  const shown = Math.floor(((stop - e.running_at) / span) * e.logs.length) + 1
  return Math.min(shown, e.logs.length)
}

/** The scripted log strings visible now (what the log store of `logs_url` shows). */
export const visibleLogLines = (e: ExecutionRecord, now: number): string[] =>
  e.logs.slice(0, visibleLogCount(e, now))

const MESSAGES: Record<ExecutionStatus, string> = {
  submitted: 'Job execution submitted.',
  running: 'Job execution is running.',
  succeeded: 'Job execution succeeded.',
  cancelled: 'Job execution cancelled by user.',
  skipped: 'Job execution skipped: another execution of this job was already running.',
  user_error: 'Job execution failed because of an error in the data job (user error).',
  platform_error: 'Job execution failed because of a platform error.'
}
export const executionMessage = (s: ExecutionStatus): string => MESSAGES[s]

/** The log of an unscripted execution: VDK-like lines naming the steps of the deployed version. */
export function defaultLogs(
  job: string,
  id: string,
  status: FinalStatus,
  steps: string[]
): string[] {
  const names = steps.length
    ? steps
    : ['(no steps: the job has no .py or .sql file at its top level)']
  if (status === 'skipped') return [`Job ${job} skipped: another execution of it is running.`]
  const lines = [
    `Starting data job ${job} (execution ${id}).`,
    'Loading job configuration from config.ini.'
  ]
  names.forEach((step, i) => {
    lines.push(`Executing step ${step}.`)
    const failing = i === names.length - 1 && status !== 'succeeded'
    if (!failing) lines.push(`Step ${step} completed.`)
  })
  const last: Record<Exclude<FinalStatus, 'skipped'>, string> = {
    succeeded: `Job ${job} finished successfully.`,
    user_error: `Job ${job} failed: step ${names.at(-1)} raised an exception (user error).`,
    platform_error: `Job ${job} failed: lost the connection to the data platform (platform error).`
  }
  return [...lines, last[status]]
}
