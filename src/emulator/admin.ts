// The admin API, /_emulator/: what tests use beside the official API to script the service (the
// next execution or deployment, faults, the clock) and to read what it did (its config, the
// journal of requests, the deployment e-mails, an execution's plain-text logs). Not part of the
// real service; it asks for the same token as the API.
import type { IncomingMessage } from 'node:http'
import { refuseUnauthorized } from './api/auth.js'
import { executionOr404 } from './api/lookup.js'
import { JSON_TYPE, readJson } from './body.js'
import type { Handler, Service } from './context.js'
import { iso, visibleLogLines } from './model.js'
import { EMULATOR_VERSION } from './options.js'
import { empty, json, raw, type Reply } from './reply.js'
import type { Route } from './router.js'
import { parseClockChange, parseDeploymentScript, parseExecutionScript } from './scripts.js'

const clockView = (service: Service) => ({
  now: iso(service.clock.now()),
  frozen: service.clock.frozen
})

const config: Handler = service => {
  const settings = service.settings
  return json(200, {
    version: EMULATOR_VERSION,
    auth: service.authOn,
    persistent: Boolean(settings.dataDir),
    supported_python_versions: settings.pythonVersions,
    default_python_version: settings.defaultPythonVersion,
    execution_seconds: settings.executionSeconds,
    submit_seconds: settings.submitSeconds,
    clock: clockView(service),
    deployment_seconds: settings.deploymentSeconds,
    logs_retention_seconds: settings.logsRetentionSeconds,
    log_timestamps: settings.logTimestamps,
    log_rotate_bytes: settings.logRotateBytes,
    logs_url_template: settings.logsUrlTemplate,
    secrets: settings.secrets,
    allowed_hosts: settings.allowedHosts,
    max_upload_bytes: settings.maxUploadBytes,
    max_sources_bytes: settings.maxSourcesBytes,
    max_sources_entries: settings.maxSourcesEntries,
    max_inflate_ratio: settings.maxInflateRatio
  })
}

/** Puts a script at the end of its queue: the job's next executions or deployments follow them. */
function enqueue<T>(queue: T[], script: T): Reply {
  queue.push(script)
  return json(201, { queued: queue.length })
}

const nextExecution: Handler = async (service, call) => {
  const body = await readJson(call.req, 'script')
  const script = parseExecutionScript(body, service.settings.executionSeconds)
  return enqueue(service.store.scriptsFor(call.params.team, call.params.job).executions, script)
}

const nextDeployment: Handler = async (service, call) => {
  const body = await readJson(call.req, 'script')
  const script = parseDeploymentScript(body, service.settings.deploymentSeconds)
  return enqueue(service.store.scriptsFor(call.params.team, call.params.job).deployments, script)
}

const addFault: Handler = async (service, call) =>
  json(201, { id: service.faults.add(await readJson(call.req, 'fault')) })

const changeClock: Handler = async (service, call) => {
  const change = parseClockChange(await readJson(call.req, 'clock change'))
  const clock = service.clock
  if (change.freeze === true) clock.freeze()
  if (change.freeze === false) clock.resume()
  clock.advance(change.advanceSeconds * 1000)
  service.store.persist()
  return json(200, clockView(service))
}

const plainLogs: Handler = (service, call) => {
  const e = executionOr404(service, call)
  const lines = visibleLogLines(e, service.clock.now())
  return raw(200, lines.length ? `${lines.join('\n')}\n` : '', 'text/plain; charset=utf-8')
}

const reset: Handler = service => {
  service.store.reset()
  service.faults.clear()
  service.journal.clear()
  return empty(204)
}

export const ADMIN_ROUTES: Route[] = [
  ['GET', '/_emulator/health', () => json(200, { ok: true, version: EMULATOR_VERSION })],
  ['GET', '/_emulator/config', config],
  ['POST', '/_emulator/jobs/:team/:job/next-execution', nextExecution],
  ['POST', '/_emulator/jobs/:team/:job/next-deployment', nextDeployment],
  ['GET', '/_emulator/faults', service => json(200, service.faults.view())],
  ['POST', '/_emulator/faults', addFault],
  ['DELETE', '/_emulator/faults', service => (service.faults.clear(), empty(204))],
  ['GET', '/_emulator/clock', service => json(200, clockView(service))],
  ['POST', '/_emulator/clock', changeClock],
  ['GET', '/_emulator/notifications', service => json(200, service.store.state.notifications)],
  [
    'DELETE',
    '/_emulator/notifications',
    service => ((service.store.state.notifications = []), empty(204))
  ],
  ['GET', '/_emulator/journal', service => json(200, service.journal.entries)],
  ['DELETE', '/_emulator/journal', service => (service.journal.clear(), empty(204))],
  ['GET', '/_emulator/logs/:team/:job/:id', plainLogs],
  [
    'POST',
    '/_emulator/auth/expire',
    service => ((service.store.state.issued_tokens = {}), empty(204))
  ],
  ['POST', '/_emulator/reset', reset]
]

/** Admin calls need what the API needs (the token, when one is set), and their POSTs a JSON
 * body: a web page's form can send only form or text content types. */
export function refuseAdmin(service: Service, req: IncomingMessage): Reply | undefined {
  const denied = refuseUnauthorized(service, req)
  if (denied) return denied
  const type = req.headers['content-type'] ?? ''
  if (req.method === 'POST' && !JSON_TYPE.test(type)) {
    return json(415, {
      error: 'admin POSTs must be sent with Content-Type: application/json (also without a body)'
    })
  }
  return undefined
}
