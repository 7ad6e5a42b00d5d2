// Data jobs: what the service supports (info), the GraphQL jobs query (graphql.ts answers it),
// and creating, reading, updating, deleting a job and moving it to another team.
import { isObject, readJson, requireObject, show } from '../body.js'
import type { Handler } from '../context.js'
import { runJobsQuery, type QueryContext } from '../graphql.js'
import { executionMessage, executionStatus, type JobState } from '../model.js'
import { EMULATOR_VERSION } from '../options.js'
import { empty, fail, json, problem, ReplyError } from '../reply.js'
import { logsUrl } from './executions.js'
import { jobOrEmpty404 } from './lookup.js'

const JOB_NAME = /^[a-z][a-z0-9-]{5,49}$/
const enc = encodeURIComponent

const jobView = (js: JobState) => ({
  job_name: js.job.job_name,
  team: js.job.team,
  description: js.job.description,
  config: js.job.config
})

function requireTeam(team: string): void {
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

export const info: Handler = service =>
  json(200, {
    api_version: `PipelinesControlService/${EMULATOR_VERSION}/emulator (vdk-actions local Control Service)`,
    supported_python_versions: service.settings.pythonVersions
  })

export const jobsQuery: Handler = async (service, call) => {
  const params = call.url.searchParams
  const query = params.get('query')
  if (!query) {
    return problem(
      400,
      'The GraphQL query is missing.',
      "jobsQuery needs a 'query' parameter.",
      'Pass the GraphQL document URL-encoded in ?query=.'
    )
  }
  let variables: Record<string, unknown> | undefined
  const rawVars = params.get('variables')
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
  const { clock } = service
  const queryContext: QueryContext = {
    state: service.store.state,
    now: clock.now(),
    logsUrl: e => logsUrl(service, e),
    message: e => executionMessage(executionStatus(e, clock.now()))
  }
  const operation = params.get('operation_name') ?? undefined
  const answer = await runJobsQuery(queryContext, query, variables, operation)
  return json(answer.status, answer.body)
}

export const createJob: Handler = async (service, call) => {
  const { team } = call.params
  requireTeam(team)
  const body = requireObject(await readJson(call.req, 'data job'), 'data job')
  const name = body.job_name
  if (typeof name !== 'string' || !JOB_NAME.test(name)) {
    return problem(
      400,
      `The data job name '${show(name)}' is not valid.`,
      'A job name must be 6 to 50 characters: a lowercase letter first, then lowercase letters, digits or dashes.',
      'Rename the job (e.g. its folder) to match ^[a-z][a-z0-9-]{5,49}$.'
    )
  }
  const queryName = call.url.searchParams.get('name')
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
  const jobs = service.store.state.jobs
  if (jobs[name]) return empty(409)
  jobs[name] = {
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

export const readJob: Handler = (service, call) => json(200, jobView(jobOrEmpty404(service, call)))

export const updateJob: Handler = async (service, call) => {
  const js = jobOrEmpty404(service, call)
  const body = requireObject(await readJson(call.req, 'data job'), 'data job')
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

export const deleteJob: Handler = (service, call) => {
  const js = jobOrEmpty404(service, call)
  // the job's properties and secrets stay: JobsService.deleteJob removes the credentials, the
  // deployment and the job, nothing else
  delete service.store.state.jobs[js.job.job_name]
  return empty(200)
}

export const changeTeam: Handler = (service, call) => {
  const js = jobOrEmpty404(service, call)
  requireTeam(call.params.newTeam)
  js.job.team = call.params.newTeam
  return empty(200)
}
