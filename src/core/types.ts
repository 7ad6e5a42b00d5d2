// Wire types of the Data Jobs API, written from the official spec (vdk-datajob-api.yaml) and the
// notes on what the real service sends. REST fields are snake_case; GraphQL ones camelCase.

export interface DataJobApiInfo {
  api_version: string
  /** As the real service spells them: "3.9", not "python3.9". */
  supported_python_versions: string[]
}

export interface DataJobContacts {
  notified_on_job_failure_user_error?: string[]
  notified_on_job_failure_platform_error?: string[]
  notified_on_job_success?: string[]
  notified_on_job_deploy?: string[]
}

export interface DataJobSchedule {
  schedule_cron?: string
}

export interface DataJobConfig {
  db_default_type?: string
  contacts?: DataJobContacts
  schedule?: DataJobSchedule
  generate_keytab?: boolean
  enable_execution_notifications?: boolean
  notification_delay_period_minutes?: number
  [other: string]: unknown
}

export interface DataJob {
  job_name: string
  team?: string
  description: string
  config: DataJobConfig
}

export type DeploymentMode = 'testing' | 'release'

/** POST / PATCH body of a deployment; every field optional. */
export interface DataJobDeployment {
  job_version?: string
  python_version?: string
  vdk_version?: string
  enabled?: boolean
  mode?: DeploymentMode
  schedule?: DataJobSchedule
}

/**
 * GET .../deployments: what the job's CronJob says. No field tells the outcome of a build — no API
 * does (the real service e-mails it to notified_on_job_deploy); a failed build leaves the old
 * deployment here.
 */
export interface DataJobDeploymentStatus {
  job_version?: string
  python_version?: string
  vdk_version?: string
  mode?: DeploymentMode
  id?: string
  enabled?: boolean
  last_deployed_date?: string
  last_deployed_by?: string
  resources?: Record<string, number>
}

export const EXECUTION_STATUSES = [
  'submitted',
  'running',
  'succeeded',
  'cancelled',
  'skipped',
  'user_error',
  'platform_error'
] as const
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number]
/** Execution ids as the service makes them (`<job>-<epoch seconds>`, Kubernetes job names). */
export const EXECUTION_ID_RULE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/

export const isTerminal = (s: ExecutionStatus): boolean => s !== 'submitted' && s !== 'running'

export interface DataJobExecutionRequest {
  started_by?: string
  args?: Record<string, unknown>
}

export interface DataJobExecution {
  id: string
  job_name?: string
  status: ExecutionStatus
  type?: 'manual' | 'scheduled'
  start_time?: string
  end_time?: string
  started_by?: string
  logs_url?: string
  message?: string
  op_id?: string
  deployment?: DataJobDeployment & { deployed_by?: string; deployed_date?: string; id?: string }
}

export interface GqlExecution {
  id: string
  status: Uppercase<ExecutionStatus>
  type: 'MANUAL' | 'SCHEDULED' | null
  startTime: string | null
  endTime: string | null
  startedBy: string | null
  message: string | null
  logsUrl: string | null
}

export type JsonMap = Record<string, unknown>
