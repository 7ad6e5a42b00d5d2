// The calls about a job itself: the service's info, reading, creating, updating and deleting a
// job, its sources up and down, and the GraphQL query over a team's jobs.
import type { Readable } from 'node:stream'
import {
  decodeAnswer,
  graphqlAnswer,
  infoAnswer,
  jobAnswer,
  shapeProblem,
  teamJobNamesAnswer,
  uploadAnswer,
  type Shape
} from '../answers.js'
import { TEAM_JOB_NAMES_QUERY, teamPattern } from '../queries.js'
import { ControlServiceError } from '../errors.js'
import type { DataJob, DataJobApiInfo, JsonMap } from '../types.js'
import { sendForAnswer, sendForEffect, type JobAddress, type TeamAddress } from './common.js'

/** A job's settings as the client sends them: its name and team come from the address. */
export type JobSettings = Omit<DataJob, 'job_name' | 'team'>

export async function readInfo(team: TeamAddress): Promise<DataJobApiInfo> {
  return sendForAnswer(
    team.transport,
    {
      operation: `read the Control Service info (team '${team.team}')`,
      method: 'GET',
      path: `${team.path}/info`,
      idempotent: true
    },
    infoAnswer
  )
}

/** The job, or undefined when it does not exist (for this team). */
export async function readJob(job: JobAddress): Promise<DataJob | undefined> {
  const operation = `read ${job.label}`
  return job.transport.send(
    { operation, method: 'GET', path: job.path, idempotent: true, accept: [404] },
    res => (res.status === 404 ? undefined : decodeAnswer(res, operation, jobAnswer))
  )
}

/**
 * Creates the job. `exists`: it was there already, in this team; `taken`: the name belongs to a
 * job of another team (names are unique across teams: the real service answers 409 with an
 * empty body either way, JobsService.createJob). After a lost answer to our own POST, a job
 * found in this team is the one we created.
 */
export async function createJob(
  job: JobAddress,
  settings: JobSettings
): Promise<'created' | 'exists' | 'taken'> {
  const answer = await job.transport.send(
    {
      operation: `create ${job.label}`,
      method: 'POST',
      path: `${job.teamPath}/jobs`,
      query: { name: job.job },
      json: { ...settings, job_name: job.job, team: job.team },
      idempotent: false,
      accept: [409],
      hint: status => (status === 400 ? 'check the job name and the config sent' : undefined)
    },
    res => (res.status === 409 ? ('conflict' as const) : ('created' as const)),
    async () => ((await readJob(job)) ? ('created' as const) : undefined)
  )
  if (answer === 'created') return 'created'
  return (await readJob(job)) ? 'exists' : 'taken'
}

export async function updateJob(job: JobAddress, settings: JobSettings): Promise<void> {
  return sendForEffect(job.transport, {
    operation: `update ${job.label}`,
    method: 'PUT',
    path: job.path,
    json: { ...settings, job_name: job.job, team: job.team },
    idempotent: true
  })
}

/**
 * Deletes the job: its deployment, sources and credentials go with it (the real service answers
 * 200 once done, an empty 404 when the team has no such job: DataJobsController.dataJobDelete →
 * JobsService.deleteJob, which deletes the deployment too; its post-delete web hook may answer
 * with its own status instead). Its properties stay, kept by the job name. Sent again after a
 * lost answer: 'absent' then means the first one did it.
 */
export async function deleteJob(job: JobAddress): Promise<'deleted' | 'absent'> {
  return job.transport.send(
    {
      operation: `delete ${job.label}`,
      method: 'DELETE',
      path: job.path,
      idempotent: true,
      accept: [404]
    },
    res => (res.status === 404 ? ('absent' as const) : ('deleted' as const))
  )
}

export interface UploadOptions {
  reason?: string
  timeoutMs?: number
  length?: number
}

/**
 * Uploads a zip (one top folder) streamed from `zip()`; the version the service answers.
 * Retried like an idempotent call: the same tree gives the same version.
 */
