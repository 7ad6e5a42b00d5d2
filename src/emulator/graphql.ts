// `jobsQuery`: GraphQL over GET, answered by graphql-js over the schema of graphql-schema.ts (a
// subset of the official one): the resolvers, with the real service's filters, order and pages.
// What the real service does and the spec does not say:
// - the answer's `data` is the value of the query's single root field (`data.content`, as the
//   official CLI reads it), not `{ "jobs": ... }`;
// - pages are 1-based, and the default `pageNumber: 0` is refused;
// - the `{team_name}` path segment does not filter: use `filter: [{property: "config.team", ...}]`;
// - execution statuses are UPPERCASE here and lowercase in REST.
import { graphql } from 'graphql'
import { jobsQuerySchema } from './graphql-schema.js'
import {
  executionEnd,
  executionStatus,
  iso,
  jobContacts,
  jobSchedule,
  type ExecutionRecord,
  type JobState,
  type ServiceState
} from './model.js'

/** What the resolvers need from the service: its state, the time, and how views are made. */
export interface QueryContext {
  state: ServiceState
  now: number
  logsUrl(e: ExecutionRecord): string | undefined
  message(e: ExecutionRecord): string
}

interface PageArgs {
  pageNumber?: number | null
  pageSize?: number | null
}
interface ExecutionArgs extends PageArgs {
  filter?: {
    startTimeGte?: string
    startTimeLte?: string
    endTimeGte?: string
    endTimeLte?: string
    statusIn?: string[]
    jobNameIn?: string[]
    teamNameIn?: string[]
  } | null
  order?: { property?: string; direction?: 'ASC' | 'DESC' } | null
}
interface Predicate {
  property?: string | null
  pattern?: string | null
  sort?: 'ASC' | 'DESC' | null
}

function page<T>(items: T[], args: PageArgs, defaults: { size: number; cap?: number }) {
  const number = args.pageNumber ?? 1
  const size = args.pageSize ?? defaults.size
  if (number < 1) throw new Error(`pageNumber must be 1 or more (pages are 1-based); got ${number}`)
  if (size < 1) throw new Error(`pageSize must be 1 or more; got ${size}`)
  if (defaults.cap && size > defaults.cap)
    throw new Error(`pageSize must be ${defaults.cap} or less`)
  return {
    content: items.slice((number - 1) * size, number * size),
    totalItems: items.length,
    totalPages: Math.ceil(items.length / size)
  }
}

/** Job properties a predicate may name (the real service's JobFieldStrategyBy, in part). */
const JOB_FIELDS: Record<string, (js: JobState, ctx: QueryContext) => string | undefined> = {
  jobName: js => js.job.job_name,
  'config.team': js => js.job.team,
  'config.description': js => js.job.description,
  'config.schedule.scheduleCron': js => schedule(js).schedule_cron,
  'config.contacts.present': js => String(contactsPresent(js)),
  deployments: js => (js.live ? 'true' : 'false'),
  'deployments.enabled': js => (js.live ? (js.live.enabled ? 'enabled' : 'disabled') : undefined),
  'deployments.jobPythonVersion': js => js.live?.python_version,
  'deployments.lastExecutionStatus': (js, ctx) => {
    const last = latest(js.executions)
    return last && executionStatus(last, ctx.now).toUpperCase()
  },
  'deployments.lastExecutionTime': js => {
    const last = latest(js.executions)
    return last && iso(last.created_at)
  }
}

const schedule = (js: JobState) => jobSchedule(js.job)
const contacts = (js: JobState) => jobContacts(js.job)
const contactsPresent = (js: JobState) => Object.values(contacts(js)).some(v => v?.length)
const latest = (list: ExecutionRecord[]) =>
  list.reduce<ExecutionRecord | undefined>(
    (a, e) => (!a || e.created_at > a.created_at ? e : a),
    undefined
  )

/**
 * The `config.team` filter as the real service applies it (JobFieldStrategyByTeam
 * .computeFilterCriteria): every `%` becomes `.*`, the pattern is trimmed and lowercased, and a
 * team matches when its lowercase name matches the pattern as a whole regular expression, or
 * equals it. So `.` or `(` in a team name act as regular-expression syntax, and a pattern that is
 * not a valid expression makes the whole query fail (Java's PatternSyntaxException inside the
 * data fetcher; JavaScript's RegExp stands in for java.util.regex, which agree on plain names).
 */
