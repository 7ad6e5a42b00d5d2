// One error type for every failure of a Control Service call, whatever its cause: the real
// service's body (what / why / consequences / countermeasures), the spec's `messages`, an empty
// body, a network fault, a timeout. Its message is what a person reads: the operation, the HTTP
// status, and what to do — never a token, never a stack trace. Text from the server in it is inert:
// one line, no control characters, each field cut to 300 characters.
import { inert } from './text.js'

export type FailureKind = 'http' | 'network' | 'timeout' | 'aborted' | 'auth' | 'protocol'

export interface ServiceErrorBody {
  what?: string
  why?: string
  consequences?: string
  countermeasures?: string
  messages?: string[]
}

export interface ControlServiceErrorInit {
  operation: string
  kind: FailureKind
  status?: number
  body?: ServiceErrorBody
  text?: string
  opId?: string
  detail?: string
  hint?: string
  attempts?: number
  cause?: unknown
}

/** A failed call to the Control Service. */
export class ControlServiceError extends Error {
  readonly operation: string
  readonly kind: FailureKind
  readonly status?: number
  readonly body?: ServiceErrorBody
  readonly opId?: string
  readonly attempts: number
  /** The answer's body when it was not JSON (a proxy's page), as received. */
  readonly text?: string

  constructor(init: ControlServiceErrorInit) {
    super(describe(init), init.cause === undefined ? undefined : { cause: init.cause })
    this.name = 'ControlServiceError'
    this.operation = init.operation
    this.kind = init.kind
    this.status = init.status
    this.body = init.body
    this.opId = init.opId
    this.attempts = init.attempts ?? 1
    this.text = init.text
  }
}

/** An expected failure of an action after it started (not a bug): its message is the reason. */
export class ActionFailure extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ActionFailure'
  }
}

/** A problem to show on a file (and line): an annotation, and part of the error line. */
export interface FileProblem {
  file: string
  line?: number
  message: string
}

/** Bad input: found before any request is sent; `annotations` put file problems on their lines. */
export class InputError extends Error {
  constructor(
    message: string,
    readonly annotations: FileProblem[] = []
  ) {
    super(message)
    this.name = 'InputError'
  }
}

/** The most characters shown of one field of the server's (what, why, a message, a page's text). */
const FIELD_CHARS = 300
/** The most of the server's `messages` shown. */
const MAX_MESSAGES = 5

/** A field from the server, in one line: white space (line breaks too) as one space, cut. */
function field(s: string): string {
  const one = s.replace(/\s+/g, ' ').trim()
  return one.length > FIELD_CHARS ? `${one.slice(0, FIELD_CHARS - 1)}…` : one
}

const sentence = (s: string): string => {
  const t = s.trim()
  // a sentence starts with a capital, but a path or a name keeps its case
  const capital = /^[a-z]+[ ,]/.test(t) ? t.charAt(0).toUpperCase() + t.slice(1) : t
  return capital && !/[.!?]$/.test(capital) ? `${capital}.` : capital
}

/** Hints for answers that come without a body a person can act on. */
function statusHint(status: number): string {
  if (status === 401)
    return 'The access token is missing, invalid or expired: check access-token, or api-token and api-token-authorization-url.'
  if (status === 403)
    return 'The token is valid but not allowed to do this: check the team and the permissions of the token.'
  if (status === 404)
    return 'Not found: check the spelling of the team and job names, and that the job exists (upload-sources creates it).'
  if (status === 409) return 'The request conflicts with the current state of the job.'
  if (status === 413) return 'The request is too large for the service.'
  if (status === 429) return 'The service is rate-limiting requests: retry later.'
  if (status >= 500)
    return 'The Control Service failed: retry later, or ask its operators (quote the op id).'
  return ''
}

function describe(init: ControlServiceErrorInit): string {
  const head = `${init.operation} failed`
  const tried = init.attempts && init.attempts > 1 ? ` after ${init.attempts} attempts` : ''
  const opId = init.opId ? ` (op id ${init.opId})` : ''
  if (init.kind !== 'http') {
    const parts = [init.detail, init.hint].filter(Boolean).map(s => sentence(s as string))
    return inert(`${head}${tried}: ${parts.join(' ')}${opId}`)
  }
  const b = init.body
  const parts: string[] = []
  if (b?.what || b?.why || b?.countermeasures) {
    if (b.what) parts.push(sentence(field(b.what)))
    if (b.why) parts.push(sentence(field(b.why)))
    if (b.countermeasures) parts.push(sentence(field(b.countermeasures)))
  } else if (b?.messages?.length) {
    parts.push(...b.messages.slice(0, MAX_MESSAGES).map(m => sentence(field(m))))
    const more = b.messages.length - MAX_MESSAGES
    if (more > 0) parts.push(`(and ${more} more messages)`)
  } else if (init.text?.trim()) {
    parts.push(sentence(field(init.text)))
  }
  if (init.hint) parts.push(sentence(init.hint))
  else if (!b?.countermeasures && init.status) parts.push(statusHint(init.status))
  // the operation and details may hold text from outside too: the line as a whole is inert
  return inert(
    `${head}${tried} (HTTP ${init.status}): ${parts.filter(Boolean).join(' ')}${opId}`.trim()
  )
}

/** The service's error fields, if the body has any of them. */
export function parseErrorBody(text: string): ServiceErrorBody | undefined {
  if (!text.trim()) return undefined
  try {
    const v = JSON.parse(text) as unknown
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined
    const o = v as Record<string, unknown>
    const str = (k: string) => (typeof o[k] === 'string' ? o[k] : undefined)
    const body: ServiceErrorBody = {
      // the service's own fields; else OAuth's (error, error_description) or Spring's (error, message)
      what: str('what') ?? str('error'),
      why: str('why') ?? str('error_description') ?? str('message'),
      consequences: str('consequences'),
      countermeasures: str('countermeasures'),
      messages: Array.isArray(o.messages)
        ? o.messages.filter((m): m is string => typeof m === 'string')
        : undefined
    }
    return body.what || body.why || body.countermeasures || body.messages?.length ? body : undefined
  } catch {
    return undefined
  }
}
