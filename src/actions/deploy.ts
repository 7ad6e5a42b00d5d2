// deploy: upload the job folder (or take a version already uploaded), write config.ini's schedule,
// contacts and notifications to the job, deploy, and wait until the new version is live.
import {
  readConnection,
  parseBoolean,
  parseSeconds,
  type ConnectionConfig,
  type InputSource,
  type Problems
} from '../core/connection.js'
import { ActionFailure } from '../core/errors.js'
import { mergeJobConfig, relativeToWorkspace } from '../core/jobdir.js'
import { poll } from '../core/poll.js'
import { scanJob } from '../core/scan.js'
import type { DataJobDeployment, GqlDeployment } from '../core/types.js'
import { defaultReason, readJobInputs, type JobInputs } from './job.js'
import {
  runLink,
  runUrl,
  type ActionContext,
  type ActionDefinition,
  type Outcome
} from './runtime.js'
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
  reason: string
  createIfMissing: boolean
}

const VERSION_SHAPE = /^[0-9a-f]{7,64}$/i

export const deploy: ActionDefinition<DeployConfig> = {
  name: 'deploy',

  async config(src: InputSource, problems: Problems): Promise<DeployConfig> {
    const connection = readConnection(src, problems)
    const jobVersion = src.input('job-version') || undefined
    const hasPath = Boolean(src.input('job-path'))
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
        `job-version '${jobVersion}' is not a version: expected the hexadecimal version_sha that upload-sources gave`
      )
    const pythonVersion = src.input('python-version') || undefined
    if (pythonVersion && !/^\d+\.\d+$/.test(pythonVersion))
      problems.add(`python-version '${pythonVersion}' should look like 3.11`)
    const options = {
      enabled:
        src.input('enabled') === ''
          ? undefined
          : parseBoolean('enabled', src.input('enabled'), true, problems),
      updateConfig: parseBoolean('update-config', src.input('update-config'), true, problems),
      wait: parseBoolean('wait', src.input('wait'), true, problems),
      createIfMissing: parseBoolean(
        'create-if-missing',
        src.input('create-if-missing'),
        true,
        problems
      ),
      timeoutMs:
        parseSeconds('timeout-seconds', src.input('timeout-seconds'), 900, problems) * 1000,
      pollIntervalMs:
        parseSeconds('poll-interval-seconds', src.input('poll-interval-seconds'), 10, problems) *
        1000
    }
    const job = await readJobInputs(src, problems, {
      pathRequired: false,
      scan: hasPath && !jobVersion ? scanJob : undefined
    })
    problems.check()
    return {
      connection,
      job: job as JobInputs,
      jobVersion,
      pythonVersion: pythonVersion ?? job?.ini?.pythonVersion?.value,
      pythonFrom: pythonVersion
        ? 'the python-version input'
        : job?.ini?.pythonVersion &&
          `${relativeToWorkspace(job.ini.file)} line ${job.ini.pythonVersion.line}`,
      vdkVersion: src.input('vdk-version') || undefined,
      reason: src.input('reason') || defaultReason(src.env, runUrl(src.env)),
      ...options
    }
  },

  connection: c => c.connection,

  async run(c, ctx) {
    const { ref } = c.job
    const info = await ctx.client.info(ref.team)
    if (c.pythonVersion && !info.supported_python_versions.includes(c.pythonVersion)) {
      const reason = `python version ${c.pythonVersion} (from ${c.pythonFrom}) is not supported by the Control Service, which supports ${info.supported_python_versions.join(', ')}`
      const line = c.job.ini?.pythonVersion
      const fromIni = line && c.pythonFrom !== 'the python-version input'
      return {
        outputs: {},
        failure: reason,
        annotations:
          fromIni && c.job.ini ? [{ file: c.job.ini.file, line: line.line, message: reason }] : []
      }
    }
    let uploaded: Uploaded | undefined
    if (c.job.path && c.job.ini && c.job.scan) {
      uploaded = await uploadJob(
        ctx,
        { ref, path: c.job.path, ini: c.job.ini, scan: c.job.scan },
        { reason: c.reason, createIfMissing: c.createIfMissing }
      )
    }
    const version = uploaded?.version ?? c.jobVersion
    // config() requires job-path or job-version, so there is always one
    if (!version) throw new ActionFailure('there is no version to deploy')

    let configChanged = false
    if (c.updateConfig && c.job.ini) {
      const current = await ctx.client.readJob(ref)
      if (!current)
        throw new ActionFailure(`data job '${ref.job}' does not exist in team '${ref.team}'`)
      const next = mergeJobConfig(current.config, c.job.ini)
      if (JSON.stringify(next) !== JSON.stringify(current.config)) {
        await ctx.client.updateJob(ref, { description: current.description, config: next })
        configChanged = true
        ctx.info(
          `updated the job's schedule, contacts and notification settings from ${relativeToWorkspace(c.job.ini.file)}`
        )
      }
    }

    const live = await ctx.client.readDeployment(ref)
    const before = await ctx.client.deploymentStatus(ref)
    const same =
      live?.job_version === version &&
      (!c.pythonVersion || live.python_version === c.pythonVersion) &&
      (!c.vdkVersion || live.vdk_version === c.vdkVersion) &&
      before?.status === 'SUCCESS'
    const outputs = (status: string, skipped: boolean): Outcome['outputs'] => ({
      'job-version': version,
      'deployment-id': 'production',
      'deployment-status': status,
      skipped
    })
    const summary = (status: string): Outcome['summary'] => ({
      heading: 'VDK data job deployed',
      columns: ['Job', 'Team', 'Version', 'Deployment', 'Run'],
      rows: [
        [
          ref.job,
          ref.team,
          version,
          status,
          runLink(ctx.env, c.job.path ? relativeToWorkspace(c.job.path) : '')
        ]
      ]
    })

    if (same && (c.enabled === undefined || live.enabled === c.enabled) && !configChanged) {
      ctx.info(`version ${version} is already deployed with these settings: nothing sent`)
      return { outputs: outputs('SUCCESS', true), summary: summary('SUCCESS (unchanged)') }
    }
    if (same) {
      // only `enabled` (or the job's config) changed: the deployment itself stays
      if (c.enabled !== undefined && live.enabled !== c.enabled) {
        await ctx.client.patchDeployment(ref, { enabled: c.enabled })
        ctx.info(`${c.enabled ? 'enabled' : 'disabled'} the deployment of version ${version}`)
      }
      const enabled = c.enabled ?? live.enabled
      return {
        outputs: outputs('SUCCESS', false),
        summary: summary(enabled === false ? 'SUCCESS (disabled)' : 'SUCCESS')
      }
    }

    const request: DataJobDeployment = { job_version: version }
    if (c.enabled !== undefined) request.enabled = c.enabled
    if (c.pythonVersion) request.python_version = c.pythonVersion
    if (c.vdkVersion) request.vdk_version = c.vdkVersion
    const sent = await ctx.client.deploy(ref, request)
    ctx.info(
      `deployment of version ${version} ${sent === 'already-live' ? 'was already live' : 'started'}`
    )
    if (!c.wait)
      return {
        outputs: outputs(before?.status ?? 'NONE', false),
        summary: summary('started (not waited for)')
      }

    const status = await waitLive(ctx, c, version, before)
    return { outputs: outputs(status, false), summary: summary(status) }
  }
}

