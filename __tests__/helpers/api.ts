// How every test talks to the official Data Jobs API of the local Control Service: each call's
// request and response are checked against the official OpenAPI spec (contract.ts). A response
// that breaks the spec fails the call unless the test names the known difference between the real
// service and its spec that explains it (DEVIATIONS, each backed by
// ../shared/reference/vdk-control-service-notes.md); a named difference that the response does not
// show fails the call too, so that the names stay honest.
import { isJsonMediaType, violationKind, type Contract } from './contract.js'

export type DeviationId =
  | 'error-body'
  | 'empty-404'
  | 'empty-409'
  | 'sources-404'
  | 'update-200'
  | 'python-409'
  | 'start-404'
  | 'status-404'
  | 'not-running-400'
  | 'body-400'
  | 'no-secrets-501'
  | 'too-large-413'
  | 'unsupported-415'
  | 'method-405'
  | 'unknown-path-404'
  | 'unauthorized-401'
  | 'injected-fault'
  | 'logs-not-started-503'
  | 'bad-integer-500'

export interface Deviation {
  why: string
  /**
   * Whether this deviation explains every one of `violations` of this response (the Api asks
   * once per violation). `body` is the parsed JSON, the raw Buffer, or undefined when empty.
   */
  applies(
    op: string | undefined,
    status: number,
    body: unknown,
    violations: string[],
    headers?: Headers
  ): boolean
}

/** The error body of handled exceptions of the real service (notes §7), in this exact shape. */
export function isProblemBody(body: unknown): boolean {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false
  const keys = Object.keys(body).sort().join(',')
  return (
    keys === 'consequences,countermeasures,what,why' &&
    Object.values(body).every(v => typeof v === 'string')
  )
}

/** Spring Boot's own error body for requests that reach no controller. */
function isSpringErrorBody(body: unknown, status: number): boolean {
  if (typeof body !== 'object' || body === null) return false
  const b = body as Record<string, unknown>
  return b.status === status && typeof b.error === 'string' && typeof b.path === 'string'
}

const allOfKind = (violations: string[], ...kinds: string[]): boolean =>
  violations.length > 0 && violations.every(v => kinds.includes(violationKind(v)))

/** Operations whose controllers answer "not found" with `ResponseEntity.notFound()` (empty body). */
const EMPTY_404_OPS = new Set([
  'dataJobRead',
  'dataJobUpdate',
  'dataJobDelete',
  'dataJobTeamUpdate',
  'dataJobSourcesDownload',
  'deploymentList',
  'deploymentUpdate',
  'deploymentRead',
  'deploymentPatch',
  'deploymentDelete'
])

/** Operations with a JSON request body (the ones the local service can answer 413/415 for). */
const JSON_BODY_OPS = new Set([
  'dataJobCreate',
  'dataJobUpdate',
  'deploymentUpdate',
  'deploymentPatch',
  'dataJobExecutionStart',
  'dataJobPropertiesUpdate',
  'dataJobSecretsUpdate'
])

