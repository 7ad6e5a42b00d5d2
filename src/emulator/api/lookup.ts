// The job or execution a URL names, or the 404 the real service answers when there is none: an
// empty one from the controllers that check themselves, one with an error body from those whose
// service layer throws.
import type { ApiCall, Service } from '../context.js'
import type { ExecutionRecord, JobState } from '../model.js'
import { empty, fail, problem } from '../reply.js'

/** For the handlers whose "not found" is an empty 404, as the real controllers answer. */
export const jobOrEmpty404 = (service: Service, call: ApiCall): JobState =>
  service.store.findJob(call.params.team, call.params.job) ?? fail(empty(404))

/** For the handlers whose "not found" comes from a service exception, with an error body. */
export const jobOr404 = (service: Service, call: ApiCall): JobState =>
  service.store.findJob(call.params.team, call.params.job) ??
  fail(
    problem(
      404,
      `Cannot find data job '${call.params.job}' of team '${call.params.team}'.`,
      'The data job does not exist, or it belongs to another team.',
      'Check the spelling of the job and team names, or create the job first.'
    )
  )

/** The execution `:id` of the job, with an error body when either does not exist. */
export function executionOr404(service: Service, call: ApiCall): ExecutionRecord {
  const js = jobOr404(service, call)
  return (
    js.executions.find(e => e.id === call.params.id) ??
    fail(
      problem(
        404,
        `Cannot find execution '${call.params.id}' of data job '${js.job.job_name}'.`,
        'The execution does not exist, or it was cleaned up (the service keeps the latest 100).',
        "List the job's executions to find a valid id."
      )
    )
  )
}
