// deploy: upload the job folder (or take a version already uploaded), write config.ini's schedule,
// contacts and notifications to the job, deploy, and wait until the new version is live — which
// the real service shows only in GET .../deployments: no API reports a failed build.
import { deployedAfter, isDeploymentOf } from '../core/client.js'
import { readConnection, type ConnectionConfig } from '../core/connection.js'
import { ActionFailure, ControlServiceError } from '../core/errors.js'
import {
  parseBoolean,
  parseSeconds,
  relativeToWorkspace,
  type InputSource,
  type Problems
} from '../core/inputs.js'
import { iniOwnedView, jobConfigFromIni } from '../core/jobdir.js'
import { poll } from '../core/poll.js'
import { scanJob } from '../core/scan.js'
import type { DataJobConfig, DataJobDeployment, DataJobDeploymentStatus } from '../core/types.js'
import {
  DeploymentRecorder,
  readDeploymentRecord,
  withRecord,
  type DeploymentRecordConfig
} from './github-deployment.js'
import { readJobInputs, readUploadOptions, type JobInputs, type UploadOptions } from './job.js'
import { pacing, runLink } from './runtime.js'
import type { ActionContext, ActionDefinition, Outcome } from './runtime.js'
import { uploadJob, type Uploaded } from './upload.js'

export interface DeployConfig {
  connection: ConnectionConfig
  job: JobInputs
  jobVersion?: string
  pythonVersion?: string
  /** Where python-version came from, for the message when the service does not support it. */
  pythonFrom?: string
  vdkVersion?: string
  /** Absent: the deployment keeps its enabled state (a new one is enabled). */
  enabled?: boolean
  updateConfig: boolean
  wait: boolean
  timeoutMs: number
  pollIntervalMs: number
  upload: UploadOptions
  /** The deploy's record as a GitHub deployment (github-deployment.ts). */
  record: DeploymentRecordConfig
}

const VERSION_SHAPE = /^[0-9a-f]{7,64}$/i

export const deploy: ActionDefinition<DeployConfig> = {
  name: 'deploy',

  async config(inputs: InputSource, problems: Problems): Promise<DeployConfig> {
    const connection = readConnection(inputs, problems)
    const jobVersion = inputs.input('job-version') || undefined
    const hasPath = Boolean(inputs.input('job-path'))
    if (jobVersion && hasPath)
      problems.add(
        'set job-path (upload, then deploy) or job-version (deploy a version already uploaded), not both'
      )
    if (!jobVersion && !hasPath)
      problems.add(
        'job-path or job-version is required: the job folder to upload and deploy, or a version uploaded before'
      )
    if (jobVersion && !VERSION_SHAPE.test(jobVersion))
      problems.add(
        'job-version',
        `'${jobVersion}' is not a version: expected the hexadecimal version_sha that upload-sources gave`
      )
    const pythonVersion = inputs.input('python-version') || undefined
    if (pythonVersion && !/^\d+\.\d+$/.test(pythonVersion))
      problems.add('python-version', `'${pythonVersion}' should look like 3.11`)
    const options = {
      enabled:
        inputs.input('enabled') === ''
          ? undefined
          : parseBoolean('enabled', inputs.input('enabled'), true, problems),
      updateConfig: parseBoolean('update-config', inputs.input('update-config'), true, problems),
      wait: parseBoolean('wait', inputs.input('wait'), true, problems),
      upload: readUploadOptions(inputs, problems),
      timeoutMs:
        parseSeconds('timeout-seconds', inputs.input('timeout-seconds'), 900, problems) * 1000,
      pollIntervalMs:
        parseSeconds('poll-interval-seconds', inputs.input('poll-interval-seconds'), 10, problems) *
        1000
    }
    const job = await readJobInputs(inputs, problems, {
      pathRequired: false,
      scan: hasPath && !jobVersion ? scanJob : undefined
    })
    return {
      connection,
      job: job as JobInputs,
      jobVersion,
      pythonVersion: pythonVersion ?? job?.ini?.pythonVersion?.value,
      pythonFrom: pythonVersion
        ? 'the python-version input'
        : job?.ini?.pythonVersion &&
          `${relativeToWorkspace(job.ini.file)} line ${job.ini.pythonVersion.line}`,
      vdkVersion: inputs.input('vdk-version') || undefined,
      record: readDeploymentRecord(inputs, problems),
      ...options
    }
  },

  connection: config => config.connection,

  run: async (config, ctx) => (await deployAndRecord(config, ctx)).outcome
}

