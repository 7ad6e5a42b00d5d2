// The official Data Jobs API contract (the OpenAPI spec of the VDK Control Service), as a checker
// of requests and responses. openapi-backend does the routing and the JSON-schema work; this file
// adds what it does not check: whether a status is documented at all, empty vs. present bodies,
// content types, and the raw (application/octet-stream) upload.
//
// The spec is not strictly valid OpenAPI 3.0 (`DataJobConfig.schedule` is a `$ref` with a sibling
// `deprecated`), so it is loaded leniently: parsed with `yaml`, then given to openapi-backend in
// `quick` mode, which skips openapi-backend's validation of the document and dereferences it
// synchronously (sibling keys of a `$ref` are dropped). Its problems are listed by `specProblems()`.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runInThisContext } from 'node:vm'
import type { Document, OpenAPIBackend, Options, ValidationResult } from 'openapi-backend'
import { parse as parseYaml } from 'yaml'

type BackendClass = new (opts: Options) => OpenAPIBackend

/**
 * openapi-backend's class. The pinned 5.20 (json-schema-ref-parser 11, see package.json) loads
 * through Jest. From 5.21 on, openapi-backend is CommonJS and require()s the ESM-only
 * @apidevtools/json-schema-ref-parser 16; Jest's CommonJS loader refuses that before Node 24.9
 * ("Must use import to load ES Module"), while Node's own require() can (require(esm), Node
 * >= 20.19). So when Jest's import fails, openapi-backend is loaded by Node's require, taken from
 * Node's main context: outside Jest's module registry, which is harmless for a pure library.
 */
