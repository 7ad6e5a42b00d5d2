// The local Control Service: real HTTP on loopback, the Data Jobs API as the official service
// behaves (see the README's "Local Control Service" section for every deliberate difference).
import { createHash, randomBytes } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import {
  AdminInputError,
  describeFault,
  parseDeploymentScript,
  parseClockChange,
  parseExecutionScript,
  parseFault,
  takeFault,
  type ActiveFault,
  type JournalEntry
} from './admin.js'
import { accessCheck } from './access.js'
import { ServiceClock } from './clock.js'
import { runJobsQuery, type QueryContext } from './graphql.js'
import {
  EXECUTION_STATUSES,
  defaultLogs,
  emptyState,
  executionEnd,
  executionMessage,
  executionStatus,
  isActive,
  iso,
  jobContacts,
  jobSchedule,
  settleDeployment,
  visibleLogLines,
  type ExecutionRecord,
  type ExecutionStatus,
  type JobState,
  type LiveDeployment,
  type Scripts,
  type ServiceState
} from './model.js'
import { empty, fail, json, problem, raw, ReplyError, stream, type Reply } from './reply.js'
import { ArchiveError, DEFAULT_SOURCE_LIMITS, SourceStore } from './sources.js'

export const EMULATOR_VERSION = '0.1.0'

export interface EmulatorOptions {
  /** TCP port; 0 picks a free one. */
  port?: number
  /** Address to listen on (default 127.0.0.1). */
  host?: string
  /** Host names, besides loopback and `host`, that requests may be addressed to (Host, Origin). */
  allowedHosts?: string[]
  /** Keep state here so that a restart loses nothing; absent: state lives in memory. */
  dataDir?: string
  /** Access tokens accepted as `Authorization: Bearer <token>`, on the API and the admin API.
   * With none (and no API tokens) no auth. */
  tokens?: string[]
  /** API (refresh) tokens the token endpoint exchanges for access tokens. */
  apiTokens?: string[]
  /** Lifetime of exchanged access tokens (default 3600 s). */
  accessTokenTtlSeconds?: number
  pythonVersions?: string[]
  defaultPythonVersion?: string
  /** How long an unscripted execution runs (default 2 s), after `submitSeconds` (default 0.5 s). */
  executionSeconds?: number
  submitSeconds?: number
  /** How long an unscripted deployment takes to become live (default 1 s). */
  deploymentSeconds?: number
  /** Logs stay readable this long after an execution ends (default 0: empty at once, as in K8s). */
  logsRetentionSeconds?: number
  /** Template of executions' `logs_url` (`{base}`, `{team}`, `{job_name}`, `{execution_id}`,
   * `{op_id}`, `{start_time}`, `{end_time}`); "" leaves `logs_url` unset. */
  logsUrlTemplate?: string
  /** Serve the secrets API (default true); false answers 501 as a service without a vault. */
  secrets?: boolean
  /** The service's time (default: one that follows the wall clock). A test that holds it decides
   * when deployments go live and executions run and end; see clock.ts. */
  clock?: ServiceClock
  /** Start with the clock frozen (where it stood at the last stop, with `dataDir`). */
  frozenClock?: boolean
  /** One line per request, for the console (default: silent). */
  log?: (line: string) => void
  /** The largest sources upload, in bytes (default 5 GiB). */
  maxUploadBytes?: number
  /** The largest total of an upload's files, inflated (default 5 GiB). */
  maxSourcesBytes?: number
  /** The most entries (files and folders) in an upload (default 65,535). */
  maxSourcesEntries?: number
  /** Past 64 MiB, an upload's files may inflate to at most this many times the zip's size
   * (default 100; 0: no such limit). */
  maxInflateRatio?: number
}

export interface Emulator {
  readonly url: string
  readonly port: number
  readonly server: Server
  readonly state: ServiceState
  readonly journal: JournalEntry[]
  /** The service's time: freeze it and move it on to decide what clients see. */
  readonly clock: ServiceClock
  close(): Promise<void>
}

const DEFAULT_LOGS_URL = '{base}/_emulator/logs/{team}/{job_name}/{execution_id}'
const JOB_NAME = /^[a-z][a-z0-9-]{5,49}$/
const MAX_JSON_BYTES = 16 * 1024 * 1024
const MAX_SECRETS_BYTES = 1024 * 1024
const MAX_EXECUTIONS_PER_JOB = 100
const MAX_JOURNAL = 50_000
const MAX_NOTIFICATIONS = 10_000
const RESOURCES = { cpu_request: 1, cpu_limit: 2, memory_request: 500, memory_limit: 1000 }
/** What is left of a refused body is read and dropped up to this much, so that the client, still
 * sending, reads the answer; past it the connection is closed. Tomcat's default maxSwallowSize
 * (the real service runs Spring Boot's Tomcat: spring-boot-starter-web in its build.gradle). */
const SWALLOW_BYTES = 2 * 1024 * 1024
const JSON_TYPE = /^application\/(.+\+)?json\b/i

interface Ctx {
  req: IncomingMessage
  url: URL
  params: Record<string, string>
  opId: string
  user: string
}
type Handler = (ctx: Ctx) => Reply | Promise<Reply>