/** A deploy as the root action's rollback needs it: the outcome, what was live before, the record. */
export interface DeployResult {
  outcome: Outcome
  /** The deployment live before, as GET .../deployments/{id} showed it; undefined: none, or not read. */
  before?: DataJobDeploymentStatus
  recorder: DeploymentRecorder
}

/** Deploys (deploy's run) and records it in GitHub; the outputs say what was live before. */
export async function deployAndRecord(
  config: DeployConfig,
  ctx: ActionContext
): Promise<DeployResult> {
  // the outputs are set on failure too, for an `if: failure()` step: the version as far as known
  let version = config.jobVersion
  let before: DataJobDeploymentStatus | undefined
  const recorder = new DeploymentRecorder(config.record, ctx, config.job.ref, config.connection.url)
  let outcome: Outcome
  try {
    outcome = await deployJob(config, ctx, recorder, {
      version: v => (version = v),
      before: live => (before = live)
    })
  } catch (e) {
    if (!(e instanceof ActionFailure || e instanceof ControlServiceError)) throw e
    if (e instanceof ControlServiceError && e.kind === 'aborted') throw e
    outcome = { outputs: deployOutputs(version, 'not-live'), failure: e.message }
  }
  outcome = { ...outcome, outputs: { ...outcome.outputs, ...previousOutputs(before) } }
  return { outcome: await withRecord(recorder, outcome, version, ctx.env), before, recorder }
}

/**
 * What was live before the deploy, as outputs, for a workflow that rolls back itself (deploy
 * again with job-version, python-version, vdk-version and enabled from them); empty when nothing
 * was deployed (or the deploy stopped before reading it).
 */
const previousOutputs = (before: DataJobDeploymentStatus | undefined): Outcome['outputs'] => ({
  'previous-version': before?.job_version ?? '',
  'previous-python-version': before?.python_version ?? '',
  'previous-vdk-version': before?.vdk_version ?? '',
  'previous-enabled': before?.enabled === undefined ? '' : before.enabled
})

/** The step's outputs: `version` is the version deployed, or as far as it is known. */
const deployOutputs = (
  version: string | undefined,
  status: DeploymentResult
): Outcome['outputs'] => ({
  'job-version': version ?? '',
  'deployment-id': 'production',
  'deployment-status': status,
  skipped: status === 'unchanged'
})

/** What deployJob tells as soon as it knows it: the version, the deployment live before. */
interface DeployWitness {
  version: (version: string) => void
  before: (live: DataJobDeploymentStatus | undefined) => void
}

