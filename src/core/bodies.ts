// The bodies of the transport's requests (http.ts): what goes out, made from a request's spec,
// and what comes in, read as a stream up to a cap, so that a hostile or broken answer (a proxy
// streaming forever) cannot fill the memory.
import type { Readable } from 'node:stream'
import { ControlServiceError } from './errors.js'

export const MiB = 1024 * 1024

/**
 * The largest answer read by default (a JSON answer). The largest the Control Service gives are
 * lists: a job's executions (it keeps at most 100 per job by default,
 * datajobs.executions.cleanupJob.maximumExecutionsToStore in
 * projects/control-service/projects/pipelines_control_service/src/main/resources/application.properties),
 * about 1 KiB each, and GraphQL pages of the size asked for (5 or so). 32 MiB is far above any of
 * them, and keeps a hostile or broken answer (a proxy streaming forever) from filling the memory:
 * reading holds at most twice the cap (the pieces, then the joined text).
 */
export const MAX_ANSWER_BYTES = 32 * MiB

/**
 * The largest log answer read (RequestSpec.maxBytes of the logs reads). The service reads a pod's
 * current log (KubernetesService.getJobLogs), which Kubernetes rotates at 10 MiB by default; a
 * log store behind logs_url may hold more. Past this, tail-lines is the way to read them.
 */
export const MAX_LOG_BYTES = 256 * MiB

/** The most of an error page that is read: the message shows 300 characters of it at most. */
export const MAX_ERROR_PAGE_BYTES = 64 * 1024

/** What a request sends: its JSON, or a body made by its factory, with its type. */
export interface BodySource {
  operation: string
  json?: unknown
  /** A factory, so that a retried attempt sends a fresh stream. */
  body?: () => Readable | Buffer | string
  contentType?: string
  /** The length of a streamed body, sent as Content-Length (without it, a stream is chunked). */
  contentLength?: number
}

/** A request's body and the headers that describe it; none for a request without one. */
export function requestBody(
  spec: BodySource,
  opId: string
): { body?: Readable | Buffer | string; headers: Record<string, string> } {
  if (spec.json !== undefined) {
    try {
      return { body: JSON.stringify(spec.json), headers: { 'content-type': 'application/json' } }
    } catch (e) {
      // a value too deep for JSON.stringify (the inputs are checked first): ours, not the network's
      throw new ControlServiceError({
        operation: spec.operation,
        kind: 'protocol',
        detail: `the request cannot be written as JSON (${(e as Error).message})`,
        opId
      })
    }
  }
  if (!spec.body) return { headers: {} }
  const headers: Record<string, string> = {
    'content-type': spec.contentType ?? 'application/octet-stream'
  }
  if (spec.contentLength !== undefined) headers['content-length'] = String(spec.contentLength)
  return { body: spec.body(), headers }
}

/**
 * A body as text, read as a stream so that memory stays bounded: past `limit` bytes (or when
 * Content-Length says it will be), the rest is not downloaded: undefined, or with 'cut' the text
 * of the first `limit` bytes. The bytes are kept as they came and decoded once at the end: at most
 * twice the body's size is held (the pieces, then the text), and only the pieces when it is cut.
 * `tally.bytes` grows by each piece read.
 */
export async function readCapped(
  body: Readable,
  limit: number,
  contentLength?: string,
  overflow: 'fail' | 'cut' = 'fail',
  tally?: { bytes: number }
): Promise<string | undefined> {
  // what is left is not wanted: the connection is closed (undici reports that as an error)
  const discard = (): void => {
    body.on('error', () => undefined)
    body.destroy()
  }
  if (overflow === 'fail' && Number(contentLength) > limit) {
    discard()
    return undefined
  }
  const chunks: Buffer[] = []
  let bytes = 0
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk)
    bytes += chunk.length
    if (tally) tally.bytes += chunk.length
    if (bytes > limit) {
      discard()
      if (overflow === 'fail') return undefined
      break
    }
  }
  const whole = Buffer.concat(chunks, Math.min(bytes, limit))
  // the pieces go before the text is made
  chunks.length = 0
  return whole.toString('utf8')
}

/** undici's headers as one string each (a repeated header's values joined). */
export function flatHeaders(
  raw: Record<string, string | string[] | undefined>
): Record<string, string> {
  const flat: Record<string, string> = {}
  for (const [name, value] of Object.entries(raw))
    flat[name] = (Array.isArray(value) ? value.join(', ') : value) ?? ''
  return flat
}
