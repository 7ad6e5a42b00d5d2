// Which handler answers a request: the official API's route table (the admin API's is in
// admin.ts), matching a method and path to a route, and turning what a handler throws into its
// answer: a Reply it failed with, a 400 for bad admin input, a 500 for anything else.
import type { IncomingMessage } from 'node:http'
import { TOKEN_PATH, tokenEndpoint } from './api/auth.js'
import {
  createDeployment,
  deleteDeployment,
  listDeployments,
  patchDeployment,
  readDeployment
} from './api/deployments.js'
import { cancelExecution, listExecutions, readExecution, startExecution } from './api/executions.js'
import {
  changeTeam,
  createJob,
  deleteJob,
  info,
  jobsQuery,
  readJob,
  updateJob
} from './api/jobs.js'
import { executionLogs } from './api/logs.js'
import { readProperties, readSecrets, writeProperties, writeSecrets } from './api/properties.js'
import { deleteSources, downloadSources, uploadSources } from './api/sources.js'
import type { Handler, Service } from './context.js'
import { iso } from './model.js'
import { json, problem, ReplyError, type Reply } from './reply.js'
import { AdminInputError } from './scripts.js'

/** Method, path pattern (`:name` matches one non-empty segment), handler. */
export type Route = [method: string, pattern: string, handler: Handler]

const TEAM = '/data-jobs/for-team/:team'
const JOB = `${TEAM}/jobs/:job`
const DEPLOYMENT = `${JOB}/deployments/:deployment`
const EXECUTION = `${JOB}/executions/:id`

export const API_ROUTES: Route[] = [
  ['GET', `${TEAM}/info`, info],
  ['GET', `${TEAM}/jobs`, jobsQuery],
  ['POST', `${TEAM}/jobs`, createJob],
  ['GET', JOB, readJob],
  ['PUT', JOB, updateJob],
  ['DELETE', JOB, deleteJob],
  ['PUT', `${JOB}/team/:newTeam`, changeTeam],
  ['GET', `${JOB}/sources`, downloadSources],
  ['POST', `${JOB}/sources`, uploadSources],
  ['DELETE', `${JOB}/sources`, deleteSources],
  ['GET', `${JOB}/deployments`, listDeployments],
  ['POST', `${JOB}/deployments`, createDeployment],
  ['GET', DEPLOYMENT, readDeployment],
  ['PATCH', DEPLOYMENT, patchDeployment],
  ['DELETE', DEPLOYMENT, deleteDeployment],
  ['GET', `${DEPLOYMENT}/executions`, listExecutions],
  ['POST', `${DEPLOYMENT}/executions`, startExecution],
  ['GET', `${JOB}/executions`, listExecutions],
  ['GET', EXECUTION, readExecution],
  ['DELETE', EXECUTION, cancelExecution],
  ['GET', `${EXECUTION}/logs`, executionLogs],
  ['GET', `${DEPLOYMENT}/properties`, readProperties],
  ['PUT', `${DEPLOYMENT}/properties`, writeProperties],
  ['GET', `${DEPLOYMENT}/secrets`, readSecrets],
  ['PUT', `${DEPLOYMENT}/secrets`, writeSecrets],
  ['POST', TOKEN_PATH, tokenEndpoint]
]

/** The route for this method and path; 'method' when the path has routes, none of it. */
function match(table: Route[], method: string, path: string) {
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

/** Spring's error body for a path nobody answers (404) or a method it does not take (405). */
const notFound = (service: Service, path: string, status = 404, error = 'Not Found') =>
  json(status, { timestamp: iso(service.clock.now()), status, error, path })

/** The answer of the table's handler for the request, whatever it throws. */
export async function dispatch(
  service: Service,
  table: Route[],
  req: IncomingMessage,
  url: URL,
  opId: string
): Promise<Reply> {
  try {
    const found = match(table, req.method ?? 'GET', url.pathname)
    if (!found) return notFound(service, url.pathname)
    if (found === 'method') return notFound(service, url.pathname, 405, 'Method Not Allowed')
    const user = service.authOn ? 'emulator-user' : 'anonymousUser'
    return await found.handler(service, { req, url, params: found.params, opId, user })
  } catch (e) {
    if (e instanceof ReplyError) return e.reply
    if (e instanceof AdminInputError) return json(400, { error: e.message })
    service.settings.log?.(`internal error: ${(e as Error).stack ?? String(e)}`)
    return problem(
      500,
      'The local Control Service failed unexpectedly.',
      (e as Error).message,
      'Report this as a bug of vdk-actions.'
    )
  }
}