async function deployJob(
  config: DeployConfig,
  ctx: ActionContext,
  recorder: DeploymentRecorder,
  known: DeployWitness
): Promise<Outcome> {
  const { ref } = config.job
  const info = await ctx.client.info(ref.team)
  const unsupported = unsupportedPython(config, info.supported_python_versions)
  if (unsupported) return unsupported
  let uploaded: Uploaded | undefined
  if (config.job.jobDir && config.job.ini && config.job.scan) {
    uploaded = await uploadJob(
      ctx,
      { ref, jobDir: config.job.jobDir, ini: config.job.ini, scan: config.job.scan },
      config.upload
    )
  }
  const version = uploaded?.version ?? config.jobVersion
  // config() requires job-path or job-version, so there is always one
  if (!version) throw new ActionFailure('there is no version to deploy')
  known.version(version)

  const { jobConfig, configChanged } = await updateJobConfig(config, ctx)

  // what is live, from the job's CronJob as GET .../deployments shows it: the only record of a
  // deployment the API has (no field tells whether a build succeeded or failed)
  const live = await ctx.client.readDeployment(ref)
  known.before(live)
  const request: DataJobDeployment = { job_version: version }
  if (config.enabled !== undefined) request.enabled = config.enabled
  if (config.pythonVersion) request.python_version = config.pythonVersion
  if (config.vdkVersion) request.vdk_version = config.vdkVersion
  const outputs = (status: DeploymentResult): Outcome['outputs'] => deployOutputs(version, status)
  const summary = (shown: string): Outcome['summary'] => deploySummary(config, ctx, version, shown)

  const sameDeployment =
    live !== undefined && isDeploymentOf(live, { ...request, enabled: undefined })
  if (sameDeployment && !configChanged) {
    if (config.enabled === undefined || live.enabled === config.enabled) {
      ctx.info(
        `version ${version} is already deployed with these settings and this config: nothing sent`
      )
      return { outputs: outputs('unchanged'), summary: summary('unchanged') }
    }
    // only `enabled` changed: the deployment itself stays (PATCH writes the CronJob at once)
    await ctx.client.patchDeployment(ref, { enabled: config.enabled })
    ctx.info(`${config.enabled ? 'enabled' : 'disabled'} the deployment of version ${version}`)
    return {
      outputs: outputs('live'),
      summary: summary(config.enabled ? 'live (enabled)' : 'live (disabled)')
    }
  }

  // a deployment before (with or without a date) or none: the new one must be deployed after it
  const since = live ? (live.last_deployed_date ?? null) : undefined
  await recorder.started(version)
  const sent = await ctx.client.deploy(ref, request, { since })
  ctx.info(
    sent === 'already-live'
      ? `deployment of version ${version} was already live (its answer was lost)`
      : `deployment of version ${version} sent; the Control Service builds it now`
  )
  if (sent === 'already-live') return { outputs: outputs('live'), summary: summary('live') }
  if (!config.wait)
    return { outputs: outputs('started'), summary: summary('started (not waited for)') }

  const result = await waitLive(ctx, config, version, live)
  if (result.live) return { outputs: outputs('live'), summary: summary('live') }
  const contacts = (jobConfig ?? (await ctx.client.readJob(ref))?.config)?.contacts
  return {
    outputs: outputs('not-live'),
    summary: summary('not live'),
    failure: notLiveReason(config, version, result, {
      recipients: contacts?.notified_on_job_deploy ?? [],
      redeploy: live?.job_version === version,
      configChanged
    })
  }
}

/** The failure when the python version is not one the service supports, on config.ini's line when it came from there. */
function unsupportedPython(config: DeployConfig, supported: string[]): Outcome | undefined {
  if (!config.pythonVersion || supported.includes(config.pythonVersion)) return undefined
  const reason = `python version ${config.pythonVersion} (from ${config.pythonFrom}) is not supported by the Control Service, which supports ${supported.join(', ')}`
  const line = config.job.ini?.pythonVersion
  const fromIni = line && config.pythonFrom !== 'the python-version input'
  return {
    outputs: deployOutputs(config.jobVersion, 'not-live'),
    failure: reason,
    annotations:
      fromIni && config.job.ini
        ? [{ file: config.job.ini.file, line: line.line, message: reason }]
        : []
  }
}

/**
 * config.ini owns the schedule, contacts and notification settings of the job; a change of them
 * reaches the CronJob only with a new deployment, which takes the job's schedule at deploy time
 * (JobImageDeployer.updateCronJob). The job's config as it now is, and whether it was changed.
 */
async function updateJobConfig(
  config: DeployConfig,
  ctx: ActionContext
): Promise<{ jobConfig?: DataJobConfig; configChanged: boolean }> {
  const { ref, ini } = config.job
  if (!config.updateConfig || !ini) return { configChanged: false }
  const current = await ctx.client.readJob(ref)
  if (!current)
    throw new ActionFailure(`data job '${ref.job}' does not exist in team '${ref.team}'`)
  const iniName = relativeToWorkspace(ini.file)
  if (!ini.scheduleCron?.value.trim())
    ctx.warning(
      `${iniName} has no [job] schedule_cron: no schedule, so the job will never run on its own, only when an execution is started`
    )
  const jobConfig = jobConfigFromIni(current.config, ini)
  if (iniOwnedView(jobConfig) === iniOwnedView(current.config))
    return { jobConfig: current.config, configChanged: false }
  await ctx.client.updateJob(ref, { description: current.description, config: jobConfig })
  ctx.info(`updated the job's schedule, contacts and notification settings from ${iniName}`)
  return { jobConfig, configChanged: true }
}

