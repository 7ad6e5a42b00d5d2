// Request bodies: read up to a cap (413 past it, still answered), parsed as JSON with the errors
// the real service gives, and what is left of a body once its answer is decided.
import type { IncomingMessage } from 'node:http'
import { fail, problem } from './reply.js'

/** The largest JSON body the API takes (a secrets body has its own, smaller cap). */
export const MAX_JSON_BYTES = 16 * 1024 * 1024
/** What is left of a refused body is read and dropped up to this much, so that the client, still
 * sending, reads the answer; past it the connection is closed. Tomcat's default maxSwallowSize
 * (the real service runs Spring Boot's Tomcat: spring-boot-starter-web in its build.gradle). */
const SWALLOW_BYTES = 2 * 1024 * 1024
export const JSON_TYPE = /^application\/(.+\+)?json\b/i

/** A value from a request, for an error message. */
export const show = (v: unknown): string =>
  typeof v === 'string' ? v : (JSON.stringify(v) ?? 'nothing')

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** The whole body, or a 413 as soon as it passes `limit` bytes (by its Content-Length or read). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = (): never =>
    fail(
      problem(
        413,
        'The request body is too large.',
        `It exceeds ${limit} bytes.`,
        'Send a smaller body.'
      )
    )
  if (Number(req.headers['content-length']) > limit) tooLarge()
  const chunks: Buffer[] = []
  let size = 0
  // not destroyed past the limit (that would drop the connection): the 413 must reach the client
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) tooLarge()
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

/** The JSON body, named `what` in the errors; undefined for none when it is not `required`. */
export async function readJson(
  req: IncomingMessage,
  what: string,
  { required = true, limit = MAX_JSON_BYTES } = {}
): Promise<unknown> {
  const type = req.headers['content-type']
  const text = (await readBody(req, limit)).toString('utf8')
  if (!text.trim()) {
    if (!required) return undefined
    fail(
      problem(
        400,
        `The ${what} is missing.`,
        'The request has no body.',
        `Send the ${what} as a JSON body.`
      )
    )
  }
  if (type && !JSON_TYPE.test(type)) {
    fail(
      problem(
        415,
        `Content type '${type}' is not supported.`,
        `The ${what} must be sent as JSON.`,
        'Send the body with Content-Type: application/json.'
      )
    )
  }
  try {
    return JSON.parse(text) as unknown
  } catch (e) {
    return fail(
      problem(
        400,
        `The ${what} is not valid JSON.`,
        `JSON parse error: ${(e as Error).message}`,
        'Fix the JSON syntax of the request body.'
      )
    )
  }
}

export const requireObject = (v: unknown, what: string): Record<string, unknown> =>
  isObject(v)
    ? v
    : fail(
        problem(
          400,
          `The ${what} must be a JSON object.`,
          `Got ${JSON.stringify(v)?.slice(0, 80)}.`,
          `Send a JSON object.`
        )
      )

/**
 * What is left of a request's body once its answer is decided is read and dropped, up to
 * SWALLOW_BYTES; past that the connection is closed. (Node would otherwise read all of it.)
 */
export function swallow(req: IncomingMessage): void {
  if (req.complete || req.destroyed) return
  let left = SWALLOW_BYTES
  req.on('data', (chunk: Buffer) => {
    left -= chunk.length
    if (left < 0) req.socket.destroy()
  })
  req.resume()
}
