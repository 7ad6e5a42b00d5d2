// Executions: start one of the deployed version (409 while one is active), list, read, cancel
// (their logs: logs.ts). What status an execution has is derived from its timestamps on each
// read (model.ts); a test scripts its outcome through /_emulator/.
import { isObject, readJson, requireObject } from '../body.js'
import type { Handler, Service } from '../context.js'
import {
  EXECUTION_STATUSES,
  defaultLogs,
  executionEnd,
  executionMessage,
  executionStatus,
  isActive,
  iso,
  type ExecutionRecord,
  type ExecutionScript,
  type ExecutionStatus,
  type JobState
} from '../model.js'
import { empty, json, problem, type Reply } from '../reply.js'
import { DEPLOYMENT_RESOURCES } from './deployments.js'
import { executionOr404, jobOr404 } from './lookup.js'

/** The executions a job keeps; past it the oldest ended one goes (the real service keeps 100). */
const MAX_EXECUTIONS_PER_JOB = 100
const enc = encodeURIComponent

/** The execution's `logs_url`, from the template of the settings; undefined for "" (none). */
export function logsUrl(service: Service, e: ExecutionRecord): string | undefined {
  const template = service.settings.logsUrlTemplate
  if (!template) return undefined
  const end = executionEnd(e, service.clock.now())
  const values: Record<string, string> = {
    base: service.base,
    team: enc(e.team),
    job_name: enc(e.job_name),
    execution_id: enc(e.id),
    op_id: enc(e.op_id),
    start_time: iso(e.created_at),
    end_time: end === undefined ? '' : iso(end)
  }
  return template.replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m)
}

function executionView(service: Service, e: ExecutionRecord, now: number) {
  const status = executionStatus(e, now)
  const end = executionEnd(e, now)
  const url = logsUrl(service, e)
  return {
    id: e.id,
    job_name: e.job_name,
    status,
    type: e.type,
    start_time: iso(e.created_at),
    ...(end === undefined ? {} : { end_time: iso(end) }),
    started_by: e.started_by,
    ...(url ? { logs_url: url } : {}),
    message: executionMessage(status),
    op_id: e.op_id,
    deployment: {
      id: 'release',
      mode: 'release',
      enabled: true,
      job_version: e.deployment.job_version,
      python_version: e.deployment.python_version,
      ...(e.deployment.vdk_version ? { vdk_version: e.deployment.vdk_version } : {}),
      deployed_by: e.deployment.last_deployed_by,
      deployed_date: e.deployment.last_deployed_date,
      schedule: e.deployment.schedule ?? {},
      resources: DEPLOYMENT_RESOURCES
    }
  }
}

const notDeployed = (js: JobState): Reply =>
  problem(
    404,
    `Data job '${js.job.job_name}' is not deployed.`,
    'An execution runs the deployed version, and there is none.',
    'Deploy the job and wait until the deployment is live, then start it.'
  )

export const startExecution: Handler = async (service, call) => {
  const js = jobOr404(service, call)
  if (!js.live) return notDeployed(js)
  // everything that waits comes first: from the 409 check to the push nothing awaits, so two
  // concurrent starts cannot both pass the check
  const body = requireObject(
    (await readJson(call.req, 'execution request', { required: false })) ?? {},
    'execution request'
  )
  if (body.args !== undefined && body.args !== null && !isObject(body.args)) {
    return problem(
      400,
      "The execution's args must be a JSON object.",
      `Got ${JSON.stringify(body.args).slice(0, 80)}.`,
      'Send args as an object of argument names to values.'
    )
  }
  const stepFiles = await steps(service, js, js.live.job_version)
  const live = js.live
  if (!live) return notDeployed(js)
  const now = service.clock.now()
  const running = js.executions.find(e => isActive(executionStatus(e, now)))
  if (running) {
    return problem(
      409,
      `Data job '${js.job.job_name}' is already running.`,
      `Execution '${running.id}' has not finished.`,
      'Wait for it to end, or cancel it, then start again.',
      'No new execution was started.'
    )
  }
  const script = service.store.scriptsFor(js.job.team, js.job.job_name).executions.shift() ?? {
    status: 'succeeded' as const,
    seconds: service.settings.executionSeconds
  }
  const id = executionId(js, now)
  // `<started_by>/<user>`, or the user alone without one (JobExecutionService)
  const startedBy =
    typeof body.started_by === 'string' && body.started_by
      ? `${body.started_by}/${call.user}`
      : call.user
  js.executions.push({
    id,
    job_name: js.job.job_name,
    team: js.job.team,
    // recorded as manual whatever started_by says: a started_by holding "scheduled" only marks
    // the Kubernetes job (JobExecutionService.startDataJobExecution, saveDataJobExecution)
    type: 'manual',
    started_by: startedBy,
    args: (body.args as Record<string, unknown> | undefined) ?? {},
    op_id: call.opId,
    ...timeline(service, script, now),
    logs: script.logs ?? defaultLogs(js.job.job_name, id, script.status, stepFiles),
    ...(script.timestamps === false ? { timestamps: false } : {}),
    ...(script.restartAtLines?.length ? { restartAtLines: script.restartAtLines } : {}),
    deployment: { ...live }
  })
  dropOldExecutions(js, now)
  return empty(202, {
    Location: `/data-jobs/for-team/${enc(js.job.team)}/jobs/${enc(js.job.job_name)}/executions/${enc(id)}`
  })
}

