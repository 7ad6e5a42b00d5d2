// One typed function per Control Service operation the actions need. Path segments are
// percent-encoded; the real service's habits are handled here (202 + Location, empty 404s,
// `data` as the root field's value), and a POST that may have reached
// the server is reconciled by reading back instead of being sent blindly again.
import type { Readable } from 'node:stream'
import { ControlServiceError, InputError } from './errors.js'
import { JOB_NAME_RULE, JOB_NAME_WORDS, teamProblem } from './jobrules.js'
import { MAX_LOG_BYTES, type Transport, type Response, type RequestSpec } from './http.js'
import {
  deploymentAnswer,
  deploymentsAnswer,
  executionAnswer,
  executionsAnswer,
  graphqlAnswer,
  infoAnswer,
  jobAnswer,
  latestExecutionsAnswer,
  logsAnswer,
  mapAnswer,
  shapeProblem,
  uploadAnswer,
  type Shape
} from './answers.js'
import { routeLogsUrl, type LogsUrlRule } from './logsurl.js'
import { LATEST_EXECUTIONS_QUERY } from './queries.js'
import { EXECUTION_ID_RULE } from './types.js'
import type {
  DataJob,
  DataJobApiInfo,
  DataJobDeployment,
  DataJobDeploymentStatus,
  DataJobExecution,
  DataJobExecutionRequest,
  ExecutionStatus,
  GqlExecution,
  JsonMap
} from './types.js'

export interface JobRef {
  readonly team: string
  readonly job: string
}

export { EXECUTION_ID_RULE }

/** What is wrong with an execution id (from an input, a Location header or a list), if anything. */
export function executionIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string') return `${String(JSON.stringify(id)).slice(0, 80)} is not text`
  if (EXECUTION_ID_RULE.test(id)) return undefined
  return `${JSON.stringify(id).slice(0, 80)} is not valid (an execution id is letters, digits, '.', '_' and '-', a letter or digit first)`
}

/** A validated team + job: bad names fail here, before any request. */
export function jobRef(team: string, job: string): JobRef {
  if (!team.trim())
    throw new InputError('the team is empty: set the team input, or [owner] team in config.ini')
  const bad = teamProblem(team)
  if (bad) throw new InputError(`the team ${bad}`)
  if (!JOB_NAME_RULE.test(job)) {
    throw new InputError(
      `the job name '${job}' is not valid: the Control Service wants ${JOB_NAME_WORDS}`
    )
  }
  return { team, job }
}

const enc = encodeURIComponent
/** The deployment id: the service keeps one deployment per job and ignores the id. */
const DEPLOYMENT = 'production'

/**
 * The deepest nesting an answer may have. Deeper values make later walks (JSON.stringify, the
 * comparisons of set-properties) overflow the stack; the official CLI (Python's json module,
 * recursion limit 1000) cannot read them either, and no answer of the Control Service comes near.
 */
export const MAX_JSON_DEPTH = 500

/** Whether `value` nests deeper than `max` levels of arrays and objects (no recursion). */
export function nestsDeeper(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]]
  while (stack.length) {
    const [v, depth] = stack.pop() as [unknown, number]
    if (typeof v !== 'object' || v === null) continue
    if (depth >= max) return true
    for (const child of Object.values(v)) stack.push([child, depth + 1])
  }
  return false
}

/**
 * The answer's JSON, checked against the shape the actions rely on (answers.ts): a body that is not
 * JSON, nests too deep, or is not of that shape, is a protocol error in one line that names the
 * field, never a value.
 */
const parseJson = <T>(res: Response, operation: string, shape: Shape<T>): T => {
  let value: unknown
  try {
    value = JSON.parse(res.text)
  } catch {
    throw new ControlServiceError({
      operation,
      kind: 'protocol',
      detail: `HTTP ${res.status} came with a body that is not JSON: ${JSON.stringify(res.text.slice(0, 80))}`,
      hint: 'a proxy or gateway may have answered instead of the Control Service; check control-service-url',
      opId: res.opId
    })
  }
  if (nestsDeeper(value, MAX_JSON_DEPTH))
    throw new ControlServiceError({
      operation,
      kind: 'protocol',
      detail: `HTTP ${res.status} came with JSON nested deeper than ${MAX_JSON_DEPTH} levels, which no answer of the Control Service is`,
      hint: 'a proxy or gateway may have answered instead of the Control Service; check control-service-url',
      opId: res.opId
    })
  const checked = shape.safeParse(value)
  if (checked.success) return checked.data
  throw new ControlServiceError({
    operation,
    kind: 'protocol',
    detail: `HTTP ${res.status} came with an answer of another shape than the Control Service's: ${shapeProblem(checked.error.issues)}`,
    hint: 'a proxy or gateway may have answered instead of the Control Service, or the service is of another version; check control-service-url',
    opId: res.opId
  })
}

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
  const a = Date.parse(date ?? '')
  if (!Number.isFinite(a)) return false
  if (since === null) return true
  const b = Date.parse(since)
  return Number.isFinite(b) && a > b
}