/** Waits until `version` is live and GraphQL says SUCCESS; fails on USER_ERROR / PLATFORM_ERROR. */
async function waitLive(
  ctx: ActionContext,
  c: DeployConfig,
  version: string,
  before: GqlDeployment | undefined
): Promise<string> {
  const { ref } = c.job
  let last = before?.status ?? 'NONE'
  let liveVersion: string | undefined
  const result = await poll({
    intervalMs: Math.min(c.pollIntervalMs, 2000),
    maxIntervalMs: c.pollIntervalMs,
    factor: 1.5,
    timeoutMs: c.timeoutMs,
    signal: ctx.signal,
    probe: async () => {
      const d = await ctx.client.deploymentStatus(ref)
      liveVersion = d?.jobVersion ?? undefined
      const status = d?.status ?? 'NONE'
      if (status !== last)
        ctx.info(
          `deployment status: ${status}${liveVersion ? ` (live version ${liveVersion})` : ''}`
        )
      last = status
      // the same version again (new python or vdk version): live only once it was deployed anew
      const fresh =
        before?.jobVersion !== version || d?.lastDeployedDate !== before.lastDeployedDate
      if (liveVersion === version && status === 'SUCCESS' && fresh)
        return { done: true, value: status }
      // the status is not reset when a deployment starts: an error counts only once it changed
      if ((status === 'USER_ERROR' || status === 'PLATFORM_ERROR') && status !== before?.status)
        return { done: true, value: status }
      return { done: false, value: status }
    }
  })
  if (result.reason === 'done' && result.value === 'SUCCESS') {
    ctx.info(`version ${version} is live`)
    return 'SUCCESS'
  }
  if (result.reason === 'done') {
    const who =
      result.value === 'USER_ERROR'
        ? 'a problem of the job (USER_ERROR): check requirements.txt and the python version'
        : 'a platform problem (PLATFORM_ERROR): retry, or ask the operators of the Control Service'
    throw new ActionFailure(
      `the deployment of version ${version} of '${ref.job}' failed with ${who}; the live version is still ${liveVersion ?? 'none'}`
    )
  }
  if (result.reason === 'aborted')
    throw new ActionFailure(
      `stopped while waiting for the deployment of version ${version}; it goes on on the service`
    )
  const stale =
    last === before?.status && (last === 'USER_ERROR' || last === 'PLATFORM_ERROR')
      ? ` (${last} was already the status before this deployment, so this one most likely failed too)`
      : ''
  throw new ActionFailure(
    `version ${version} of '${ref.job}' was not live after timeout-seconds ${c.timeoutMs / 1000}: the last deployment status seen was ${last}${stale}, and the live version ${liveVersion ?? 'none'}`
  )
}
