// Deployments: a POST starts a build that goes live when its time has passed (settled by the
// store on the next request, state.ts), PATCH changes the live one at once, DELETE removes it.
// What a deployment shows is the CronJob of the real service, not the build.
import { isObject, readJson, requireObject, show } from '../body.js'
import type { ApiCall, Handler, Service } from '../context.js'
import {
  deployContacts,
  iso,
  jobSchedule,
  type JobState,
  type LiveDeployment,
  type PendingDeployment
} from '../model.js'
import { empty, fail, json, problem } from '../reply.js'
import { jobOrEmpty404 } from './lookup.js'

/** What every deployment shows as its resources: operators set them, never a client. */
export const DEPLOYMENT_RESOURCES = {
  cpu_request: 1,
  cpu_limit: 2,
  memory_request: 500,
  memory_limit: 1000
}

const deploymentView = (d: LiveDeployment) => ({
  job_version: d.job_version,
  python_version: d.python_version,
  ...(d.vdk_version ? { vdk_version: d.vdk_version } : {}),
  mode: d.mode,
  enabled: d.enabled,
  resources: DEPLOYMENT_RESOURCES,
  last_deployed_by: d.last_deployed_by,
  last_deployed_date: d.last_deployed_date
})

export const listDeployments: Handler = (service, call) => {
  const js = jobOrEmpty404(service, call)
  return json(200, js.live ? [deploymentView(js.live)] : [])
}

export const readDeployment: Handler = (service, call) => {
  const js = jobOrEmpty404(service, call)
  return js.live ? json(200, deploymentView(js.live)) : empty(404)
}

function refuseResources(body: Record<string, unknown>): void {
  if (
    isObject(body.resources) &&
    Object.values(body.resources).some(v => v !== null && v !== undefined)
  ) {
    fail(
      problem(
        400,
        'Setting of job resources is not allowed.',
        'The resources of a deployment are set by the operators of the service.',
        "Remove 'resources' from the deployment."
      )
    )
  }
}

export const createDeployment: Handler = async (service, call) => {
  const js = jobOrEmpty404(service, call)
  const notify = call.url.searchParams.get('send_notification')
  if (notify !== null && notify !== 'true' && notify !== 'false') {
    return problem(
      400,
      `send_notification must be true or false, not '${notify}'.`,
      'It is a boolean query parameter.',
      'Send ?send_notification=true or false, or omit it.'
    )
  }
  const body = requireObject(
    (await readJson(call.req, 'deployment', { required: false })) ?? {},
    'deployment'
  )
  refuseResources(body)
  if (body.mode !== undefined && body.mode !== 'release' && body.mode !== 'testing') {
    return problem(
      400,
      `Unknown deployment mode '${show(body.mode)}'.`,
      'The mode is release or testing.',
      "Send mode 'release', 'testing', or omit it."
    )
  }
  const target = deploymentTarget(service, call, js, body)
  const now = service.clock.now()
  const script = service.store.scriptsFor(js.job.team, js.job.job_name).deployments.shift() ?? {
    status: 'SUCCESS' as const,
    seconds: service.settings.deploymentSeconds
  }
  const pending: PendingDeployment = {
    started_at: now,
    ready_at: now + script.seconds * 1000,
    outcome: script.status,
    notify: notify !== 'false',
    recipients: deployContacts(js),
    target: {
      ...target,
      last_deployed_date: iso(now),
      // the CronJob takes the job config's schedule at deploy time; the body's is ignored
      // (JobImageDeployer.updateCronJob)
      schedule: { schedule_cron: jobSchedule(js.job).schedule_cron }
    }
  }
  js.pending = pending
  js.deployment_status ??= 'NONE'
  service.store.settle(js, now)
  return empty(202)
}

/**
 * The deployment a POST asks for, merged over the one that runs (its CronJob), as the build reads
 * it when it starts (DeploymentService.updateDeployment); a POST during a build replaces that
 * build. Its date and schedule are set by the caller; a body that cannot be deployed fails.
 */