export class ControlServiceClient {
  constructor(readonly transport: Transport) {}

  /** Closes the connections kept alive, so that the process can end at once. */
  close(): Promise<void> {
    return this.transport.close()
  }

  private teamPath(team: string): string {
    // every caller checks the team first; this is the last line before a path is made of it
    const bad = teamProblem(team)
    if (bad) throw new InputError(`the team ${bad}`)
    return `/data-jobs/for-team/${enc(team)}`
  }

  private jobPath(ref: JobRef): string {
    return `${this.teamPath(ref.team)}/jobs/${enc(ref.job)}`
  }

  private of(ref: JobRef): string {
    return `data job '${ref.job}' of team '${ref.team}'`
  }

  private json<T>(spec: RequestSpec, shape: Shape<T>): Promise<T> {
    return this.transport.send(spec, res => parseJson(res, spec.operation, shape))
  }

  private none(spec: RequestSpec): Promise<void> {
    return this.transport.send(spec, () => undefined)
  }

  async info(team: string): Promise<DataJobApiInfo> {
    return this.json(
      {
        operation: `read the Control Service info (team '${team}')`,
        method: 'GET',
        path: `${this.teamPath(team)}/info`,
        idempotent: true
      },
      infoAnswer
    )
  }

  /** The job, or undefined when it does not exist (for this team). */
  async readJob(ref: JobRef): Promise<DataJob | undefined> {
    const operation = `read ${this.of(ref)}`
    return this.transport.send(
      { operation, method: 'GET', path: this.jobPath(ref), idempotent: true, accept: [404] },
      res => (res.status === 404 ? undefined : parseJson(res, operation, jobAnswer))
    )
  }

  /**
   * Creates the job. `exists`: it was there already, in this team; `taken`: the name belongs to a
   * job of another team (names are unique across teams: the real service answers 409 with an
   * empty body either way, JobsService.createJob). After a lost answer to our own POST, a job
   * found in this team is the one we created.
   */
  async createJob(
    ref: JobRef,
    job: Omit<DataJob, 'job_name' | 'team'>
  ): Promise<'created' | 'exists' | 'taken'> {
    const answer = await this.transport.send(
      {
        operation: `create ${this.of(ref)}`,
        method: 'POST',
        path: `${this.teamPath(ref.team)}/jobs`,
        query: { name: ref.job },
        json: { ...job, job_name: ref.job, team: ref.team },
        idempotent: false,
        accept: [409],
        hint: s =>
          s === 409 ? undefined : s === 400 ? 'check the job name and the config sent' : undefined
      },
      res => (res.status === 409 ? ('conflict' as const) : ('created' as const)),
      async () => ((await this.readJob(ref)) ? ('created' as const) : undefined)
    )
    if (answer === 'created') return 'created'
    return (await this.readJob(ref)) ? 'exists' : 'taken'
  }

  async updateJob(ref: JobRef, job: Omit<DataJob, 'job_name' | 'team'>): Promise<void> {
    return this.none({
      operation: `update ${this.of(ref)}`,
      method: 'PUT',
      path: this.jobPath(ref),
      json: { ...job, job_name: ref.job, team: ref.team },
      idempotent: true
    })
  }

  /**
   * Uploads a zip (one top folder) streamed from `zip()`; the version the service answers.
   * Retried like an idempotent call: the same tree gives the same version.
   */
  async uploadSources(
    ref: JobRef,
    zip: () => Readable | Buffer,
    options: { reason?: string; timeoutMs?: number; length?: number } = {}
  ): Promise<string> {
    const operation = `upload the sources of ${this.of(ref)}`
    return this.transport.send(
      {
        operation,
        method: 'POST',
        path: `${this.jobPath(ref)}/sources`,
        query: { reason: options.reason },
        body: zip,
        contentType: 'application/octet-stream',
        contentLength: options.length,
        idempotent: true,
        timeoutMs: options.timeoutMs,
        hint: s =>
          s === 404
            ? `the job does not exist in team '${ref.team}': create it first (create-if-missing)`
            : undefined
      },
      res => {
        return parseJson(res, operation, uploadAnswer).version_sha
      }
    )
  }