function teamMatcher(pattern: string): (team: string) => boolean {
  const want = pattern.replace(/%/g, '.*').trim().toLowerCase()
  // compiled at the first team it is tried on: with no job to check, the real query does not fail
  let re: RegExp | undefined
  return team => {
    try {
      re ??= new RegExp(`^(?:${want})$`)
    } catch (e) {
      throw new Error(
        `Exception while fetching data (/jobs): the config.team pattern '${pattern}' is not a valid regular expression: ${(e as Error).message}`,
        { cause: e }
      )
    }
    return re.test(team.toLowerCase()) || team.toLowerCase().trim() === want
  }
}

/**
 * Every other job filter (FieldStrategy.checkMatch): equal ignoring case, or with a `*` in the
 * pattern a wildcard match (`*` any run, `?` one character, as commons-io wildcardMatch).
 */
function fieldMatcher(pattern: string): (value: string) => boolean {
  if (!pattern.includes('*')) return value => value.toLowerCase() === pattern.toLowerCase()
  const re = new RegExp(
    `^${pattern
      .toLowerCase()
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    's'
  )
  return value => re.test(value.toLowerCase())
}

function filterJobs(
  ctx: QueryContext,
  filter: Predicate[] | null | undefined,
  search?: string | null
) {
  let jobs = Object.values(ctx.state.jobs)
  const predicates = filter ?? []
  for (const p of predicates) {
    const get = p.property ? JOB_FIELDS[p.property] : undefined
    if (!get) {
      throw new Error(
        `unsupported filter property '${p.property}'; use one of ${Object.keys(JOB_FIELDS).join(', ')}`
      )
    }
    if (p.pattern) {
      const matches =
        p.property === 'config.team' ? teamMatcher(p.pattern) : fieldMatcher(p.pattern)
      jobs = jobs.filter(js => {
        const value = get(js, ctx)
        return value !== undefined && matches(value)
      })
    }
  }
  if (search) {
    const want = search.toLowerCase()
    jobs = jobs.filter(js =>
      [js.job.job_name, js.job.team, js.job.description].some(v => v.toLowerCase().includes(want))
    )
  }
  const sorts = predicates.filter(p => p.sort)
  const key = sorts.length ? sorts : [{ property: 'jobName', sort: 'ASC' as const }]
  return jobs.sort((a, b) => {
    for (const s of key) {
      const get = JOB_FIELDS[s.property ?? 'jobName']
      const c = (get(a, ctx) ?? '').localeCompare(get(b, ctx) ?? '')
      if (c) return s.sort === 'DESC' ? -c : c
    }
    return 0
  })
}

function filterExecutions(ctx: QueryContext, list: ExecutionRecord[], args: ExecutionArgs) {
  const f = args.filter ?? {}
  const t = (s?: string) => (s ? Date.parse(s) : undefined)
  const [sg, sl, eg, el] = [t(f.startTimeGte), t(f.startTimeLte), t(f.endTimeGte), t(f.endTimeLte)]
  const out = list.filter(e => {
    const end = executionEnd(e, ctx.now)
    if (f.statusIn?.length && !f.statusIn.includes(executionStatus(e, ctx.now).toUpperCase()))
      return false
    if (f.jobNameIn?.length && !f.jobNameIn.includes(e.job_name)) return false
    if (f.teamNameIn?.length && !f.teamNameIn.includes(e.team)) return false
    if (sg !== undefined && e.created_at < sg) return false
    if (sl !== undefined && e.created_at > sl) return false
    if (eg !== undefined && (end === undefined || end < eg)) return false
    if (el !== undefined && (end === undefined || end > el)) return false
    return true
  })
  const prop = args.order?.property ?? 'startTime'
  const dir = args.order?.direction === 'ASC' ? 1 : -1
  const keys: Record<string, (e: ExecutionRecord) => number | string> = {
    startTime: e => e.created_at,
    endTime: e => executionEnd(e, ctx.now) ?? Infinity,
    id: e => e.id,
    jobName: e => e.job_name,
    status: e => executionStatus(e, ctx.now)
  }
  const key = keys[prop]
  if (!key)
    throw new Error(
      `unsupported order property '${prop}'; use one of ${Object.keys(keys).join(', ')}`
    )
  return out.sort((a, b) => {
    const [x, y] = [key(a), key(b)]
    return x < y ? -dir : x > y ? dir : 0
  })
}

function executionView(ctx: QueryContext, js: JobState | undefined, e: ExecutionRecord) {
  const end = executionEnd(e, ctx.now)
  return {
    id: e.id,
    type: e.type.toUpperCase(),
    jobName: e.job_name,
    status: executionStatus(e, ctx.now).toUpperCase(),
    startTime: iso(e.created_at),
    endTime: end === undefined ? null : iso(end),
    startedBy: e.started_by,
    message: ctx.message(e),
    opId: e.op_id,
    logsUrl: ctx.logsUrl(e) ?? null,
    deployment: {
      id: 'release',
      enabled: e.deployment.enabled,
      jobVersion: e.deployment.job_version,
      jobPythonVersion: e.deployment.python_version,
      deployedDate: e.deployment.last_deployed_date,
      deployedBy: e.deployment.last_deployed_by,
      mode: e.deployment.mode,
      vdkVersion: e.deployment.vdk_version ?? null,
      status: js?.deployment_status ?? 'NONE'
    }
  }
}

function jobView(ctx: QueryContext, js: JobState) {
  const live = js.live
  const ended = js.executions.filter(e => executionEnd(e, ctx.now) !== undefined)
  const last = latest(js.executions)
  const lastEnd = last && executionEnd(last, ctx.now)
  const count = (statuses: string[]) =>
    ended.filter(e => statuses.includes(executionStatus(e, ctx.now))).length
  // a job without a deployment has none listed — null, not [] — and the outcome of a build is
  // not a field of it: V2DataJobDeployment has no status, so `status` is always null
  // (GraphQLDataFetchers.populateDeployments; graphql/model/V2DataJobDeployment.java)
  const deployments = !live
    ? null
    : [
        {
          id: 'production',
          enabled: live?.enabled ?? null,
          jobVersion: live?.job_version ?? null,
          jobPythonVersion: live?.python_version ?? null,
          lastDeployedDate: live?.last_deployed_date ?? null,
          lastDeployedBy: live?.last_deployed_by ?? null,
          mode: live?.mode ?? null,
          vdkVersion: live?.vdk_version ?? null,
          // left empty by the real service (ToApiModelConverter.toV2DataJobDeployment)
          schedule: { scheduleCron: null, nextRunEpochSeconds: null },
          status: null,
          executions: (args: ExecutionArgs) =>
            page(filterExecutions(ctx, js.executions, args), args, {
              size: 10,
              cap: 100
            }).content.map(e => executionView(ctx, js, e)),
          lastExecutionStatus: last ? executionStatus(last, ctx.now).toUpperCase() : null,
          lastExecutionTime: last ? iso(last.created_at) : null,
          lastExecutionDuration:
            last && lastEnd !== undefined ? Math.round((lastEnd - last.created_at) / 1000) : null,
          successfulExecutions: count(['succeeded']),
          failedExecutions: count(['user_error', 'platform_error'])
        }
      ]
  const c = contacts(js)
  return {
    jobName: js.job.job_name,
    config: {
      team: js.job.team,
      description: js.job.description,
      schedule: { scheduleCron: schedule(js).schedule_cron ?? null, nextRunEpochSeconds: null },
      contacts: {
        notifiedOnJobFailureUserError: c.notified_on_job_failure_user_error ?? [],
        notifiedOnJobFailurePlatformError: c.notified_on_job_failure_platform_error ?? [],
        notifiedOnJobSuccess: c.notified_on_job_success ?? [],
        notifiedOnJobDeploy: c.notified_on_job_deploy ?? []
      },
      generateKeytab: (js.job.config.generate_keytab as boolean | undefined) ?? true,
      sourceUrl: null,
      logsUrl: null
    },
    deployments
  }
}

export interface JobsQueryAnswer {
  status: 200 | 400
  body: { data?: unknown; errors?: unknown[] }
}

export async function runJobsQuery(
  ctx: QueryContext,
  query: string,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined
): Promise<JobsQueryAnswer> {
  const root = {
    jobs: (args: PageArgs & { filter?: Predicate[]; search?: string }) =>
      page(
        filterJobs(ctx, args.filter, args.search).map(js => jobView(ctx, js)),
        args,
        { size: 20 }
      ),
    executions: (args: ExecutionArgs) => {
      const all = Object.values(ctx.state.jobs).flatMap(js => js.executions.map(e => ({ js, e })))
      const byRecord = new Map(all.map(({ js, e }) => [e, js]))
      const list = filterExecutions(ctx, [...byRecord.keys()], args)
      const p = page(list, args, { size: 20, cap: 100 })
      return { ...p, content: p.content.map(e => executionView(ctx, byRecord.get(e), e)) }
    }
  }
  const result = await graphql({
    schema: jobsQuerySchema(),
    source: query,
    rootValue: root,
    variableValues: variables,
    operationName
  })
  const errors = result.errors?.map(e => e.toJSON())
  const fields = result.data ? Object.values(result.data) : []
  const data = fields.length === 1 ? fields[0] : (result.data ?? null)
  // graphql-java leaves `data` out when there is none; the spec's `data` is not nullable either
  if (errors?.length) return { status: 400, body: data === null ? { errors } : { data, errors } }
  return { status: 200, body: { data } }
}