/** A value from a request, for an error message. */
const show = (v: unknown): string => (typeof v === 'string' ? v : (JSON.stringify(v) ?? 'nothing'))
const hex = (bytes: number): string => randomBytes(bytes).toString('hex')
const enc = encodeURIComponent
const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms).unref())

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const opts = {
    host: '127.0.0.1',
    port: 0,
    tokens: [] as string[],
    apiTokens: [] as string[],
    accessTokenTtlSeconds: 3600,
    pythonVersions: ['3.9', '3.10', '3.11', '3.12'],
    defaultPythonVersion: '3.9',
    executionSeconds: 2,
    submitSeconds: 0.5,
    deploymentSeconds: 1,
    logsRetentionSeconds: 0,
    logsUrlTemplate: DEFAULT_LOGS_URL,
    secrets: true,
    allowedHosts: [] as string[],
    maxUploadBytes: DEFAULT_SOURCE_LIMITS.uploadBytes,
    maxSourcesBytes: DEFAULT_SOURCE_LIMITS.filesBytes,
    maxSourcesEntries: DEFAULT_SOURCE_LIMITS.entries,
    maxInflateRatio: DEFAULT_SOURCE_LIMITS.inflateRatio,
    ...options
  }
  if (!opts.pythonVersions.includes(opts.defaultPythonVersion)) {
    throw new Error(
      `the default python version ${opts.defaultPythonVersion} is not among the supported ones (${opts.pythonVersions.join(', ')})`
    )
  }
  const authOn = opts.tokens.length > 0 || opts.apiTokens.length > 0
  const user = authOn ? 'emulator-user' : 'anonymousUser'
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'vdk-emulator-'))
  mkdirSync(dataDir, { recursive: true })
  const stateFile = join(dataDir, 'state.json')
  const sources = new SourceStore(join(dataDir, 'sources'), {
    uploadBytes: opts.maxUploadBytes,
    filesBytes: opts.maxSourcesBytes,
    entries: opts.maxSourcesEntries,
    inflateRatio: opts.maxInflateRatio
  })
  const access = accessCheck(opts.host, opts.allowedHosts)
  let state: ServiceState = existsSync(stateFile)
    ? { ...emptyState(), ...(JSON.parse(readFileSync(stateFile, 'utf8')) as ServiceState) }
    : emptyState()
  // a restart goes on from the clock it stopped with, so that nothing that had ended runs again
  const clock =
    options.clock ?? (state.clock ? ServiceClock.restore(state.clock) : new ServiceClock())
  if (options.frozenClock) clock.freeze()
  const journal: JournalEntry[] = []
  /** Numbers requests across clears of the journal: a later request has a higher one. */
  let journalSeq = 0
  let faults: ActiveFault[] = []
  let faultSeq = 0
  let base = ''

  const persist = (): void => {
    if (!opts.dataDir) return
    state.clock = clock.snapshot()
    writeFileSync(`${stateFile}.tmp`, JSON.stringify(state))
    renameSync(`${stateFile}.tmp`, stateFile)
  }

  // ---- lookups and views ------------------------------------------------------------------

  const schedule = (js: JobState): string | undefined => jobSchedule(js.job).schedule_cron
  const deployContacts = (js: JobState): string[] => {
    const to: unknown = jobContacts(js.job).notified_on_job_deploy
    return Array.isArray(to) ? to.filter((r): r is string => typeof r === 'string') : []
  }

  /** Applies a finished build, and records the e-mail the real service would send about it. */
  const settle = (js: JobState, now: number): boolean => {
    const done = settleDeployment(js, now)
    if (!done) return false
    if (done.notify) {
      state.notifications.push({
        at: iso(done.ready_at),
        job_name: js.job.job_name,
        team: js.job.team,
        job_version: done.target.job_version,
        outcome: done.outcome,
        recipients: done.recipients ?? deployContacts(js),
        live_version: js.live?.job_version ?? null
      })
      if (state.notifications.length > MAX_NOTIFICATIONS) state.notifications.shift()
    }
    return true
  }

  /** The job if it exists with this team; the real service compares both. */
  const findJob = (team: string, name: string): JobState | undefined => {
    const js = state.jobs[name]
    return js && js.job.team === team ? js : undefined
  }
  /** For the handlers whose "not found" is an empty 404, as the real controllers answer. */
  const jobOrEmpty404 = (ctx: Ctx): JobState =>
    findJob(ctx.params.team, ctx.params.job) ?? fail(empty(404))
  /** For the handlers whose "not found" comes from a service exception, with an error body. */
  const jobOr404 = (ctx: Ctx): JobState =>
    findJob(ctx.params.team, ctx.params.job) ??
    fail(
      problem(
        404,
        `Cannot find data job '${ctx.params.job}' of team '${ctx.params.team}'.`,
        'The data job does not exist, or it belongs to another team.',
        'Check the spelling of the job and team names, or create the job first.'
      )
    )
  const scriptsFor = (team: string, job: string): Scripts =>
    (state.scripts[`${team}/${job}`] ??= { executions: [], deployments: [] })

  const logsUrl = (e: ExecutionRecord): string | undefined => {
    if (!opts.logsUrlTemplate) return undefined
    const end = executionEnd(e, clock.now())
    const values: Record<string, string> = {
      base,
      team: enc(e.team),
      job_name: enc(e.job_name),
      execution_id: enc(e.id),
      op_id: enc(e.op_id),
      start_time: iso(e.created_at),
      end_time: end === undefined ? '' : iso(end)
    }
    return opts.logsUrlTemplate.replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m)
  }

  const deploymentView = (d: LiveDeployment) => ({
    job_version: d.job_version,
    python_version: d.python_version,
    ...(d.vdk_version ? { vdk_version: d.vdk_version } : {}),
    mode: d.mode,
    enabled: d.enabled,
    resources: RESOURCES,
    last_deployed_by: d.last_deployed_by,
    last_deployed_date: d.last_deployed_date
  })

  const executionView = (e: ExecutionRecord, now: number) => {
    const status = executionStatus(e, now)
    const end = executionEnd(e, now)
    const url = logsUrl(e)
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
        resources: RESOURCES
      }
    }
  }

  const jobView = (js: JobState) => ({
    job_name: js.job.job_name,
    team: js.job.team,
    description: js.job.description,
    config: js.job.config
  })

  // ---- request bodies -----------------------------------------------------------------------

  const readBody = async (req: IncomingMessage, limit: number): Promise<Buffer> => {
    const tooLarge = (): never =>
      fail(
        problem(
          413,
          'The request body is too large.',
          `It exceeds ${limit} bytes.`,
          'Send a smaller body.'
        )
      )
    if (Number(req.headers['content-length']) > limit) tooLarge()
    const chunks: Buffer[] = []
    let size = 0
    // not destroyed past the limit (that would drop the connection): the 413 must reach the client
    for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size > limit) tooLarge()
      chunks.push(chunk)
    }
    return Buffer.concat(chunks)
  }

  const readJson = async (
    req: IncomingMessage,
    what: string,
    { required = true, limit = MAX_JSON_BYTES } = {}
  ): Promise<unknown> => {
    const type = req.headers['content-type']
    const text = (await readBody(req, limit)).toString('utf8')
    if (!text.trim()) {
      if (!required) return undefined
      fail(
        problem(
          400,
          `The ${what} is missing.`,
          'The request has no body.',
          `Send the ${what} as a JSON body.`
        )
      )
    }
    if (type && !JSON_TYPE.test(type)) {
      fail(
        problem(
          415,
          `Content type '${type}' is not supported.`,
          `The ${what} must be sent as JSON.`,
          'Send the body with Content-Type: application/json.'
        )
      )
    }
    try {
      return JSON.parse(text) as unknown
    } catch (e) {
      return fail(
        problem(
          400,
          `The ${what} is not valid JSON.`,
          `JSON parse error: ${(e as Error).message}`,
          'Fix the JSON syntax of the request body.'
        )
      )
    }
  }

  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v)

  const requireObject = (v: unknown, what: string): Record<string, unknown> =>
    isObject(v)
      ? v
      : fail(
          problem(
            400,
            `The ${what} must be a JSON object.`,
            `Got ${JSON.stringify(v)?.slice(0, 80)}.`,
            `Send a JSON object.`
          )
        )

  const requireTeam = (team: string): void => {
    if (!team.trim()) {
      fail(
        problem(
          400,
          'The team name is blank.',
          'A data job must belong to a team.',
          'Put a team name in the URL path.'
        )
      )
    }
  }

  // ---- official API handlers ------------------------------------------------------------------

  const info: Handler = () =>
    json(200, {
      api_version: `PipelinesControlService/${EMULATOR_VERSION}/emulator (vdk-actions local Control Service)`,
      supported_python_versions: opts.pythonVersions
    })

  const jobsQuery: Handler = async ctx => {
    const q = ctx.url.searchParams
    const query = q.get('query')
    if (!query) {
      return problem(
        400,
        'The GraphQL query is missing.',
        "jobsQuery needs a 'query' parameter.",
        'Pass the GraphQL document URL-encoded in ?query=.'
      )
    }
    let variables: Record<string, unknown> | undefined
    const rawVars = q.get('variables')
    if (rawVars) {
      try {
        variables = requireObject(JSON.parse(rawVars), 'variables parameter')
      } catch (e) {
        if (e instanceof ReplyError) throw e
        return problem(
          400,
          "The 'variables' parameter is not valid JSON.",
          (e as Error).message,
          'Send variables as a JSON object.'
        )
      }
    }
    const qc: QueryContext = {
      state,
      now: clock.now(),
      logsUrl,
      message: e => executionMessage(executionStatus(e, clock.now()))
    }
    const answer = await runJobsQuery(qc, query, variables, q.get('operation_name') ?? undefined)
    return json(answer.status, answer.body)
  }

  const createJob: Handler = async ctx => {
    const { team } = ctx.params
    requireTeam(team)
    const body = requireObject(await readJson(ctx.req, 'data job'), 'data job')
    const name = body.job_name
    if (typeof name !== 'string' || !JOB_NAME.test(name)) {
      return problem(
        400,
        `The data job name '${show(name)}' is not valid.`,
        'A job name must be 6 to 50 characters: a lowercase letter first, then lowercase letters, digits or dashes.',
        'Rename the job (e.g. its folder) to match ^[a-z][a-z0-9-]{5,49}$.'
      )
    }
    const queryName = ctx.url.searchParams.get('name')
    if (queryName !== null && queryName !== name) {
      return problem(
        400,
        `The job name in the query ('${queryName}') differs from the body ('${name}').`,
        'Both must name the same job.',
        'Send the same name in both, or omit ?name=.'
      )
    }
    if (body.team !== undefined && body.team !== null && body.team !== team) {
      return problem(
        400,
        `The team in the body ('${show(body.team)}') differs from the URL ('${team}').`,
        'A job is created in the team of the URL.',
        'Send the same team in both, or omit it from the body.'
      )
    }
    if (state.jobs[name]) return empty(409)
    state.jobs[name] = {
      job: {
        job_name: name,
        team,
        description: typeof body.description === 'string' ? body.description : '',
        config: isObject(body.config) ? body.config : {}
      },
      versions: [],
      executions: []
    }
    return empty(201, { Location: `/data-jobs/for-team/${enc(team)}/jobs/${enc(name)}` })
  }

  const readJob: Handler = ctx => json(200, jobView(jobOrEmpty404(ctx)))

  const updateJob: Handler = async ctx => {
    const js = jobOrEmpty404(ctx)
    const body = requireObject(await readJson(ctx.req, 'data job'), 'data job')
    if (body.job_name !== undefined && body.job_name !== js.job.job_name) {
      return problem(
        400,
        `The job name in the body ('${show(body.job_name)}') differs from the URL ('${js.job.job_name}').`,
        'A job cannot be renamed.',
        'Send the job name of the URL.'
      )
    }
    if (body.team !== undefined && body.team !== null && body.team !== js.job.team) {
      return problem(
        400,
        `The team cannot be changed by a job update ('${js.job.team}' → '${show(body.team)}').`,
        'The team is changed by its own operation.',
        'Use PUT .../jobs/{job_name}/team/{new_team}.'
      )
    }
    if (typeof body.description === 'string') js.job.description = body.description
    js.job.config = isObject(body.config) ? body.config : {}
    return empty(200)
  }

  const deleteJob: Handler = ctx => {
    const js = jobOrEmpty404(ctx)
    // the job's properties and secrets stay: JobsService.deleteJob removes the credentials, the
    // deployment and the job, nothing else
    delete state.jobs[js.job.job_name]
    return empty(200)
  }

  const changeTeam: Handler = ctx => {
    const js = jobOrEmpty404(ctx)
    requireTeam(ctx.params.newTeam)
    js.job.team = ctx.params.newTeam
    return empty(200)
  }

  const uploadSources: Handler = async ctx => {
    const js = jobOrEmpty404(ctx)
    const type = ctx.req.headers['content-type']
    if (type && !/^application\/octet-stream\b/i.test(type)) {
      return problem(
        415,
        `Content type '${type}' is not supported.`,
        'Job sources are uploaded as raw zip bytes.',
        'Send the zip with Content-Type: application/octet-stream.'
      )
    }
    const length = ctx.req.headers['content-length']
    let result
    try {
      result = await sources.ingest(ctx.req, length === undefined ? undefined : Number(length))
    } catch (e) {
      if (!(e instanceof ArchiveError)) throw e
      // A zip the real service cannot read fails in zip4j with an IOException, which JobUpload
      // turns into ExternalSystemError (HOST_CONTAINER): a 503 "Host container encountered an
      // error". That invites a retry of a zip that will never read, so this service answers 400.
      // It has no size limits at all (see SourceLimits): 413 for one is this service's choice.
      const tooLarge = e.status === 413
      return problem(
        e.status,
        `The sources of data job '${js.job.job_name}' were not uploaded.`,
        `${tooLarge ? 'The upload is too large' : 'Invalid job upload'}: ${e.message}.`,
        tooLarge
          ? 'Leave large or generated files out of the job (.vdkignore), or start the local Control Service with a higher limit.'
          : "Upload a zip archive (Content-Type: application/octet-stream) with exactly one top-level folder holding the job's files.",
        'The job keeps its previous version.'
      )
    }
    const last = js.versions.at(-1)
    if (last?.tree === result.tree) return json(200, { version_sha: last.version })
    const version = createHashHex(
      `commit\ntree ${result.tree}\nparent ${last?.version ?? ''}\njob ${js.job.job_name}\n`
    )
    js.versions.push({
      version,
      tree: result.tree,
      reason: ctx.url.searchParams.get('reason') ?? undefined,
      uploaded_at: clock.now(),
      uploaded_by: ctx.user,
      files: result.files.length,
      bytes: result.bytes
    })
    return json(200, { version_sha: version })
  }

  const downloadSources: Handler = async ctx => {
    const js = jobOrEmpty404(ctx)
    const last = js.versions.at(-1)
    // nothing uploaded yet: an empty 404 (DataJobsSourcesController)
    if (!last) return empty(404)
    const body = await sources.zip(last.tree, js.job.job_name, new Date(last.uploaded_at))
    return stream(200, body, {
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': `attachment; filename="${js.job.job_name}.zip"`
    })
  }

  const deleteSources: Handler = ctx => {
    const js = jobOrEmpty404(ctx)
    js.versions = []
    return empty(200)
  }

  const listDeployments: Handler = ctx => {
    const js = jobOrEmpty404(ctx)
    return json(200, js.live ? [deploymentView(js.live)] : [])
  }

  const readDeployment: Handler = ctx => {
    const js = jobOrEmpty404(ctx)
    return js.live ? json(200, deploymentView(js.live)) : empty(404)
  }

  const refuseResources = (body: Record<string, unknown>): void => {
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

  const createDeployment: Handler = async ctx => {
    const js = jobOrEmpty404(ctx)
    const notify = ctx.url.searchParams.get('send_notification')
    if (notify !== null && notify !== 'true' && notify !== 'false') {
      return problem(
        400,
        `send_notification must be true or false, not '${notify}'.`,
        'It is a boolean query parameter.',
        'Send ?send_notification=true or false, or omit it.'
      )
    }
    const body = requireObject(
      (await readJson(ctx.req, 'deployment', { required: false })) ?? {},
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
    // merged over the deployment that runs (its CronJob), as the build reads it when it starts
    // (DeploymentService.updateDeployment); a POST during a build replaces that build
    const previous = js.live
    const python = body.python_version ?? previous?.python_version ?? opts.defaultPythonVersion
    if (typeof python !== 'string' || !opts.pythonVersions.includes(python)) {
      return problem(
        409,
        `Python version '${show(python)}' is not supported.`,
        `The service supports ${opts.pythonVersions.join(', ')}.`,
        "Set [job] python_version in config.ini (or the deployment's python_version) to a supported version; GET .../info lists them."
      )
    }
    const version = body.job_version ?? previous?.job_version ?? js.versions.at(-1)?.version
    if (typeof version !== 'string' || !js.versions.some(v => v.version === version)) {
      return problem(
        400,
        version === undefined
          ? 'No job version to deploy.'
          : `Job version '${show(version)}' of '${js.job.job_name}' does not exist.`,
        version === undefined
          ? 'No sources were uploaded for this job.'
          : 'No upload of this job produced that version.',
        'Upload the sources first and deploy the version_sha it answers.'
      )
    }
    const pythonChanged = previous !== undefined && previous.python_version !== python
    const vdk = body.vdk_version ?? (pythonChanged ? undefined : previous?.vdk_version)
    const now = clock.now()
    const script = scriptsFor(js.job.team, js.job.job_name).deployments.shift() ?? {
      status: 'SUCCESS' as const,
      seconds: opts.deploymentSeconds
    }
    js.pending = {
      started_at: now,
      ready_at: now + script.seconds * 1000,
      outcome: script.status,
      notify: notify !== 'false',
      recipients: deployContacts(js),
      target: {
        job_version: version,
        python_version: python,
        ...(typeof vdk === 'string' ? { vdk_version: vdk } : {}),
        // absent: the CronJob keeps its enabled state, a new one is enabled
        // (DeploymentModelConverter.mergeDeployments; JobImageDeployer.updateCronJob)
        enabled: typeof body.enabled === 'boolean' ? body.enabled : (previous?.enabled ?? true),
        mode: body.mode ?? previous?.mode ?? 'release',
        last_deployed_by: ctx.user,
        last_deployed_date: iso(now),
        // the CronJob takes the job config's schedule at deploy time; the body's is ignored
        // (JobImageDeployer.updateCronJob)
        schedule: { schedule_cron: schedule(js) }
      }
    }
    js.deployment_status ??= 'NONE'
    settle(js, now)
    return empty(202)
  }

  const patchDeployment: Handler = async ctx => {
    const js = jobOrEmpty404(ctx)
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
    const body = requireObject(await readJson(ctx.req, 'deployment'), 'deployment')
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
    live.schedule = { schedule_cron: schedule(js) }
    live.last_deployed_by = ctx.user
    live.last_deployed_date = iso(clock.now())
    return empty(202)
  }

  const deleteDeployment: Handler = ctx => {
    // 202 whenever the job exists, deployed or not (DataJobsDeploymentController.deploymentDelete)
    const js = jobOrEmpty404(ctx)
    js.live = undefined
    js.pending = undefined
    js.deployment_status = 'SUCCESS'
    return empty(202)
  }

  const startExecution: Handler = async ctx => {
    const js = jobOr404(ctx)
    const notDeployed = (): Reply =>
      problem(
        404,
        `Data job '${js.job.job_name}' is not deployed.`,
        'An execution runs the deployed version, and there is none.',
        'Deploy the job and wait until the deployment is live, then start it.'
      )
    if (!js.live) return notDeployed()
    // everything that waits comes first: from the 409 check to the push nothing awaits, so two
    // concurrent starts cannot both pass the check
    const body = requireObject(
      (await readJson(ctx.req, 'execution request', { required: false })) ?? {},
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
    const stepFiles = await steps(js, js.live.job_version)
    const live = js.live
    if (!live) return notDeployed()
    const now = clock.now()
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
    const script = scriptsFor(js.job.team, js.job.job_name).executions.shift() ?? {
      status: 'succeeded' as const,
      seconds: opts.executionSeconds
    }
    let id = `${js.job.job_name}-${Math.floor(now / 1000)}`
    for (let n = 2; js.executions.some(e => e.id === id); n++)
      id = `${js.job.job_name}-${Math.floor(now / 1000)}-${n}`
    // `<started_by>/<user>`, or the user alone without one (JobExecutionService)
    const startedBy =
      typeof body.started_by === 'string' && body.started_by
        ? `${body.started_by}/${ctx.user}`
        : ctx.user
    const runningAt = now + (script.submitSeconds ?? opts.submitSeconds) * 1000
    const endAt = runningAt + script.seconds * 1000
    js.executions.push({
      id,
      job_name: js.job.job_name,
      team: js.job.team,
      // recorded as manual whatever started_by says: a started_by holding "scheduled" only marks
      // the Kubernetes job (JobExecutionService.startDataJobExecution, saveDataJobExecution)
      type: 'manual',
      started_by: startedBy,
      args: (body.args as Record<string, unknown> | undefined) ?? {},
      op_id: ctx.opId,
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
        : {}),
      logs: script.logs ?? defaultLogs(js.job.job_name, id, script.status, stepFiles),
      deployment: { ...live }
    })
    while (js.executions.length > MAX_EXECUTIONS_PER_JOB) {
      const i = js.executions.findIndex(e => !isActive(executionStatus(e, now)))
      js.executions.splice(i < 0 ? 0 : i, 1)
    }
    return empty(202, {
      Location: `/data-jobs/for-team/${enc(js.job.team)}/jobs/${enc(js.job.job_name)}/executions/${enc(id)}`
    })
  }

  /** The step files of a version: .py and .sql files at the top of the job folder, in order. */
  const steps = async (js: JobState, version: string): Promise<string[]> => {
    const v = js.versions.find(x => x.version === version)
    if (!v) return []
    const files = await sources.tree(v.tree)
    return files.map(f => f.path).filter(p => !p.includes('/') && /\.(py|sql)$/.test(p))
  }

  const listExecutions: Handler = ctx => {
    const js = jobOr404(ctx)
    const wanted = ctx.url.searchParams.getAll('execution_status').flatMap(s => s.split(','))
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
    const now = clock.now()
    const list = js.executions.filter(
      e => !wanted.length || wanted.includes(executionStatus(e, now))
    )
    return json(
      200,
      list.map(e => executionView(e, now))
    )
  }

  const findExecution = (ctx: Ctx): ExecutionRecord => {
    const js = jobOr404(ctx)
    return (
      js.executions.find(e => e.id === ctx.params.id) ??
      fail(
        problem(
          404,
          `Cannot find execution '${ctx.params.id}' of data job '${js.job.job_name}'.`,
          'The execution does not exist, or it was cleaned up (the service keeps the latest 100).',
          "List the job's executions to find a valid id."
        )
      )
    )
  }

  const readExecution: Handler = ctx => {
    const e = findExecution(ctx)
    const now = clock.now()
    // a status that becomes another after N reads: this read counts once the execution has ended
    const b = e.becomes
    if (b?.afterReads !== undefined && b.at === undefined && !e.cancelled_at && now >= e.end_at) {
      b.reads = (b.reads ?? 0) + 1
      if (b.reads > b.afterReads) b.at = now
      persist()
    }
    return json(200, executionView(e, now))
  }

  const cancelExecution: Handler = ctx => {
    const e = findExecution(ctx)
    const now = clock.now()
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

  const executionLogs: Handler = ctx => {
    const e = findExecution(ctx)
    const tail = ctx.url.searchParams.get('tail_lines')
    if (tail !== null && !/^-?\d+$/.test(tail)) {
      return problem(
        400,
        `tail_lines must be an integer, not '${tail}'.`,
        'It is the number of last lines to return (0: all).',
        'Send ?tail_lines=<n>.'
      )
    }
    const now = clock.now()
    const end = executionEnd(e, now)
    const gone = end !== undefined && now >= end + opts.logsRetentionSeconds * 1000
    let lines = gone ? [] : visibleLogLines(e, now)
    const n = Number(tail ?? 0)
    if (n > 0) lines = lines.slice(-n)
    return json(200, { logs: lines.join('\n') })
  }

  /**
   * Where a job's properties or secrets are kept. Neither checks that the job exists, nor (for
   * properties) the team: properties are keyed by the job name alone (DataJobsPropertiesController
   * → PropertiesService.updateJobProperties(jobName, …)), secrets by team/job in Vault
   * (VaultJobSecretsService), so a wrong team reads {} and writes elsewhere.
   */
  const mapKey = (store: 'properties' | 'secrets', ctx: Ctx): string =>
    store === 'properties' ? ctx.params.job : `${ctx.params.team}/${ctx.params.job}`

  const readMap =
    (store: 'properties' | 'secrets'): Handler =>
    ctx =>
      json(200, state[store][mapKey(store, ctx)] ?? {})

  const writeMap =
    (store: 'properties' | 'secrets', limit: number): Handler =>
    async ctx => {
      const body = requireObject(await readJson(ctx.req, store, { limit }), store)
      state[store][mapKey(store, ctx)] = body
      // properties 204 (DataJobsPropertiesController), secrets 202 (DataJobsSecretsController)
      return empty(store === 'secrets' ? 202 : 204)
    }

  const secretsOff: Handler = () =>
    problem(
      501,
      'Secrets are not supported by this service.',
      'No secrets storage is configured.',
      'Ask the operators of the Control Service to configure a secrets backend.'
    )

  const tokenEndpoint: Handler = async ctx => {
    if (!opts.apiTokens.length) return empty(404)
    const form = new URLSearchParams((await readBody(ctx.req, 64 * 1024)).toString('utf8'))
    if (form.get('grant_type') !== 'refresh_token') {
      return json(400, {
        error: 'unsupported_grant_type',
        error_description: 'only grant_type=refresh_token is supported'
      })
    }
    const refresh = form.get('refresh_token')
    if (!refresh || !opts.apiTokens.includes(refresh)) {
      return json(400, { error: 'invalid_grant', error_description: 'the API token is not valid' })
    }
    const token = `emu-${hex(24)}`
    state.issued_tokens[token] = clock.now() + opts.accessTokenTtlSeconds * 1000
    return json(200, {
      access_token: token,
      token_type: 'bearer',
      expires_in: opts.accessTokenTtlSeconds,
      scope: ''
    })
  }

  // ---- routing ----------------------------------------------------------------------------------

  const T = '/data-jobs/for-team/:team'
  const J = `${T}/jobs/:job`
  const D = `${J}/deployments/:deployment`
  const routes: Array<[string, string, Handler]> = [
    ['GET', `${T}/info`, info],
    ['GET', `${T}/jobs`, jobsQuery],
    ['POST', `${T}/jobs`, createJob],
    ['GET', J, readJob],
    ['PUT', J, updateJob],
    ['DELETE', J, deleteJob],
    ['PUT', `${J}/team/:newTeam`, changeTeam],
    ['GET', `${J}/sources`, downloadSources],
    ['POST', `${J}/sources`, uploadSources],
    ['DELETE', `${J}/sources`, deleteSources],
    ['GET', `${J}/deployments`, listDeployments],
    ['POST', `${J}/deployments`, createDeployment],
    ['GET', D, readDeployment],
    ['PATCH', D, patchDeployment],
    ['DELETE', D, deleteDeployment],
    ['GET', `${D}/executions`, listExecutions],
    ['POST', `${D}/executions`, startExecution],
    ['GET', `${J}/executions`, listExecutions],
    ['GET', `${J}/executions/:id`, readExecution],
    ['DELETE', `${J}/executions/:id`, cancelExecution],
    ['GET', `${J}/executions/:id/logs`, executionLogs],
    ['GET', `${D}/properties`, readMap('properties')],
    ['PUT', `${D}/properties`, writeMap('properties', MAX_JSON_BYTES)],
    ['GET', `${D}/secrets`, opts.secrets ? readMap('secrets') : secretsOff],
    ['PUT', `${D}/secrets`, opts.secrets ? writeMap('secrets', MAX_SECRETS_BYTES) : secretsOff],
    ['POST', '/auth/token', tokenEndpoint]
  ]
  const PUBLIC = new Set(['/auth/token'])

  // ---- admin API (/_emulator/) -----------------------------------------------------------------

  const admin: Array<[string, string, Handler]> = [
    ['GET', '/_emulator/health', () => json(200, { ok: true, version: EMULATOR_VERSION })],
    [
      'GET',
      '/_emulator/config',
      () =>
        json(200, {
          version: EMULATOR_VERSION,
          auth: authOn,
          persistent: Boolean(opts.dataDir),
          supported_python_versions: opts.pythonVersions,
          default_python_version: opts.defaultPythonVersion,
          execution_seconds: opts.executionSeconds,
          submit_seconds: opts.submitSeconds,
          clock: clockView(),
          deployment_seconds: opts.deploymentSeconds,
          logs_retention_seconds: opts.logsRetentionSeconds,
          logs_url_template: opts.logsUrlTemplate,
          secrets: opts.secrets,
          allowed_hosts: opts.allowedHosts,
          max_upload_bytes: opts.maxUploadBytes,
          max_sources_bytes: opts.maxSourcesBytes,
          max_sources_entries: opts.maxSourcesEntries,
          max_inflate_ratio: opts.maxInflateRatio
        })
    ],
    [
      'POST',
      '/_emulator/jobs/:team/:job/next-execution',
      async ctx => {
        const script = parseExecutionScript(
          await readJson(ctx.req, 'script'),
          opts.executionSeconds
        )
        const queue = scriptsFor(ctx.params.team, ctx.params.job).executions
        queue.push(script)
        return json(201, { queued: queue.length })
      }
    ],
    [
      'POST',
      '/_emulator/jobs/:team/:job/next-deployment',
      async ctx => {
        const script = parseDeploymentScript(
          await readJson(ctx.req, 'script'),
          opts.deploymentSeconds
        )
        const queue = scriptsFor(ctx.params.team, ctx.params.job).deployments
        queue.push(script)
        return json(201, { queued: queue.length })
      }
    ],
    [
      'GET',
      '/_emulator/faults',
      () =>
        json(
          200,
          faults.map(({ pattern: _p, ...f }) => f)
        )
    ],
    [
      'POST',
      '/_emulator/faults',
      async ctx => {
        const fault = parseFault(await readJson(ctx.req, 'fault'), ++faultSeq)
        faults.push(fault)
        return json(201, { id: fault.id })
      }
    ],
    ['DELETE', '/_emulator/faults', () => ((faults = []), empty(204))],
    ['GET', '/_emulator/clock', () => json(200, clockView())],
    [
      'POST',
      '/_emulator/clock',
      async ctx => {
        const change = parseClockChange(await readJson(ctx.req, 'clock change'))
        if (change.freeze === true) clock.freeze()
        if (change.freeze === false) clock.resume()
        clock.advance(change.advanceSeconds * 1000)
        persist()
        return json(200, clockView())
      }
    ],
    ['GET', '/_emulator/notifications', () => json(200, state.notifications)],
    ['DELETE', '/_emulator/notifications', () => ((state.notifications = []), empty(204))],
    ['GET', '/_emulator/journal', () => json(200, journal)],
    ['DELETE', '/_emulator/journal', () => (journal.splice(0), empty(204))],
    [
      'GET',
      '/_emulator/logs/:team/:job/:id',
      ctx => {
        const e = findExecution(ctx)
        const lines = visibleLogLines(e, clock.now())
        return raw(200, lines.length ? `${lines.join('\n')}\n` : '', 'text/plain; charset=utf-8')
      }
    ],
    ['POST', '/_emulator/auth/expire', () => ((state.issued_tokens = {}), empty(204))],
    [
      'POST',
      '/_emulator/reset',
      () => {
        state = emptyState()
        faults = []
        journal.splice(0)
        return empty(204)
      }
    ]
  ]

  const clockView = () => ({ now: iso(clock.now()), frozen: clock.frozen })

  const match = (table: Array<[string, string, Handler]>, method: string, path: string) => {
    const parts = path.split('/')
    let pathMatched = false
    for (const [m, pattern, handler] of table) {
      const want = pattern.split('/')
      if (want.length !== parts.length) continue
      const params: Record<string, string> = {}
      let ok = true
      for (let i = 0; i < want.length && ok; i++) {
        if (want[i].startsWith(':')) {
          try {
            params[want[i].slice(1)] = decodeURIComponent(parts[i])
          } catch {
            ok = false
          }
          ok &&= parts[i] !== ''
        } else ok = want[i] === parts[i]
      }
      if (!ok) continue
      pathMatched = true
      if (m === method) return { handler, params }
    }
    return pathMatched ? 'method' : undefined
  }

  const notFound = (path: string, status = 404, error = 'Not Found') =>
    json(status, { timestamp: iso(clock.now()), status, error, path })

  const authorized = (req: IncomingMessage): Reply | undefined => {
    if (!authOn) return undefined
    const header = req.headers.authorization
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1]
    if (!bearer) return empty(401, { 'WWW-Authenticate': 'Bearer' })
    const expiry = state.issued_tokens[bearer]
    if (opts.tokens.includes(bearer) || (expiry !== undefined && expiry > clock.now()))
      return undefined
    return empty(401, {
      'WWW-Authenticate':
        'Bearer error="invalid_token", error_description="The access token is invalid or expired."'
    })
  }

  const dispatch = async (
    table: Array<[string, string, Handler]>,
    req: IncomingMessage,
    url: URL,
    opId: string
  ): Promise<Reply> => {
    const method = req.method ?? 'GET'
    const found = match(table, method, url.pathname)
    if (!found) return notFound(url.pathname)
    if (found === 'method') return notFound(url.pathname, 405, 'Method Not Allowed')
    return found.handler({ req, url, params: found.params, opId, user })
  }

  const run = async (fn: () => Promise<Reply>): Promise<Reply> => {
    try {
      return await fn()
    } catch (e) {
      if (e instanceof ReplyError) return e.reply
      if (e instanceof AdminInputError) return json(400, { error: e.message })
      opts.log?.(`internal error: ${(e as Error).stack ?? String(e)}`)
      return problem(
        500,
        'The local Control Service failed unexpectedly.',
        (e as Error).message,
        'Report this as a bug of vdk-actions.'
      )
    }
  }

  /**
   * What is left of a request's body once its answer is decided is read and dropped, up to
   * SWALLOW_BYTES; past that the connection is closed. (Node would otherwise read all of it.)
   */
  const swallow = (req: IncomingMessage): void => {
    if (req.complete || req.destroyed) return
    let left = SWALLOW_BYTES
    req.on('data', (chunk: Buffer) => {
      left -= chunk.length
      if (left < 0) req.socket.destroy()
    })
    req.resume()
  }

  /** Admin calls need what the API needs (the token, when one is set), and their POSTs a JSON
   * body: a web page's form can send only form or text content types. */
  const adminRefusal = (req: IncomingMessage): Reply | undefined => {
    const denied = authorized(req)
    if (denied) return denied
    const type = req.headers['content-type'] ?? ''
    if (req.method === 'POST' && !JSON_TYPE.test(type)) {
      return json(415, {
        error: 'admin POSTs must be sent with Content-Type: application/json (also without a body)'
      })
    }
    return undefined
  }

  const applyFault = (req: IncomingMessage, res: ServerResponse, f: ActiveFault): void => {
    swallow(req)
    if (f.reset) {
      res.socket?.destroy()
      return
    }
    const headers: Record<string, string> = {}
    if (f.retryAfter !== undefined) {
      headers['Retry-After'] = f.retryAfterAsDate
        ? new Date(clock.now() + f.retryAfter * 1000).toUTCString()
        : String(Math.round(f.retryAfter))
    }
    const reply: Reply =
      f.body !== undefined
        ? raw(f.status ?? 500, f.body, f.contentType ?? 'application/json')
        : problem(
            f.status ?? 500,
            `Injected fault: HTTP ${f.status}.`,
            `Scripted through /_emulator/faults (fault ${f.id}).`,
            'Retry if the operation is safe to retry.'
          )
    send(res, { ...reply, headers: { ...reply.headers, ...headers } })
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://emulator')
    const opId = (req.headers['x-opid'] as string | undefined) ?? hex(8)
    res.setHeader('X-OPID', opId)
    const method = req.method ?? 'GET'
    // before anything else, and out of the journal: such a request is not a client of the service
    const refused = access({ host: req.headers.host, origin: req.headers.origin })
    if (refused) {
      swallow(req)
      send(res, refused)
      return
    }
    if (url.pathname.startsWith('/_emulator/')) {
      const denied = adminRefusal(req)
      const reply = denied ?? (await run(() => dispatch(admin, req, url, opId)))
      swallow(req)
      send(res, reply)
      return
    }
    const query: Record<string, string | string[]> = {}
    for (const k of new Set(url.searchParams.keys())) {
      const all = url.searchParams.getAll(k)
      query[k] = all.length === 1 ? all[0] : all
    }
    const entry: JournalEntry = {
      seq: ++journalSeq,
      // when it arrived, by the wall clock: a client's pacing is measured in real time, whatever
      // the service's own (possibly frozen) clock says
      at: iso(Date.now()),
      method,
      path: url.pathname,
      query,
      status: null,
      op_id: opId
    }
    journal.push(entry)
    if (journal.length > MAX_JOURNAL) journal.splice(0, journal.length - MAX_JOURNAL)
    res.on('finish', () => (entry.status = res.statusCode))
    opts.log?.(`${method} ${req.url}`)

    const fault = takeFault(
      faults,
      method,
      url.pathname,
      req.headers['content-length'] !== undefined
    )
    if (fault) entry.fault = describeFault(fault)
    const after = fault?.when === 'after'
    const answers = fault && (fault.reset || fault.status !== undefined)
    if (fault?.delayMs && !after) await sleep(fault.delayMs)
    if (fault && answers && !after) return applyFault(req, res, fault)

    const now = clock.now()
    let changed = false
    for (const js of Object.values(state.jobs)) changed = settle(js, now) || changed
    const denied = PUBLIC.has(url.pathname) ? undefined : authorized(req)
    const reply = denied ?? (await run(() => dispatch(routes, req, url, opId)))
    if (changed || (method !== 'GET' && method !== 'HEAD')) persist()
    if (fault?.delayMs && after) await sleep(fault.delayMs)
    if (fault && answers && after) {
      if (reply.kind === 'stream') (reply.body as Readable).destroy()
      return applyFault(req, res, fault)
    }
    swallow(req)
    send(res, reply)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      opts.log?.(`failed to answer: ${String(e)}`)
      res.destroy()
    })
  })
  // Long uploads must not be cut by Node's default request timeout (5 minutes).
  server.requestTimeout = 0
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, opts.host, () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host
  base = `http://${host}:${port}`
  if (!existsSync(stateFile)) persist()

  return {
    url: base,
    port,
    server,
    get state() {
      return state
    },
    journal,
    clock,
    async close() {
      await new Promise<void>(resolve => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

function createHashHex(text: string): string {
  return createHash('sha1').update(text).digest('hex')
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return
  res.statusCode = reply.status
  for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v)
  switch (reply.kind) {
    case 'json': {
      const text = JSON.stringify(reply.body)
      res.setHeader('Content-Type', 'application/json')
      res.setHeader('Content-Length', Buffer.byteLength(text))
      res.end(text)
      return
    }
    case 'raw':
      res.end(reply.body as string | Buffer)
      return
    case 'stream':
      ;(reply.body as Readable).on('error', () => res.destroy()).pipe(res)
      return
    default:
      res.setHeader('Content-Length', 0)
      res.end()
  }
}