  /** The job's current sources as a zip stream (its top folder is the job name). */
  async downloadSources(ref: JobRef): Promise<Readable> {
    return this.transport.send(
      {
        operation: `download the sources of ${this.of(ref)}`,
        method: 'GET',
        path: `${this.jobPath(ref)}/sources`,
        idempotent: true,
        stream: true
      },
      res => res.stream as Readable
    )
  }

  async listDeployments(ref: JobRef): Promise<DataJobDeploymentStatus[]> {
    return this.json(
      {
        operation: `list the deployments of ${this.of(ref)}`,
        method: 'GET',
        path: `${this.jobPath(ref)}/deployments`,
        idempotent: true
      },
      deploymentsAnswer
    )
  }

  /** The live deployment, or undefined when the job is not deployed. */
  async readDeployment(ref: JobRef): Promise<DataJobDeploymentStatus | undefined> {
    const operation = `read the deployment of ${this.of(ref)}`
    return this.transport.send(
      {
        operation,
        method: 'GET',
        path: `${this.jobPath(ref)}/deployments/${DEPLOYMENT}`,
        idempotent: true,
        accept: [404]
      },
      res => (res.status === 404 ? undefined : parseJson(res, operation, deploymentAnswer))
    )
  }

  /**
   * Starts a deployment (202: the build goes on asynchronously). After a lost answer it reads
   * back: only a deployment that is everything this one asks for — version, python and vdk
   * version, enabled — and was deployed after `since` (the last_deployed_date read before) is
   * taken as this one done ("already-live"); otherwise the deployment is sent again, which
   * converges (a second POST replaces a build in progress, JobImageBuilder.buildImage).
   */
  async deploy(
    ref: JobRef,
    deployment: DataJobDeployment,
    options: { sendNotification?: boolean; since?: string | null } = {}
  ): Promise<'sent' | 'already-live'> {
    return this.transport.send(
      {
        operation: `deploy version ${deployment.job_version ?? '(latest)'} of ${this.of(ref)}`,
        method: 'POST',
        path: `${this.jobPath(ref)}/deployments`,
        query: { send_notification: options.sendNotification },
        json: deployment,
        idempotent: false,
        hint: s =>
          s === 409 ? 'use a python version from the service info (GET .../info)' : undefined
      },
      () => 'sent' as const,
      async () => {
        const live = (await this.listDeployments(ref))[0]
        return live && isDeploymentOf(live, deployment, options.since)
          ? ('already-live' as const)
          : undefined
      }
    )
  }

  /** Enables or disables the deployment (synchronous on the service). */
  async patchDeployment(
    ref: JobRef,
    patch: Pick<DataJobDeployment, 'enabled' | 'vdk_version' | 'schedule'>
  ): Promise<void> {
    return this.none({
      operation: `${patch.enabled === false ? 'disable' : patch.enabled === true ? 'enable' : 'change'} the deployment of ${this.of(ref)}`,
      method: 'PATCH',
      path: `${this.jobPath(ref)}/deployments/${DEPLOYMENT}`,
      json: patch,
      idempotent: true
    })
  }

  /** GraphQL over GET; the value of the query's root field (the real service unwraps it). */
  async jobsQuery<T>(
    team: string,
    query: string,
    shape: Shape<T>,
    variables?: JsonMap,
    what = 'query the data jobs'
  ): Promise<T> {
    const operation = `${what} (GraphQL)`
    const body = await this.transport.send(
      {
        operation,
        method: 'GET',
        path: `${this.teamPath(team)}/jobs`,
        query: { query, variables: variables && JSON.stringify(variables) },
        idempotent: true,
        accept: [400]
      },
      res => ({
        status: res.status,
        body: parseJson(res, operation, graphqlAnswer),
        opId: res.opId
      })
    )
    if (body.body.errors?.length || body.status === 400) {
      throw new ControlServiceError({
        operation,
        kind: 'http',
        status: body.status,
        body: {
          what: 'The GraphQL query was refused.',
          why: (body.body.errors ?? []).map(e => String(e.message)).join('; ')
        },
        hint: 'this is a bug of vdk-actions if it sent the query; please report it',
        opId: body.opId
      })
    }
    const data = shape.safeParse(body.body.data)
    if (data.success) return data.data
    throw new ControlServiceError({
      operation,
      kind: 'protocol',
      detail: `the answer's data is of another shape than the Control Service's: ${shapeProblem(data.error.issues)}`,
      opId: body.opId
    })
  }

