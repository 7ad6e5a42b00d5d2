// The calls about a job's deployment: listing and reading it, deploying (reconciled after a lost
// answer by what is live), changing and deleting it; and when a live deployment is the one asked
// for.
import { decodeAnswer, deploymentAnswer, deploymentsAnswer } from '../answers.js'
import type { DataJobDeployment, DataJobDeploymentStatus } from '../types.js'
import { DEPLOYMENT, sendForAnswer, sendForEffect, type JobAddress } from './common.js'

/**
 * Whether the live deployment `live` is `wanted` done: the same version, python and vdk version
 * and enabled state (each where `wanted` names it), deployed after `since` when that is given.
 */
export function isDeploymentOf(
  live: DataJobDeploymentStatus,
  wanted: DataJobDeployment,
  since?: string | null
): boolean {
  return (
    live.job_version === wanted.job_version &&
    (wanted.python_version === undefined || live.python_version === wanted.python_version) &&
    (wanted.vdk_version === undefined || live.vdk_version === wanted.vdk_version) &&
    (wanted.enabled === undefined || live.enabled === wanted.enabled) &&
    (since === undefined || deployedAfter(live.last_deployed_date, since))
  )
}

/**
 * Whether `date` is later than `since`, both ISO 8601 dates. `since` null: the deployment before
 * had no date, so any date that parses is a later one. A date that is missing or does not parse
 * proves nothing.
 */
export function deployedAfter(date: string | null | undefined, since: string | null): boolean {
  const deployed = Date.parse(date ?? '')
  if (!Number.isFinite(deployed)) return false
  if (since === null) return true
  const before = Date.parse(since)
  return Number.isFinite(before) && deployed > before
}

export async function listDeployments(job: JobAddress): Promise<DataJobDeploymentStatus[]> {
  return sendForAnswer(
    job.transport,
    {
      operation: `list the deployments of ${job.label}`,
      method: 'GET',
      path: `${job.path}/deployments`,
      idempotent: true
    },
    deploymentsAnswer
  )
}

/** The live deployment, or undefined when the job is not deployed. */
export async function readDeployment(
  job: JobAddress
): Promise<DataJobDeploymentStatus | undefined> {
  const operation = `read the deployment of ${job.label}`
  return job.transport.send(
    {
      operation,
      method: 'GET',
      path: `${job.path}/deployments/${DEPLOYMENT}`,
      idempotent: true,
      accept: [404]
    },
    res => (res.status === 404 ? undefined : decodeAnswer(res, operation, deploymentAnswer))
  )
}

export interface DeployOptions {
  sendNotification?: boolean
  /** The last_deployed_date read before deploying (null: there was none). */
  since?: string | null
}

/**
 * Starts a deployment (202: the build goes on asynchronously). After a lost answer it reads
 * back: only a deployment that is everything this one asks for — version, python and vdk
 * version, enabled — and was deployed after `since` (the last_deployed_date read before) is
 * taken as this one done ("already-live"); otherwise the deployment is sent again, which
 * converges (a second POST replaces a build in progress, JobImageBuilder.buildImage).
 */
export async function deploy(
  job: JobAddress,
  deployment: DataJobDeployment,
  options: DeployOptions = {}
): Promise<'sent' | 'already-live'> {
  return job.transport.send(
    {
      operation: `deploy version ${deployment.job_version ?? '(latest)'} of ${job.label}`,
      method: 'POST',
      path: `${job.path}/deployments`,
      query: { send_notification: options.sendNotification },
      json: deployment,
      idempotent: false,
      hint: status =>
        status === 409 ? 'use a python version from the service info (GET .../info)' : undefined
    },
    () => 'sent' as const,
    async () => {
      const live = (await listDeployments(job))[0]
      return live && isDeploymentOf(live, deployment, options.since)
        ? ('already-live' as const)
        : undefined
    }
  )
}

/** What a patch of the deployment may change. */
export type DeploymentPatch = Pick<DataJobDeployment, 'enabled' | 'vdk_version' | 'schedule'>

/** Enables or disables the deployment (synchronous on the service). */
export async function patchDeployment(job: JobAddress, patch: DeploymentPatch): Promise<void> {
  const change = patch.enabled === false ? 'disable' : patch.enabled === true ? 'enable' : 'change'
  return sendForEffect(job.transport, {
    operation: `${change} the deployment of ${job.label}`,
    method: 'PATCH',
    path: `${job.path}/deployments/${DEPLOYMENT}`,
    json: patch,
    idempotent: true
  })
}

/**
 * Deletes the deployment (undeploys the job): the CronJob is removed and a build in progress
 * cancelled; the job, its sources and properties stay. The real service answers 202 whenever the
 * job exists in the team, deployed or not (it deletes only what exists or is being built), and an
 * empty 404 when the team has no such job (DataJobsDeploymentController.deploymentDelete →
 * DeploymentService.deleteDeployment, pipelines_control_service). Sent again after a lost answer:
 * a second DELETE changes nothing more. 'absent': the team has no such job (any more).
 */
export async function deleteDeployment(job: JobAddress): Promise<'deleted' | 'absent'> {
  return job.transport.send(
    {
      operation: `delete the deployment of ${job.label}`,
      method: 'DELETE',
      path: `${job.path}/deployments/${DEPLOYMENT}`,
      idempotent: true,
      accept: [404]
    },
    res => (res.status === 404 ? ('absent' as const) : ('deleted' as const))
  )
}