/** The summary's table: one row, with the deployment as `shown`. */
const deploySummary = (
  config: DeployConfig,
  ctx: ActionContext,
  version: string,
  shown: string
): Outcome['summary'] => ({
  heading: 'VDK data job deployed',
  columns: ['Job', 'Team', 'Version', 'Deployment', 'Run'],
  rows: [
    [
      config.job.ref.job,
      config.job.ref.team,
      version,
      shown,
      runLink(ctx.env, config.job.jobDir ? relativeToWorkspace(config.job.jobDir) : '')
    ]
  ]
})

/**
 * What deploy's `deployment-status` output can say, each from what the real service shows:
 * `live` (GET .../deployments has the new version, deployed after the request), `unchanged`
 * (it already had it with the same settings and config: nothing sent), `started` (sent, not
 * waited for), `not-live` (not live within timeout-seconds: the build failed or is slow — the
 * API does not tell which).
 */
export type DeploymentResult = 'live' | 'unchanged' | 'started' | 'not-live'

export interface WaitResult {
  live: boolean
  aborted: boolean
  /** The deployment as last seen (what still runs when the new version did not go live). */
  last?: DataJobDeploymentStatus
}

/**
 * Waits until GET .../deployments shows `version` deployed after `before` (the new CronJob is
 * written only once the image is built). A build that fails shows nothing: the old deployment
 * stays, so the wait ends only at timeout-seconds.
 */
export async function waitLive(
  ctx: ActionContext,
  config: DeployConfig,
  version: string,
  before: DataJobDeploymentStatus | undefined
): Promise<WaitResult> {
  const { ref } = config.job
  let last = before
  const result = await poll({
    intervalMs: Math.min(config.pollIntervalMs, 2000),
    maxIntervalMs: config.pollIntervalMs,
    factor: 1.5,
    timeoutMs: config.timeoutMs,
    ...pacing(ctx),
    probe: async () => {
      last = (await ctx.client.listDeployments(ref))[0]
      const fresh =
        before?.job_version !== version ||
        deployedAfter(last?.last_deployed_date, before.last_deployed_date ?? null)
      return { done: last?.job_version === version && fresh, value: last }
    }
  })
  if (result.reason === 'done') {
    ctx.info(`version ${version} is live (deployed ${shownDate(last?.last_deployed_date)})`)
    return { live: true, aborted: false, last }
  }
  return { live: false, aborted: result.reason === 'aborted', last }
}

/** A date from the service as it is shown: ISO 8601 when it is one, else not at all. */
export function shownDate(date: string | undefined): string {
  const ms = Date.parse(date ?? '')
  return Number.isFinite(ms) ? new Date(ms).toISOString() : 'at an unknown time'
}

/** Why the version is not live, what still runs, and where the real outcome went. */
function notLiveReason(
  config: DeployConfig,
  version: string,
  result: WaitResult,
  seen: { recipients: string[]; redeploy: boolean; configChanged: boolean }
): string {
  const running = result.last?.job_version
    ? `version ${result.last.job_version} (deployed ${shownDate(result.last.last_deployed_date)}) still runs`
    : 'no version of it runs'
  const what = seen.redeploy
    ? `the new deployment of version ${version} of '${config.job.ref.job}'`
    : `version ${version} of '${config.job.ref.job}'`
  if (result.aborted)
    return `stopped while waiting for ${what} to go live (${running}); the build goes on on the Control Service`
  const mail = seen.recipients.length
    ? `the service e-mailed the outcome to ${seen.recipients.join(', ')} (notified_on_job_deploy)`
    : 'the service e-mails the outcome to the notified_on_job_deploy contacts, and the job has none: add [contacts] notified_on_job_deploy to config.ini'
  // the job's config was written, the CronJob not: a later run of the same version sees no change
  const unapplied =
    seen.configChanged && seen.redeploy
      ? "; the job's config was updated from config.ini but is not deployed yet, and a later deploy of this same version will find nothing to change: change the job or deploy another version to apply it"
      : ''
  return `${what} was not live after timeout-seconds ${config.timeoutMs / 1000}: ${running}. The Control Service tells no client whether a build failed: if it failed, that deployment goes on running, ${mail}, and its operators see it in the service's metrics; if the build is only slow, it may still go live (raise timeout-seconds)${unapplied}`
}