export const DEVIATIONS: Record<DeviationId, Deviation> = {
  'error-body': {
    why:
      "Handled errors answer {what, why, consequences, countermeasures} (ExceptionControllerAdvice), not the spec's " +
      'Error {messages: string[]} (components.responses.Error, which every documented 4xx of the REST operations ' +
      'uses). Notes §0.9, §7.',
    applies: (op, status, body, violations) =>
      op !== undefined &&
      status >= 400 &&
      isProblemBody(body) &&
      allOfKind(violations, 'body schema')
  },
  'empty-404': {
    why:
      'Many "not found" answers are ResponseEntity.notFound(): 404 with an empty body, where the spec documents ' +
      '404 with components.responses.Error (application/json). Notes §0.9, §7; §2 and §3 for job/team mismatch.',
    applies: (op, status, body, violations) =>
      op !== undefined &&
      EMPTY_404_OPS.has(op) &&
      status === 404 &&
      body === undefined &&
      allOfKind(violations, 'missing body')
  },
  'empty-409': {
    why:
      'Creating a job that exists answers 409 with an empty body; the spec documents dataJobCreate 409 with ' +
      'components.responses.Error. Notes §6 ("409 (empty body) if it exists").',
    applies: (op, status, body, violations) =>
      op === 'dataJobCreate' &&
      status === 409 &&
      body === undefined &&
      allOfKind(violations, 'missing body')
  },
  'sources-404': {
    why:
      'The sources controller answers an empty 404 unless the job exists with that team (jobWithTeamExists); the ' +
      'spec lists only 200 and 400 for sourcesUpload and sourcesDelete. Notes §1 row 28, §2 (the local service ' +
      'checks the job the same way for delete).',
    applies: (op, status, body, violations) =>
      (op === 'sourcesUpload' || op === 'sourcesDelete') &&
      status === 404 &&
      body === undefined &&
      allOfKind(violations, 'undocumented status')
  },
  'update-200': {
    why: 'PUT job answers 200 (empty); the spec lists 201, 204, 400, 404 for dataJobUpdate. Notes §1 row 5.',
    applies: (op, status, body, violations) =>
      op === 'dataJobUpdate' &&
      status === 200 &&
      body === undefined &&
      allOfKind(violations, 'undocumented status')
  },
  'python-409': {
    why:
      'POST deployments answers 409 (UnsupportedPythonVersionException) for a python_version the service does not ' +
      'support; the spec lists 202, 400, 404 for deploymentUpdate. Notes §1 row 10, §3, §6, §7.',
    applies: (op, status, body, violations) =>
      op === 'deploymentUpdate' &&
      status === 409 &&
      isProblemBody(body) &&
      allOfKind(violations, 'undocumented status')
  },
  'start-404': {
    why:
      'Starting an execution of an unknown or undeployed job answers 404 (DataJobNotFoundException, ' +
      'DataJobDeploymentNotFoundException); the spec lists 202, 400, 409 for dataJobExecutionStart. Notes §4.',
    applies: (op, status, body, violations) =>
      op === 'dataJobExecutionStart' &&
      status === 404 &&
      isProblemBody(body) &&
      allOfKind(violations, 'undocumented status')
  },
  'status-404': {
    why:
      'An unknown execution_status filter value answers 404 (DataJobExecutionStatusNotValidException), not 400. ' +
      'The spec does list 404 (Error) for both execution lists and puts no enum on the parameter, so the only ' +
      'contract violation is the error body; this id also pins the cause (the body names the status). Notes §4, §7.',
    applies: (op, status, body, violations) =>
      (op === 'dataJobExecutionList' || op === 'dataJobDeploymentExecutionList') &&
      status === 404 &&
      isProblemBody(body) &&
      /execution status/i.test(String((body as Record<string, unknown>).what)) &&
      allOfKind(violations, 'body schema')
  },
  'not-running-400': {
    why:
      'Cancelling an execution that is not submitted/running answers 400; the spec lists only 200 and 404 for ' +
      'dataJobExecutionCancel. Notes §1 row 18, §4, §6.',
    applies: (op, status, body, violations) =>
      op === 'dataJobExecutionCancel' &&
      status === 400 &&
      isProblemBody(body) &&
      allOfKind(violations, 'undocumented status')
  },
  'body-400': {
    why:
      'A malformed, missing or non-object JSON body of PUT properties/secrets answers 400 (malformed JSON body, ' +
      'DataJobPropertiesException); the spec lists 201, 204 (properties) and 202, 204, 413 (secrets), no 400. Notes §7.',
    applies: (op, status, body, violations) =>
      (op === 'dataJobPropertiesUpdate' || op === 'dataJobSecretsUpdate') &&
      status === 400 &&
      isProblemBody(body) &&
      allOfKind(violations, 'undocumented status')
  },
  'no-secrets-501': {
    why:
      'Without a secrets backend the secrets API answers 501 (SecretStorageNotConfiguredException); the spec lists ' +
      '200 for dataJobSecretsRead and 202, 204, 413 for dataJobSecretsUpdate. Notes §5, §7.',
    applies: (op, status, body, violations) =>
      (op === 'dataJobSecretsRead' || op === 'dataJobSecretsUpdate') &&
      status === 501 &&
      isProblemBody(body) &&
      allOfKind(violations, 'undocumented status')
  },
  'too-large-413': {
    why:
      'A too large body answers 413 with the error body. The spec documents 413 only for dataJobSecretsUpdate, and ' +
      "with no content; for other JSON bodies 413 is the local service's limit (a real one comes from a proxy, " +
      'notes §2). Notes §1 row 23, §5, §7.',
    applies: (op, status, body, violations) =>
      op !== undefined &&
      JSON_BODY_OPS.has(op) &&
      status === 413 &&
      isProblemBody(body) &&
      allOfKind(
        violations,
        op === 'dataJobSecretsUpdate' ? 'unexpected body' : 'undocumented status'
      )
  },
  'unsupported-415': {
    why:
      'A request body with a Content-Type the operation does not accept answers 415 (Spring MVC); no operation ' +
      'of the spec lists 415.',
    applies: (op, status, body, violations) =>
      op !== undefined &&
      (JSON_BODY_OPS.has(op) || op === 'sourcesUpload') &&
      status === 415 &&
      isProblemBody(body) &&
      allOfKind(violations, 'undocumented status')
  },
  'method-405': {
    why:
      "A method the path does not have answers 405 with Spring Boot's error body {timestamp, status, error, path}; " +
      'the spec has no such operation, so nothing documents the answer.',
    applies: (op, status, body, violations) =>
      op === undefined &&
      status === 405 &&
      isSpringErrorBody(body, 405) &&
      allOfKind(violations, 'no operation')
  },
  'unknown-path-404': {
    why:
      "A path of no controller answers 404 with Spring Boot's error body {timestamp, status, error, path}; the " +
      'spec has no such path.',
    applies: (op, status, body, violations) =>
      op === undefined &&
      status === 404 &&
      isSpringErrorBody(body, 404) &&
      allOfKind(violations, 'no operation')
  },
  'unauthorized-401': {
    why:
      'A missing, invalid or expired bearer token answers 401 (Spring Security) with an empty body and a ' +
      'WWW-Authenticate: Bearer header. The spec declares the global security requirement bearerAuth (http, ' +
      'bearer, JWT) but no operation lists 401. Notes §0.10, §7, §8.',
    applies: (_op, status, body, violations, headers) =>
      status === 401 &&
      body === undefined &&
      /^Bearer\b/i.test(headers?.get('www-authenticate') ?? '') &&
      allOfKind(violations, 'undocumented status', 'no operation')
  },
  'logs-not-started-503': {
    why:
      "Reading the logs while the execution's pod has not started its container (Pending, ContainerCreating) " +
      'answers 503: the kubelet answers 400, wrapped in a KubernetesException, an ExternalSystemError ' +
      '(KubernetesService.java:719-723, JobExecutionService.java:443-448, ExternalSystemError.java:96-101); the ' +
      'spec lists 200, 400, 404 for dataJobLogsDownload. /work/notes/issue19-facts.md §1.',
    applies: (op, status, body, violations) =>
      op === 'dataJobLogsDownload' &&
      status === 503 &&
      isProblemBody(body) &&
      /^KUBERNETES encountered an error: Failed to get logs/.test(
        String((body as Record<string, unknown>).what)
      ) &&
      allOfKind(violations, 'undocumented status')
  },
  'bad-integer-500': {
    why:
      "A query parameter declared integer that is not a Java Integer (abc, 1.5, past int32) fails in Spring's " +
      'conversion; ExceptionControllerAdvice turns it into a Bug, 500 (ExceptionControllerAdvice.java:33-45, ' +
      'Bug.java:30-31). Inferred from the code, not observed. /work/notes/issue19-facts.md §1.',
    applies: (op, status, body, violations) =>
      op !== undefined &&
      status === 500 &&
      isProblemBody(body) &&
      String((body as Record<string, unknown>).what) === 'A coding error (bug) was found.' &&
      allOfKind(violations, 'undocumented status')
  },
  'injected-fault': {
    why:
      'An answer injected through the admin API (/_emulator/faults) to imitate outages and proxies: 429 or 5xx, ' +
      'statuses no operation of the spec documents. The real service answers 500 (Bug) and 503 ' +
      '(ExternalSystemError) on any operation (notes §4, §7), and the official client retries 500/502/503/504 and ' +
      "honours Retry-After (notes §8). Only the fault's own body (or a custom fault body) is accepted, so an " +
      'unexpected 500 of the local service itself is not hidden.',
    applies: (op, status, body, violations) =>
      op !== undefined &&
      (status === 429 || (status >= 500 && status <= 599)) &&
      (isProblemBody(body)
        ? /^Injected fault\b/.test(String((body as Record<string, unknown>).what))
        : true) &&
      allOfKind(violations, 'undocumented status')
  }
}

