// The root action's rollback-on-failure: when the execution that checks a new release ends as
// user_error or platform_error (or does not end in time), the version live before the deploy is
// deployed again with its python and vdk version and enabled state, waited for until it is live,
// and the step fails saying which version failed with what, and which version is live now.
//
// What the real Control Service gives and does, checked in its source
// (projects/control-service/projects/pipelines_control_service/src/main/java/com/vmware/taurus/):
// - the deployment read (GET .../deployments/{id}, what deploy reads before it deploys) holds
//   job_version (the CronJob's git commit sha), python_version, vdk_version, enabled, mode,
//   resources, last_deployed_by and last_deployed_date: datajobs/ToApiModelConverter.java
//   (toDataJobDeploymentStatus);
// - a POST of a deployment accepts any job_version uploaded before, older ones included: nothing
//   compares it with the live one (datajobs/DataJobsDeploymentController.java deploymentUpdate;
//   service/deploy/DeploymentService.java updateDeployment merges the request over the live
//   deployment, DeploymentModelConverter.mergeDeployments, then builds the image of that commit —
//   JobImageBuilder.buildImage reuses it when the registry still has it — and writes the CronJob
//   again), so the old version goes live as a new deployment, with a new last_deployed_date;
// - fields the request omits are taken from the live deployment (mergeDeployments), and a python
//   version change resets vdk_version (resetVdkVersionIfPythonVersionChange): so the rollback
//   sends the old python_version, vdk_version and enabled explicitly.
import { ActionFailure, ControlServiceError } from '../core/errors.js'
import { parseBoolean, type InputSource, type Problems } from '../core/inputs.js'
import type { DataJobDeployment, DataJobDeploymentStatus } from '../core/types.js'
import { shownDate, waitLive, type DeployConfig, type DeployResult } from './deploy.js'
import { DeploymentRecorder } from './github-deployment.js'
import type { ActionContext, Outcome, SummaryTable } from './runtime.js'

/** Reads rollback-on-failure (default false). */
export const readRollback = (inputs: InputSource, problems: Problems): boolean =>
  parseBoolean('rollback-on-failure', inputs.input('rollback-on-failure'), false, problems)

/**
 * Why the check of a release failed in a way that blames the release, or undefined: the execution
 * ended user_error or platform_error, or did not end within run-timeout-seconds. A cancelled
 * workflow, a conflict with a running execution or a skipped execution says nothing about the
 * version, so it is no reason to roll back.
 */
export function releaseFailure(run: Outcome, ctx: ActionContext): string | undefined {
  if (!run.failure || ctx.signal.aborted) return undefined
  const status = String(run.outputs.status ?? '')
  const id = String(run.outputs['execution-id'] ?? '')
  if (!id) return undefined
  if (status === 'user_error' || status === 'platform_error')
    return `its execution ${id} ended ${status}`
  // run-and-wait's reason when the time is up (run-and-wait.ts, notEnded)
  if (run.failure.includes('did not end within timeout-seconds'))
    return `its execution ${id} did not end within run-timeout-seconds`
  return undefined
}

/** The outputs of the rollback: whether it rolled back, and the version live now. */
const rollbackOutputs = (rolledBack: boolean, live: string | undefined): Outcome['outputs'] => ({
  'rolled-back': rolledBack,
  'live-version': live ?? ''
})

const rollbackSummary = (shown: string): SummaryTable => ({
  heading: 'Rollback',
  columns: ['Result'],
  rows: [[shown]]
})

/** The outputs after a deploy when nothing needs rolling back (live, unchanged, or not live). */
export async function withoutRollback(
  deployed: DeployResult,
  config: DeployConfig,
  ctx: ActionContext
): Promise<Outcome['outputs']> {
  const status = deployed.outcome.outputs['deployment-status']
  if (status !== 'not-live')
    return rollbackOutputs(false, String(deployed.outcome.outputs['job-version']))
  // not live: the old version (if any) still runs; read it again, as the deploy may have failed early
  const live = await ctx.client.readDeployment(config.job.ref).catch(() => undefined)
  return rollbackOutputs(false, live?.job_version)
}

/** The failure line of a deploy that never went live, with rollback-on-failure: nothing rolled back. */
export function notLiveNote(deployed: DeployResult, liveVersion: string): string {
  const version = String(deployed.outcome.outputs['job-version'] || 'the new version')
  const running = liveVersion ? `version ${liveVersion} is still live` : 'no version is live'
  return `nothing to roll back (${running}: version ${version} never went live); its build may still finish later on the Control Service and make it live, so check the job before relying on the old version`
}

