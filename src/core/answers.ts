// What the client accepts as an answer of the Control Service: each JSON body is checked against
// the shape the actions rely on before any field is used, so that an answer of another shape (a
// gateway's JSON, a hostile or broken server) ends as one protocol error naming the field, never
// as a TypeError deep in an action. The shapes are loose: fields the actions do not read may be
// anything, and unknown fields are kept (deploy writes a job's config back as it read it).
// A field the real service may send as null is read as absent: its Jackson writes unset fields as
// null (checked in vmware/versatile-data-kit at 4389e38: pipelines_control_service sets no
// spring.jackson default-property-inclusion and no @JsonInclude). Execution statuses are the seven
// of service/model/ExecutionStatus.java there, as the spec lists them.
// decodeAnswer is the one way an answer's body becomes a value: JSON, not too deep, of its shape.
import * as z from 'zod/mini'
import { ControlServiceError } from './errors.js'
import type { Response } from './http.js'
import type {
  DataJob,
  DataJobApiInfo,
  DataJobDeploymentStatus,
  DataJobExecution,
  GqlExecution,
  JsonMap
} from './types.js'
import { EXECUTION_ID_RULE, EXECUTION_STATUSES } from './types.js'
import { shownUrl as shown } from './text.js'

/** `shape`, or absent; null (what Jackson writes for an unset field) is read as absent. */
const absent = <T>(shape: z.ZodMiniType<T>) =>
  z.pipe(
    z.nullish(shape),
    z.transform((v: T | null | undefined) => v ?? undefined)
  )
/** `shape`, or absent or null, read as `fallback`. */
const orElse = <T>(shape: z.ZodMiniType<T>, fallback: T) =>
  z.pipe(
    z.nullish(shape),
    z.transform((v: T | null | undefined) => v ?? fallback)
  )
/** The shape of an answer, as the client reads it. */
export type Shape<T> = z.ZodMiniType<T>

const text = absent(z.string())
/**
 * A URL to print, link and output (an execution's logs_url): user info in it (the service's
 * template may hold a password) is shown as ***, so it is never printed; such a URL is not followed.
 */
const shownUrl = z.pipe(
  z.nullish(z.string()),
  z.transform((v: string | null | undefined) => (v ? shown(v) : undefined))
)
const shownNullableUrl = z.pipe(
  z.nullish(z.string()),
  z.transform((v: string | null | undefined) => (v ? shown(v) : null))
)
const flag = absent(z.boolean())
const map = z.record(z.string(), z.unknown())

export const infoAnswer: Shape<DataJobApiInfo> = z.looseObject({
  api_version: orElse(z.string(), ''),
  supported_python_versions: z.array(z.string())
})

export const jobAnswer: Shape<DataJob> = z.looseObject({
  job_name: z.string(),
  team: text,
  description: orElse(z.string(), ''),
  config: orElse<DataJob['config']>(
    z.looseObject({
      schedule: absent(z.looseObject({ schedule_cron: text })),
      contacts: absent(
        z.looseObject({
          notified_on_job_failure_user_error: absent(z.array(z.string())),
          notified_on_job_failure_platform_error: absent(z.array(z.string())),
          notified_on_job_success: absent(z.array(z.string())),
          notified_on_job_deploy: absent(z.array(z.string()))
        })
      )
    }),
    {}
  )
})

export const deploymentAnswer: Shape<DataJobDeploymentStatus> = z.looseObject({
  job_version: text,
  python_version: text,
  vdk_version: text,
  mode: absent(z.enum(['testing', 'release'])),
  id: text,
  enabled: flag,
  last_deployed_date: text,
  last_deployed_by: text,
  resources: absent(z.record(z.string(), z.number()))
})

export const deploymentsAnswer = z.array(deploymentAnswer)

export const executionAnswer: Shape<DataJobExecution> = z.looseObject({
  // an id goes into paths and log lines: one that is not the service's kind is no answer of it
  id: z.string().check(z.regex(EXECUTION_ID_RULE)),
  job_name: text,
  status: z.enum(EXECUTION_STATUSES),
  type: absent(z.enum(['manual', 'scheduled'])),
  start_time: text,
  end_time: text,
  started_by: text,
  logs_url: shownUrl,
  message: text,
  op_id: text,
  deployment: absent(
    z.looseObject({
      job_version: text,
      python_version: text,
      vdk_version: text,
      enabled: flag,
      deployed_by: text,
      deployed_date: text,
      id: text
    })
  )
})