export interface CallOptions {
  json?: unknown
  body?: Buffer | string
  headers?: Record<string, string>
  token?: string
  /** names of known differences between the real service and its spec that this call is expected to show */
  deviations?: DeviationId[]
  /** the request is deliberately invalid (a bad-input test): say why; its violations are then expected, not failures */
  invalidRequest?: string
}

export interface ApiResponse {
  status: number
  headers: Headers
  /** The body decoded as UTF-8 ('' when empty). */
  text: string
  /** The parsed body when the response is JSON, else undefined. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON of any shape
  json: any
  /** The raw body (e.g. the zip of a sources download). */
  buffer: Buffer
  operationId?: string
  /** Violations of the request (only with `invalidRequest`) and of the response (explained by `deviations`). */
  violations: { request: string[]; response: string[] }
}

export interface CallLogEntry {
  operationId?: string
  method: string
  path: string
  /** 0 when no response arrived. */
  status: number
  deviations: DeviationId[]
}

const bullets = (lines: string[]): string => lines.map(l => `  - ${l}`).join('\n')

function bodyPreview(text: string): string {
  if (!text) return '(empty body)'
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text
}

export class Api {
  /** Every request this Api sent, in order (a call refused by the request check is not sent). */
  readonly log: CallLogEntry[] = []

  constructor(
    private readonly baseUrl: string,
    private readonly contract: Contract
  ) {}