  /** The job's latest executions, newest first. */
  async latestExecutions(ref: JobRef, size = 5): Promise<GqlExecution[]> {
    const page = await this.jobsQuery(
      ref.team,
      LATEST_EXECUTIONS_QUERY,
      latestExecutionsAnswer,
      { job: ref.job, team: ref.team, size },
      `list the latest executions of ${this.of(ref)}`
    )
    return page.content
  }

  /**
   * Starts an execution; its id (from the Location header). After a lost answer it looks for an
   * execution started by one of its own attempts (the service records the request's X-OPID as the
   * execution's op_id) before it sends again, so an execution is never started twice.
   */
  async startExecution(
    ref: JobRef,
    request: DataJobExecutionRequest,
    o: { onSend?: (opId: string) => void } = {}
  ): Promise<string> {
    const operation = `start an execution of ${this.of(ref)}`
    return this.transport.send(
      {
        onSend: o.onSend,
        operation,
        method: 'POST',
        path: `${this.jobPath(ref)}/deployments/${DEPLOYMENT}/executions`,
        json: { started_by: request.started_by, args: request.args ?? {} },
        idempotent: false,
        hint: s =>
          s === 409
            ? 'an execution of this job is already running: wait for it, or cancel it (on-conflict)'
            : s === 404
              ? 'the job is not deployed (or does not exist in this team): deploy it first'
              : undefined
      },
      res => {
        const id = res.headers.location?.split('/').filter(Boolean).pop()
        if (!id)
          throw new ControlServiceError({
            operation,
            kind: 'protocol',
            detail: `HTTP ${res.status} without a Location header naming the execution`,
            opId: res.opId
          })
        let decoded: string | undefined
        try {
          decoded = decodeURIComponent(id)
        } catch {
          // a malformed escape (%E0%A4%A): not an id either
        }
        const bad =
          decoded === undefined ? 'that is not percent-encoded text' : executionIdProblem(decoded)
        if (bad)
          throw new ControlServiceError({
            operation,
            kind: 'protocol',
            detail: `the Location header names ${decoded === undefined ? 'an execution id' : 'the execution id'} ${bad}`,
            opId: res.opId
          })
        return decoded as string
      },
      async opIds => {
        const mine = (await this.listExecutions(ref)).find(
          e => e.op_id !== undefined && opIds.includes(e.op_id)
        )
        const bad = mine && executionIdProblem(mine.id)
        if (bad)
          throw new ControlServiceError({
            operation,
            kind: 'protocol',
            detail: `the execution this start made is listed with the id ${bad}`
          })
        return mine?.id
      }
    )
  }

  async readExecution(ref: JobRef, id: string): Promise<DataJobExecution> {
    return this.json(
      {
        operation: `read execution '${id}' of ${this.of(ref)}`,
        method: 'GET',
        path: `${this.jobPath(ref)}/executions/${enc(checkedExecutionId(id))}`,
        idempotent: true
      },
      executionAnswer
    )
  }

  async listExecutions(ref: JobRef, statuses?: ExecutionStatus[]): Promise<DataJobExecution[]> {
    return this.json(
      {
        operation: `list the executions of ${this.of(ref)}`,
        method: 'GET',
        path: `${this.jobPath(ref)}/executions`,
        query: { execution_status: statuses },
        idempotent: true
      },
      executionsAnswer
    )
  }

  /**
   * Cancels an execution. Its status afterwards: `cancelled`, or the status it had already ended
   * with (the service answers 400 for an execution that is not running).
   */
  async cancelExecution(ref: JobRef, id: string): Promise<ExecutionStatus> {
    const status = await this.transport.send(
      {
        operation: `cancel execution '${id}' of ${this.of(ref)}`,
        method: 'DELETE',
        path: `${this.jobPath(ref)}/executions/${enc(checkedExecutionId(id))}`,
        idempotent: true,
        accept: [400]
      },
      res => res.status
    )
    if (status !== 400) return 'cancelled'
    return (await this.readExecution(ref, id)).status
  }