/**
 * Rolls back after `failed` (why the check failed): deploys the version live before again and
 * waits until it is live. The outcome fails with both facts.
 */
export async function rollBack(
  config: DeployConfig,
  ctx: ActionContext,
  deployed: DeployResult,
  failed: string
): Promise<Outcome> {
  const version = String(deployed.outcome.outputs['job-version'])
  const before = deployed.before
  const what = `version ${version} failed its check: ${failed}`
  if (!before?.job_version) {
    const failure = `${what}; it is the job's first deployment, so there is nothing to roll back to: version ${version} stays deployed (undeploy or disable it yourself if it must not run on its schedule)`
    return {
      outputs: rollbackOutputs(false, version),
      summary: rollbackSummary(`none: first deployment, version ${version} stays`),
      failure
    }
  }
  await deployed.recorder.revise('failure', `version ${version} failed its check`, version)
  let restored: Awaited<ReturnType<typeof redeploy>>
  try {
    restored = await redeploy(config, ctx, before)
  } catch (e) {
    if (!(e instanceof ActionFailure || e instanceof ControlServiceError)) throw e
    if (e instanceof ControlServiceError && e.kind === 'aborted') throw e
    return {
      outputs: rollbackOutputs(false, version),
      summary: rollbackSummary(`failed: version ${before.job_version} not redeployed`),
      failure: `${what}; the rollback to version ${before.job_version} failed (${e.message}): version ${version} is still live`
    }
  }
  if (!restored.live) {
    const now = restored.last?.job_version
    return {
      outputs: rollbackOutputs(false, now),
      summary: rollbackSummary(`failed: version ${before.job_version} not live in time`),
      failure: `${what}; the rollback to version ${before.job_version} was not live after deploy-timeout-seconds ${config.timeoutMs / 1000}: ${now ? `version ${now}` : 'no version'} is live now`
    }
  }
  const settings = shownSettings(restored.last ?? before)
  return {
    outputs: rollbackOutputs(true, before.job_version),
    summary: rollbackSummary(`rolled back to version ${before.job_version} (${settings})`),
    failure: `${what}; rolled back: version ${before.job_version} (${settings}) is live again, deployed ${shownDate(restored.last?.last_deployed_date)}`
  }
}

/** Deploys `before` again (its version, python and vdk version, enabled) and waits until live. */
async function redeploy(
  config: DeployConfig,
  ctx: ActionContext,
  before: DataJobDeploymentStatus
): Promise<{ live: boolean; last?: DataJobDeploymentStatus }> {
  const { ref } = config.job
  const oldVersion = before.job_version!
  const request: DataJobDeployment = { job_version: oldVersion }
  if (before.python_version) request.python_version = before.python_version
  if (before.vdk_version) request.vdk_version = before.vdk_version
  if (before.enabled !== undefined) request.enabled = before.enabled
  // the failed release is live now: the old version must be deployed after it
  const current = await ctx.client.readDeployment(ref)
  const recorder = new DeploymentRecorder(config.record, ctx, ref, config.connection.url)
  await recorder.started(oldVersion)
  let result: { live: boolean; last?: DataJobDeploymentStatus } = { live: false }
  try {
    const sent = await ctx.client.deploy(ref, request, {
      since: current ? (current.last_deployed_date ?? null) : undefined
    })
    ctx.info(`rolling back: deployment of version ${oldVersion} sent`)
    result =
      sent === 'already-live'
        ? { live: true, last: await ctx.client.readDeployment(ref) }
        : await waitLive(ctx, config, oldVersion, current)
  } finally {
    // a refused rollback is a failed record too (finish never throws)
    await recorder.finish(
      result.live ? 'success' : 'failure',
      result.live ? `version ${oldVersion} is live again (rollback)` : 'rollback not live',
      oldVersion
    )
  }
  return result
}

/** The restored deployment's settings as the message shows them. */
function shownSettings(d: DataJobDeploymentStatus): string {
  const parts = [d.python_version ? `python ${d.python_version}` : '']
  if (d.vdk_version) parts.push(`vdk ${d.vdk_version}`)
  if (d.enabled !== undefined) parts.push(d.enabled ? 'enabled' : 'disabled')
  return parts.filter(Boolean).join(', ') || 'as before'
}