export async function uploadSources(
  job: JobAddress,
  zip: () => Readable | Buffer,
  options: UploadOptions = {}
): Promise<string> {
  const operation = `upload the sources of ${job.label}`
  return job.transport.send(
    {
      operation,
      method: 'POST',
      path: `${job.path}/sources`,
      query: { reason: options.reason },
      body: zip,
      contentType: 'application/octet-stream',
      contentLength: options.length,
      idempotent: true,
      timeoutMs: options.timeoutMs,
      hint: status =>
        status === 404
          ? `the job does not exist in team '${job.team}': create it first (create-if-missing)`
          : undefined
    },
    res => decodeAnswer(res, operation, uploadAnswer).version_sha
  )
}

/** The job's current sources as a zip stream (its top folder is the job name). */
export async function downloadSources(job: JobAddress): Promise<Readable> {
  return job.transport.send(
    {
      operation: `download the sources of ${job.label}`,
      method: 'GET',
      path: `${job.path}/sources`,
      idempotent: true,
      stream: true
    },
    res => res.stream as Readable
  )
}

/**
 * GraphQL over GET on a team's jobs: the value of the query's root field (the real service
 * unwraps it), checked as `shape`; `what` names the call in messages.
 */
export async function queryJobs<T>(
  team: TeamAddress,
  query: { text: string; variables?: JsonMap; what: string },
  shape: Shape<T>
): Promise<T> {
  const operation = `${query.what} (GraphQL)`
  const answer = await team.transport.send(
    {
      operation,
      method: 'GET',
      path: `${team.path}/jobs`,
      query: { query: query.text, variables: query.variables && JSON.stringify(query.variables) },
      idempotent: true,
      accept: [400]
    },
    res => ({
      status: res.status,
      body: decodeAnswer(res, operation, graphqlAnswer),
      opId: res.opId
    })
  )
  if (answer.body.errors?.length || answer.status === 400) {
    throw new ControlServiceError({
      operation,
      kind: 'http',
      status: answer.status,
      body: {
        what: 'The GraphQL query was refused.',
        why: (answer.body.errors ?? []).map(error => String(error.message)).join('; ')
      },
      hint: 'this is a bug of vdk-actions if it sent the query; please report it',
      opId: answer.opId
    })
  }
  const data = shape.safeParse(answer.body.data)
  if (data.success) return data.data
  throw new ControlServiceError({
    operation,
    kind: 'protocol',
    detail: `the answer's data is of another shape than the Control Service's: ${shapeProblem(data.error.issues)}`,
    opId: answer.opId
  })
}

/** Jobs asked for a page: the real service sets no upper limit (GraphQLUtils.validatePageInput). */
const NAMES_PAGE = 100
/** A team with more pages than this is refused rather than read without end. */
const MAX_NAME_PAGES = 1000

/**
 * The names of the team's jobs, in the order of their names. The Control Service's API has no
 * REST list of a team's jobs: GET /data-jobs/for-team/{team_name}/jobs is jobsQuery, GraphQL
 * (model/apidefs/datajob-api/api.yaml), and its team path segment does not filter
 * (DataJobsController.jobsQuery runs the query as it is): the config.team filter does, as a
 * regular expression (teamPattern), so only the jobs of exactly this team are kept.
 */
export async function listTeamJobNames(team: TeamAddress): Promise<string[]> {
  const names = new Set<string>()
  for (let page = 1; ; page++) {
    const answer = await queryJobs(
      team,
      {
        text: TEAM_JOB_NAMES_QUERY,
        variables: { team: teamPattern(team.team), page, size: NAMES_PAGE },
        what: `list the jobs of team '${team.team}'`
      },
      teamJobNamesAnswer
    )
    for (const job of answer.content) if (job.config?.team === team.team) names.add(job.jobName)
    if (page >= answer.totalPages || !answer.content.length) break
    if (page >= MAX_NAME_PAGES)
      throw new ControlServiceError({
        operation: `list the jobs of team '${team.team}' (GraphQL)`,
        kind: 'protocol',
        detail: `the answer has more than ${MAX_NAME_PAGES} pages of ${NAMES_PAGE} jobs`
      })
  }
  return [...names]
}