  async call(method: string, path: string, opts: CallOptions = {}): Promise<ApiResponse> {
    const verb = method.toUpperCase()
    const what = `${verb} ${path}`
    if (opts.json !== undefined && opts.body !== undefined)
      throw new Error(`${what}: give json or body, not both`)
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k.toLowerCase()] = v
    let sent: string | Buffer | undefined
    let checked: unknown
    if (opts.json !== undefined) {
      sent = JSON.stringify(opts.json)
      checked = opts.json
      headers['content-type'] ??= 'application/json'
    } else if (opts.body !== undefined) {
      sent = opts.body
      checked = opts.body
      // what fetch would add by itself for a string body, made explicit so that it is checked too
      if (typeof sent === 'string') headers['content-type'] ??= 'text/plain;charset=UTF-8'
    }
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`

    const operationId = this.contract.operationFor(verb, path)
    const requestViolations = this.contract.validateRequest({
      method: verb,
      path,
      headers,
      body: checked
    })
    if (opts.invalidRequest === undefined && requestViolations.length) {
      throw new Error(
        `${what}: the request violates the spec (not sent):\n${bullets(requestViolations)}`
      )
    }
    if (opts.invalidRequest !== undefined && !requestViolations.length) {
      throw new Error(
        `${what}: the request is valid for the spec, but the call claims it is not ("${opts.invalidRequest}") (not sent)`
      )
    }

    const entry: CallLogEntry = { operationId, method: verb, path, status: 0, deviations: [] }
    this.log.push(entry)
    const res = await fetch(new URL(path, this.baseUrl), {
      method: verb,
      headers,
      body: sent === undefined ? undefined : typeof sent === 'string' ? sent : new Uint8Array(sent)
    })
    entry.status = res.status
    const raw = Buffer.from(await res.arrayBuffer())
    const text = raw.toString('utf8')
    const contentType = res.headers.get('content-type') ?? undefined

    const responseViolations: string[] = []
    let json: unknown = undefined
    let checkedBody: unknown = undefined
    if (raw.length) {
      if (isJsonMediaType(contentType)) {
        try {
          json = JSON.parse(text) as unknown
          checkedBody = json
        } catch (e) {
          responseViolations.push(
            `invalid JSON: the ${res.status} body does not parse: ${(e as Error).message}`
          )
          checkedBody = text
        }
      } else {
        checkedBody = /^text\//i.test(contentType ?? '') ? text : raw
      }
    }
    if (operationId) {
      responseViolations.push(
        ...this.contract.validateResponse(operationId, res.status, checkedBody, contentType)
      )
    } else {
      responseViolations.push(
        `no operation: ${verb} ${path.split('?')[0]} is no operation of the spec, so its ${res.status} answer is undocumented`
      )
    }

    const named = [...new Set(opts.deviations ?? [])]
    const explains = (id: DeviationId, v: string): boolean =>
      DEVIATIONS[id].applies(operationId, res.status, checkedBody, [v], res.headers)
    const unexplained = responseViolations.filter(v => !named.some(id => explains(id, v)))
    const stale = named.filter(id => !responseViolations.some(v => explains(id, v)))
    const problems: string[] = []
    if (unexplained.length) {
      const hints = (Object.keys(DEVIATIONS) as DeviationId[]).filter(id =>
        DEVIATIONS[id].applies(operationId, res.status, checkedBody, unexplained, res.headers)
      )
      problems.push(
        `the ${res.status} response violates the spec${named.length ? ` beyond the named deviations (${named.join(', ')})` : ''}:`,
        bullets(unexplained),
        hints.length
          ? `  (known deviation${hints.length > 1 ? 's' : ''} that would explain this: ${hints.join(', ')})`
          : '  (no known deviation explains this)'
      )
    }
    if (stale.length) {
      problems.push(
        `the call names deviation${stale.length > 1 ? 's' : ''} ${stale.join(', ')}, but the ${res.status} response shows ${stale.length > 1 ? 'them' : 'it'} nowhere` +
          (responseViolations.length
            ? ` (its violations:\n${bullets(responseViolations)})`
            : ' (it has no violation)')
      )
    }
    if (problems.length) {
      const binary =
        raw.length > 0 && !isJsonMediaType(contentType) && !/^text\//i.test(contentType ?? '')
      const shown = binary
        ? `<${raw.length} bytes of ${contentType ?? 'unknown type'}>`
        : bodyPreview(text)
      throw new Error(
        `${what} (${operationId ?? 'no operation'}):\n${problems.join('\n')}\nbody: ${shown}`
      )
    }
    entry.deviations = named
    return {
      status: res.status,
      headers: res.headers,
      text,
      json,
      buffer: raw,
      operationId,
      violations: { request: requestViolations, response: responseViolations }
    }
  }
}
