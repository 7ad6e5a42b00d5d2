// What the client accepts as an answer of the Control Service: each JSON body is checked against
// the shape the actions rely on before any field is used, so that an answer of another shape (a
// gateway's JSON, a hostile or broken server) ends as one protocol error naming the field, never
// as a TypeError deep in an action. The shapes are loose: fields the actions do not read may be
// anything, and unknown fields are kept (deploy writes a job's config back as it read it).
// A field the real service may send as null is read as absent: its Jackson writes unset fields as
// null (checked in vmware/versatile-data-kit at 4389e38: pipelines_control_service sets no
// spring.jackson default-property-inclusion and no @JsonInclude). Execution statuses are the seven
// of service/model/ExecutionStatus.java there, as the spec lists them.
import * as z from 'zod/mini'
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