  /**
   * The execution's logs as the service has them now ("" once its pod is gone). `retries`: instead
   * of the client's, e.g. 0 while following a run, whose next look reads them again anyway.
   */
  async logs(
    ref: JobRef,
    id: string,
    o: { tailLines?: number; retries?: number } = {}
  ): Promise<string> {
    const body = await this.json(
      {
        operation: `read the logs of execution '${id}' of ${this.of(ref)}`,
        method: 'GET',
        path: `${this.jobPath(ref)}/executions/${enc(checkedExecutionId(id))}/logs`,
        query: { tail_lines: o.tailLines },
        idempotent: true,
        retries: o.retries,
        maxBytes: MAX_LOG_BYTES
      },
      logsAnswer
    )
    return body.logs ?? ''
  }

  /**
   * The text behind an execution's logs_url, when `rule` lets it be followed and it serves plain
   * text (a log store's web page is not logs); otherwise why not, in a few words. The token is sent
   * only when the URL is on the service's own origin.
   */
  async readLogsUrl(url: string, rule: LogsUrlRule): Promise<{ text: string } | { why: string }> {
    const route = await routeLogsUrl(url, rule)
    if ('why' in route) return { why: `not followed: ${route.why}` }
    const { url: parsed, dispatcher } = route
    try {
      const text = await this.transport.send(
        {
          operation: `read the logs at ${parsed.origin}${parsed.pathname}`,
          method: 'GET',
          path: parsed.toString(),
          absolute: true,
          dispatcher,
          idempotent: true,
          // a log store elsewhere is a courtesy: one more try, not the service's patience
          retries: dispatcher ? 1 : undefined,
          accept: [401, 403, 404],
          maxBytes: MAX_LOG_BYTES
        },
        res =>
          res.status === 200 && /^text\/plain\b/i.test(res.headers['content-type'] ?? '')
            ? res.text
            : res.status === 200
              ? {
                  why: `it serves ${(res.headers['content-type'] || 'no content type').slice(0, 80)}, not plain text`
                }
              : { why: `it answered HTTP ${res.status}` }
      )
      return typeof text === 'string' ? { text } : text
    } catch (e) {
      if (!(e instanceof ControlServiceError)) throw e
      // the error's own words name the service's address, not the log store's
      const why =
        e.kind === 'http'
          ? `it answered HTTP ${e.status}`
          : e.kind === 'timeout'
            ? 'it did not answer in time'
            : e.kind === 'aborted'
              ? 'cancelled'
              : 'it could not be reached'
      return { why }
    } finally {
      await dispatcher?.close()
    }
  }

  async readProperties(ref: JobRef): Promise<JsonMap> {
    return this.json(
      {
        operation: `read the properties of ${this.of(ref)}`,
        method: 'GET',
        path: `${this.jobPath(ref)}/deployments/${DEPLOYMENT}/properties`,
        idempotent: true
      },
      mapAnswer
    )
  }

  /** Replaces the whole map (the service has no partial update). */
  async writeProperties(ref: JobRef, properties: JsonMap): Promise<void> {
    return this.none({
      operation: `write the properties of ${this.of(ref)}`,
      method: 'PUT',
      path: `${this.jobPath(ref)}/deployments/${DEPLOYMENT}/properties`,
      json: properties,
      idempotent: true
    })
  }

  async readSecrets(ref: JobRef): Promise<JsonMap> {
    return this.json(
      {
        operation: `read the secrets of ${this.of(ref)}`,
        method: 'GET',
        path: `${this.jobPath(ref)}/deployments/${DEPLOYMENT}/secrets`,
        idempotent: true,
        hint: secretsHint
      },
      mapAnswer
    )
  }

  /** Replaces the whole map of secrets. */
  async writeSecrets(ref: JobRef, secrets: JsonMap): Promise<void> {
    return this.none({
      operation: `write the secrets of ${this.of(ref)}`,
      method: 'PUT',
      path: `${this.jobPath(ref)}/deployments/${DEPLOYMENT}/secrets`,
      json: secrets,
      idempotent: true,
      hint: secretsHint
    })
  }
}

/** A log text as lines, without the empty one after a final newline. */
export const splitLines = (text: string): string[] =>
  text ? text.replace(/\n$/, '').split('\n') : []

const secretsHint = (status: number): string | undefined =>
  status === 501
    ? 'this Control Service has no secrets backend: ask its operators to configure one'
    : undefined

/** An execution id that may go into a path: anything else is refused before the request. */
function checkedExecutionId(id: string): string {
  if (typeof id === 'string' && !id.trim()) throw new InputError('the execution id is empty')
  const bad = executionIdProblem(id)
  if (bad) throw new InputError(`the execution id ${bad}`)
  return id
}