export const executionsAnswer = z.array(executionAnswer)

const nullableText = orElse<string | null>(z.string(), null)
const GQL_STATUSES = EXECUTION_STATUSES.map(s => s.toUpperCase() as Uppercase<typeof s>)

/** The root field of the latest-executions query (queries.ts), unwrapped. */
export const latestExecutionsAnswer: Shape<{ content: GqlExecution[] }> = z.looseObject({
  content: z.array(
    z.looseObject({
      id: z.string(),
      status: z.enum(GQL_STATUSES),
      type: orElse<'MANUAL' | 'SCHEDULED' | null>(z.enum(['MANUAL', 'SCHEDULED']), null),
      startTime: nullableText,
      endTime: nullableText,
      startedBy: nullableText,
      message: nullableText,
      logsUrl: shownNullableUrl
    })
  )
})

/** The root field of the team's job names query (queries.ts TEAM_JOB_NAMES_QUERY), unwrapped. */
export const teamJobNamesAnswer: Shape<{
  content: Array<{ jobName: string; config: { team: string | null } | null }>
  totalPages: number
}> = z.looseObject({
  content: z.array(
    z.looseObject({
      jobName: z.string(),
      config: orElse<{ team: string | null } | null>(z.looseObject({ team: nullableText }), null)
    })
  ),
  totalPages: z.number()
})

/** A GraphQL answer: the root field's value (checked by the caller's shape), or errors. */
export const graphqlAnswer = z.looseObject({
  data: z.optional(z.unknown()),
  errors: absent(z.array(z.looseObject({ message: z.unknown() })))
})

export const logsAnswer = z.looseObject({ logs: text })
export const uploadAnswer = z.looseObject({ version_sha: z.string().check(z.minLength(1)) })
export const mapAnswer: Shape<JsonMap> = map

/** What one problem expected, in words (zod/mini carries no messages: they are made here). */
function expected(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}`
    case 'invalid_value':
      return `expected one of ${issue.values.map(v => String(v)).join(', ')}`
    case 'too_small':
      return 'expected a value that is not empty'
    case 'invalid_format':
      return 'expected an id of letters, digits, ., _ and -'
    default:
      return `not valid (${issue.code})`
  }
}

/**
 * What is wrong with a value that does not have its shape: the first problem, with where it is
 * (`content[3].status: expected one of …`), in one line and without the value itself.
 */
export function shapeProblem(issues: readonly z.core.$ZodIssue[]): string {
  const first = issues[0]
  if (!first) return 'it is not what the Control Service sends'
  const where = first.path
    .map(p => (typeof p === 'number' ? `[${p}]` : `.${String(p).slice(0, 40)}`))
    .join('')
    .replace(/^\./, '')
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''
  return `${where ? `${where}: ` : 'the body: '}${expected(first)}${more}`
}

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
    const [item, depth] = stack.pop() as [unknown, number]
    if (typeof item !== 'object' || item === null) continue
    if (depth >= max) return true
    for (const child of Object.values(item)) stack.push([child, depth + 1])
  }
  return false
}

const GATEWAY_HINT =
  'a proxy or gateway may have answered instead of the Control Service; check control-service-url'

/**
 * The answer's JSON, checked against the shape the actions rely on: a body that is not JSON, nests
 * too deep, or is not of that shape, is a protocol error in one line that names the field, never a
 * value.
 */
export function decodeAnswer<T>(res: Response, operation: string, shape: Shape<T>): T {
  const protocolError = (detail: string, hint = GATEWAY_HINT): ControlServiceError =>
    new ControlServiceError({ operation, kind: 'protocol', detail, hint, opId: res.opId })
  let value: unknown
  try {
    value = JSON.parse(res.text)
  } catch {
    throw protocolError(
      `HTTP ${res.status} came with a body that is not JSON: ${JSON.stringify(res.text.slice(0, 80))}`
    )
  }
  if (nestsDeeper(value, MAX_JSON_DEPTH))
    throw protocolError(
      `HTTP ${res.status} came with JSON nested deeper than ${MAX_JSON_DEPTH} levels, which no answer of the Control Service is`
    )
  const checked = shape.safeParse(value)
  if (checked.success) return checked.data
  throw protocolError(
    `HTTP ${res.status} came with an answer of another shape than the Control Service's: ${shapeProblem(checked.error.issues)}`,
    'a proxy or gateway may have answered instead of the Control Service, or the service is of another version; check control-service-url'
  )
}