/** `<job>-<epoch seconds>`, with `-2`, `-3`… for a second start in the same second. */
function executionId(js: JobState, now: number): string {
  let id = `${js.job.job_name}-${Math.floor(now / 1000)}`
  for (let n = 2; js.executions.some(e => e.id === id); n++)
    id = `${js.job.job_name}-${Math.floor(now / 1000)}-${n}`
  return id
}

/** When a new execution runs and ends, and what it ends as (and may later become). */
function timeline(
  service: Service,
  script: ExecutionScript,
  now: number
): Pick<ExecutionRecord, 'created_at' | 'running_at' | 'end_at' | 'final' | 'becomes'> {
  const runningAt = now + (script.submitSeconds ?? service.settings.submitSeconds) * 1000
  const endAt = runningAt + script.seconds * 1000
  return {
    created_at: now,
    running_at: runningAt,
    end_at: endAt,
    final: script.status,
    ...(script.becomes
      ? {
          becomes:
            script.becomesAfterReads !== undefined
              ? { status: script.becomes, afterReads: script.becomesAfterReads, reads: 0 }
              : { status: script.becomes, at: endAt + (script.becomesAfterSeconds ?? 1) * 1000 }
        }
      : {})
  }
}

/** Keeps the latest MAX_EXECUTIONS_PER_JOB, dropping ended ones first. */
function dropOldExecutions(js: JobState, now: number): void {
  while (js.executions.length > MAX_EXECUTIONS_PER_JOB) {
    const i = js.executions.findIndex(e => !isActive(executionStatus(e, now)))
    js.executions.splice(i < 0 ? 0 : i, 1)
  }
}

/** The step files of a version: .py and .sql files at the top of the job folder, in order. */
async function steps(service: Service, js: JobState, version: string): Promise<string[]> {
  const v = js.versions.find(x => x.version === version)
  if (!v) return []
  const files = await service.sources.tree(v.tree)
  return files.map(f => f.path).filter(p => !p.includes('/') && /\.(py|sql)$/.test(p))
}

export const listExecutions: Handler = (service, call) => {
  const js = jobOr404(service, call)
  const wanted = call.url.searchParams.getAll('execution_status').flatMap(s => s.split(','))
  for (const s of wanted) {
    if (!EXECUTION_STATUSES.includes(s as ExecutionStatus)) {
      return problem(
        404,
        `Unknown execution status '${s}'.`,
        `Valid statuses: ${EXECUTION_STATUSES.join(', ')}.`,
        'Filter by lowercase execution statuses.'
      )
    }
  }
  const now = service.clock.now()
  const list = js.executions.filter(e => !wanted.length || wanted.includes(executionStatus(e, now)))
  return json(
    200,
    list.map(e => executionView(service, e, now))
  )
}

export const readExecution: Handler = (service, call) => {
  const e = executionOr404(service, call)
  const now = service.clock.now()
  // a status that becomes another after N reads: this read counts once the execution has ended
  const b = e.becomes
  if (b?.afterReads !== undefined && b.at === undefined && !e.cancelled_at && now >= e.end_at) {
    b.reads = (b.reads ?? 0) + 1
    if (b.reads > b.afterReads) b.at = now
    service.store.persist()
  }
  return json(200, executionView(service, e, now))
}

export const cancelExecution: Handler = (service, call) => {
  const e = executionOr404(service, call)
  const now = service.clock.now()
  const status = executionStatus(e, now)
  if (!isActive(status)) {
    return problem(
      400,
      `Execution '${e.id}' cannot be cancelled.`,
      `It is not running: its status is ${status}.`,
      'Only submitted or running executions can be cancelled.'
    )
  }
  e.cancelled_at = now
  return empty(200)
}