function deploymentTarget(
  service: Service,
  call: ApiCall,
  js: JobState,
  body: Record<string, unknown>
): Omit<LiveDeployment, 'last_deployed_date' | 'schedule'> {
  const { pythonVersions, defaultPythonVersion } = service.settings
  const previous = js.live
  const python = body.python_version ?? previous?.python_version ?? defaultPythonVersion
  if (typeof python !== 'string' || !pythonVersions.includes(python)) {
    return fail(
      problem(
        409,
        `Python version '${show(python)}' is not supported.`,
        `The service supports ${pythonVersions.join(', ')}.`,
        "Set [job] python_version in config.ini (or the deployment's python_version) to a supported version; GET .../info lists them."
      )
    )
  }
  const version = body.job_version ?? previous?.job_version ?? js.versions.at(-1)?.version
  if (typeof version !== 'string' || !js.versions.some(v => v.version === version)) {
    return fail(
      problem(
        400,
        version === undefined
          ? 'No job version to deploy.'
          : `Job version '${show(version)}' of '${js.job.job_name}' does not exist.`,
        version === undefined
          ? 'No sources were uploaded for this job.'
          : 'No upload of this job produced that version.',
        'Upload the sources first and deploy the version_sha it answers.'
      )
    )
  }
  const pythonChanged = previous !== undefined && previous.python_version !== python
  const vdk = body.vdk_version ?? (pythonChanged ? undefined : previous?.vdk_version)
  return {
    job_version: version,
    python_version: python,
    ...(typeof vdk === 'string' ? { vdk_version: vdk } : {}),
    // absent: the CronJob keeps its enabled state, a new one is enabled
    // (DeploymentModelConverter.mergeDeployments; JobImageDeployer.updateCronJob)
    enabled: typeof body.enabled === 'boolean' ? body.enabled : (previous?.enabled ?? true),
    mode: (body.mode as LiveDeployment['mode'] | undefined) ?? previous?.mode ?? 'release',
    last_deployed_by: call.user
  }
}

export const patchDeployment: Handler = async (service, call) => {
  const js = jobOrEmpty404(service, call)
  const live =
    js.live ??
    fail(
      problem(
        404,
        `Data job '${js.job.job_name}' is not deployed.`,
        'There is no deployment to change.',
        'Deploy the job first.'
      )
    )
  const body = requireObject(await readJson(call.req, 'deployment'), 'deployment')
  refuseResources(body)
  for (const [key, current] of [
    ['job_version', live.job_version],
    ['python_version', live.python_version]
  ] as const) {
    if (body[key] !== undefined && body[key] !== null && body[key] !== current) {
      return problem(
        400,
        `'${key}' cannot be changed by PATCH.`,
        `PATCH changes only enabled, vdk_version and schedule; ${key} needs a new deployment.`,
        `POST .../deployments with the new ${key}.`
      )
    }
  }
  // synchronous: the CronJob is written again at once, without a new image, with the schedule of
  // the job's config (not the body's) and a new deployed date (DeploymentService
  // .patchDeployment → JobImageDeployer.scheduleJob / updateCronJob)
  if (typeof body.enabled === 'boolean') live.enabled = body.enabled
  if (typeof body.vdk_version === 'string') live.vdk_version = body.vdk_version
  live.schedule = { schedule_cron: jobSchedule(js.job).schedule_cron }
  live.last_deployed_by = call.user
  live.last_deployed_date = iso(service.clock.now())
  return empty(202)
}

export const deleteDeployment: Handler = (service, call) => {
  // 202 whenever the job exists, deployed or not (DataJobsDeploymentController.deploymentDelete)
  const js = jobOrEmpty404(service, call)
  js.live = undefined
  js.pending = undefined
  js.deployment_status = 'SUCCESS'
  return empty(202)
}