async function openApiBackendClass(): Promise<BackendClass> {
  try {
    return (await import('openapi-backend')).OpenAPIBackend
  } catch (jestError) {
    try {
      const nodeProcess = runInThisContext('process') as NodeJS.Process
      const nodeRequire = nodeProcess.getBuiltinModule('node:module').createRequire(import.meta.url)
      return (nodeRequire('openapi-backend') as { OpenAPIBackend: BackendClass }).OpenAPIBackend
    } catch (nodeError) {
      throw new Error(
        `cannot load openapi-backend: ${String(jestError)}; with Node's require: ${String(nodeError)}`,
        { cause: nodeError }
      )
    }
  }
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** The official spec, a byte-identical copy kept beside the repository (../shared/reference/). */
export const SPEC_PATH: string = resolve(
  REPO_ROOT,
  '..',
  'shared',
  'reference',
  'vdk-datajob-api.yaml'
)

export function specAvailable(): boolean {
  return existsSync(SPEC_PATH)
}

/** The part of a dereferenced operation object that is read here. */
interface MediaTypeSpec {
  schema?: unknown
}
interface ResponseSpec {
  description?: string
  content?: Record<string, MediaTypeSpec>
}
interface OperationSpec {
  operationId?: string
  path: string
  method: string
  requestBody?: { required?: boolean; content?: Record<string, MediaTypeSpec> }
  responses?: Record<string, ResponseSpec>
  security?: Array<Record<string, string[]>>
}

type AjvError = NonNullable<ValidationResult['errors']>[number]

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const

/** RFC 3339 date-time, the one format of the spec that openapi-backend does not define. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/

/** A function rather than the RegExp itself: openapi-backend may run in Node's main realm (see
 * openApiBackendClass), where ajv's `instanceof RegExp` is false for a RegExp of Jest's realm. */
const isDateTime = (s: string): boolean => DATE_TIME.test(s) && !Number.isNaN(Date.parse(s))

/** Characters allowed unencoded in a URL path (RFC 3986 pchar and '/'), plus percent escapes. */
const ENCODED_PATH = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/

/** The media type of a Content-Type value, lowercase, without parameters. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase()
}

export function isJsonMediaType(contentType: string | undefined): boolean {
  return /^application\/(?:[\w.-]+\+)?json$/.test(mediaType(contentType))
}

/**
 * The kind of a violation: the text before its first colon. Every message below starts with one
 * of these, so that the deviations of api.ts can match violations by kind.
 */
export type ViolationKind =
  | 'no operation'
  | 'path'
  | 'path parameter'
  | 'query'
  | 'query parameter'
  | 'header'
  | 'content type'
  | 'missing body'
  | 'unexpected body'
  | 'invalid JSON'
  | 'request body'
  | 'undocumented status'
  | 'body schema'

export function violationKind(violation: string): string {
  return violation.slice(0, Math.max(0, violation.indexOf(':')))
}

function isEmptyBody(body: unknown): boolean {
  return (
    body === undefined ||
    body === '' ||
    (Buffer.isBuffer(body) && body.length === 0) ||
    (body instanceof Uint8Array && body.length === 0)
  )
}

function preview(body: unknown): string {
  const text = Buffer.isBuffer(body)
    ? `<${body.length} bytes>`
    : typeof body === 'string'
      ? body
      : JSON.stringify(body)
  return text.length > 200 ? `${text.slice(0, 200)}…` : text
}

function ajvDetail(e: AjvError): string {
  const p = e.params as Record<string, unknown>
  if (Array.isArray(p.allowedValues))
    return ` (${p.allowedValues.map(v => JSON.stringify(v)).join(', ')})`
  if (typeof p.additionalProperty === 'string') return ` ('${p.additionalProperty}')`
  return ''
}

/** One readable line per ajv error of an openapi-backend request validation. */
function describeRequestError(e: AjvError): string {
  const [, section = '', ...rest] = e.instancePath.split('/')
  const where = rest.length ? `/${rest.join('/')}` : ''
  const message = `${e.message ?? e.keyword}${ajvDetail(e)}`
  switch (section) {
    case 'requestBody':
      return `request body: ${where || '(root)'} ${message}`
    case 'query':
    case 'path':
    case 'header': {
      const kind = section === 'header' ? 'header' : `${section} parameter`
      if (!where && e.keyword === 'additionalProperties') {
        return `${section}: unknown parameter '${String((e.params as Record<string, unknown>).additionalProperty)}'`
      }
      if (!where && e.keyword === 'required') {
        return `${section}: missing required parameter '${String((e.params as Record<string, unknown>).missingProperty)}'`
      }
      return `${kind}: ${rest.join('/')} ${message}`
    }
    default:
      return `request body: ${e.instancePath || '(root)'} ${message}`
  }
}

/** The spec's own problems, as openapi-backend's validator of OpenAPI documents reports them. */
function definitionProblems(Backend: BackendClass, document: Document): string[] {
  const checker = new Backend({ definition: document, quick: true })
  checker.document = document
  try {
    checker.validateDefinition()
    return []
  } catch (e) {
    const text = (e as Error).message
    const json = /validation errors:\n([\s\S]*)$/.exec(text)?.[1]
    if (!json) return [text]
    const errors = JSON.parse(json) as Array<{
      instancePath: string
      message?: string
      params?: unknown
    }>
    return errors.map(x =>
      `${x.instancePath} ${x.message ?? ''} ${JSON.stringify(x.params ?? {})}`.trim()
    )
  }
}

export interface RequestToCheck {
  method: string
  /** Percent-encoded path, optionally with a query string. */
  path: string
  headers: Record<string, string>
  /** The parsed JSON value (JSON bodies), or the raw bytes/text as sent. */
  body?: unknown
}

export class Contract {
  private static loading: Promise<Contract> | undefined
  private problems: string[] | undefined

  private constructor(
    private readonly Backend: BackendClass,
    private readonly api: OpenAPIBackend,
    private readonly text: string
  ) {}

  /** The spec as a checker; loaded once per test file (a Contract holds no per-call state). */
  static load(): Promise<Contract> {
    Contract.loading ??= Contract.read()
    return Contract.loading
  }

  private static async read(): Promise<Contract> {
    if (!specAvailable()) throw new Error(`the OpenAPI spec is not at ${SPEC_PATH}`)
    return Contract.fromText(readFileSync(SPEC_PATH, 'utf8'), SPEC_PATH)
  }

  /**
   * A checker of another OpenAPI document, given as JSON or YAML text (GitHub's REST description,
   * pruned to the operations the tests use: github-contract.ts). `where` names it in errors;
   * `formats` are string formats of that document beyond date-time (functions, see isDateTime).
   */
  static async fromText(
    text: string,
    where: string,
    formats: Record<string, (s: string) => boolean> = {}
  ): Promise<Contract> {
    const Backend = await openApiBackendClass()
    const api = new Backend({
      definition: parseYaml(text) as Document,
      // lenient: do not validate the document itself (it is not strictly valid OpenAPI 3.0)
      quick: true,
      strict: false,
      ignoreTrailingSlashes: false,
      ajvOpts: { allErrors: true, formats: { 'date-time': isDateTime, ...formats } }
    })
    await api.init()
    if (!api.getOperations().length) throw new Error(`no operations found in ${where}`)
    return new Contract(Backend, api, text)
  }

  /** Why the spec is not valid OpenAPI 3.0 (it is used anyway; see the file comment). */
  specProblems(): string[] {
    this.problems ??= definitionProblems(this.Backend, parseYaml(this.text) as Document)
    return this.problems
  }

  /** All operation ids of the spec. */
  operationIds(): string[] {
    return this.api.getOperations().map(op => op.operationId ?? `${op.method} ${op.path}`)
  }

  operationFor(method: string, path: string): string | undefined {
    const pathname = path.split('?')[0]
    return this.api.matchOperation({ method: method.toLowerCase(), path: pathname, headers: {} })
      ?.operationId
  }

  /** The documented response keys of an operation ('200', '4XX', 'default', ...). */
  documentedStatuses(operationId: string): string[] {
    return Object.keys(this.operation(operationId).responses ?? {})
  }

  /** Whether the spec requires authentication for the operation (its own or the global `security`). */
  securityRequired(operationId: string): boolean {
    const op = this.operation(operationId)
    const requirements = op.security ?? this.api.definition.security ?? []
    // an empty requirement object ({}) makes authentication optional
    return requirements.length > 0 && requirements.every(r => Object.keys(r).length > 0)
  }

  validateRequest(r: RequestToCheck): string[] {
    const [pathname, query] = splitOnce(r.path, '?')
    const method = r.method.toUpperCase()
    const violations: string[] = []
    if (!ENCODED_PATH.test(pathname)) violations.push(`path: '${pathname}' is not percent-encoded`)
    const opId = this.operationFor(method, pathname)
    if (!opId) {
      const allowed = METHODS.filter(m => this.operationFor(m, pathname)).map(m => m.toUpperCase())
      violations.push(
        allowed.length
          ? `no operation: the spec has no ${method} ${pathname} (the path allows ${allowed.join(', ')})`
          : `no operation: no path of the spec matches ${pathname}`
      )
      return violations
    }
    const op = this.operation(opId)
    const headers = Object.fromEntries(
      Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), v])
    )
    const contentType = headers['content-type']
    const accepted = Object.keys(op.requestBody?.content ?? {})
    let jsonBody: { value: unknown } | undefined

    if (isEmptyBody(r.body)) {
      if (op.requestBody?.required) {
        violations.push(`missing body: ${opId} requires a request body (${accepted.join(', ')})`)
      }
    } else if (!op.requestBody) {
      violations.push(`unexpected body: ${opId} takes no request body, got ${preview(r.body)}`)
    } else if (!contentType) {
      violations.push(
        `content type: the request body has no Content-Type (${opId} accepts ${accepted.join(', ')})`
      )
    } else if (!accepted.includes(mediaType(contentType))) {
      violations.push(
        `content type: ${opId} does not accept '${contentType}' (spec: ${accepted.join(', ')})`
      )
    } else if (isJsonMediaType(contentType)) {
      if (typeof r.body === 'string' || Buffer.isBuffer(r.body)) {
        try {
          jsonBody = { value: JSON.parse(r.body.toString('utf8')) as unknown }
        } catch (e) {
          violations.push(
            `invalid JSON: the request body of ${opId} does not parse: ${(e as Error).message}`
          )
        }
      } else {
        jsonBody = { value: r.body }
      }
    }
    // (an application/octet-stream body only needs the right type and some bytes: checked above)

    const result = this.api.validateRequest(
      {
        method: method.toLowerCase(),
        path: pathname,
        query: query ?? '',
        headers,
        ...(jsonBody ? { body: jsonBody.value } : {})
      },
      opId
    )
    for (const e of result.errors ?? []) {
      // the presence of the body is checked above, for every media type alike
      if (
        e.keyword === 'required' &&
        (e.params as Record<string, unknown>).missingProperty === 'requestBody'
      )
        continue
      violations.push(describeRequestError(e))
    }
    return violations
  }

  validateResponse(
    operationId: string,
    status: number,
    body: unknown,
    contentType?: string
  ): string[] {
    const op = this.operation(operationId)
    const responses = op.responses ?? {}
    const key = [String(status), `${Math.floor(status / 100)}XX`, 'default'].find(
      k => k in responses
    )
    if (!key) {
      return [
        `undocumented status: ${operationId} answered ${status}; the spec lists ${Object.keys(responses).join(', ') || 'no responses'}`
      ]
    }
    const at = `${operationId} ${status}`
    const content = responses[key].content ?? {}
    const types = Object.keys(content)
    if (!types.length) {
      return isEmptyBody(body)
        ? []
        : [
            `unexpected body: ${at} has a body, but the spec documents none for ${key}: ${preview(body)}`
          ]
    }
    if (isEmptyBody(body)) {
      return [
        `missing body: ${at} has an empty body; the spec documents ${types.join(', ')} for ${key}`
      ]
    }
    const violations: string[] = []
    const type = mediaType(contentType)
    if (contentType !== undefined && !types.some(t => mediaTypeMatches(t, type))) {
      violations.push(
        `content type: ${at} answered '${contentType}'; the spec documents ${types.join(', ')}`
      )
    }
    const validatesAsJson =
      content['application/json']?.schema !== undefined &&
      (contentType === undefined ? !Buffer.isBuffer(body) : isJsonMediaType(contentType))
    if (validatesAsJson) {
      const result = this.api.validateResponse(body, operationId, status)
      for (const e of result.errors ?? []) {
        violations.push(
          `body schema: ${at} ${e.instancePath || '(root)'} ${e.message ?? e.keyword}${ajvDetail(e)}`
        )
      }
    }
    return violations
  }

  private operation(operationId: string): OperationSpec {
    // the definition is dereferenced: no reference objects remain in operations
    const op = this.api.getOperation(operationId) as OperationSpec | undefined
    if (!op) throw new Error(`the spec has no operation '${operationId}'`)
    return op
  }
}

function mediaTypeMatches(documented: string, actual: string): boolean {
  if (documented === actual || documented === '*/*') return true
  return documented.endsWith('/*') && actual.startsWith(documented.slice(0, -1))
}

function splitOnce(text: string, sep: string): [string, string | undefined] {
  const i = text.indexOf(sep)
  return i < 0 ? [text, undefined] : [text.slice(0, i), text.slice(i + 1)]
}
