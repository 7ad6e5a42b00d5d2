// The HTTP seam against a hostile or broken server of the test's own on loopback: answers past
// their size cap (streamed, or announced by Content-Length) end as one non-retried protocol error
// without being downloaded; error pages are read only as far as a message shows them; JSON nested
// deeper than any answer of the Control Service is refused in one line; text from the server in an
// error message is inert (one line, no control characters) and cut; a request stuck before or in
// its answer ends when the cancellation signal fires; and the last-resort timer after SIGTERM ends
// the process with one line.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Readable } from 'node:stream'
import { jest } from '@jest/globals'
import { ControlServiceClient, jobRef, MAX_JSON_DEPTH } from '../../src/core/client.js'
import { ControlServiceError } from '../../src/core/errors.js'
import {
  MAX_ANSWER_BYTES,
  MAX_ERROR_PAGE_BYTES,
  MAX_LOG_BYTES,
  Transport,
  type RequestSpec,
  type TransportOptions
} from '../../src/core/http.js'
import { STOP_GRACE_MS, stopAfterGrace } from '../../src/actions/runtime.js'

type Handler = (req: IncomingMessage, res: ServerResponse) => void

let server: Server
let base: string
let handler: Handler
/** `METHOD path` of every request the server received in this test. */
let seen: string[] = []
/** Resolves each time a request arrives (for tests that wait on the server to have seen one). */
let arrived: () => void = () => undefined
let transports: Transport[] = []

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`)
    arrived()
    handler(req, res)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterEach(async () => {
  server.closeAllConnections()
  await Promise.all(transports.map(t => t.close()))
  transports = []
  seen = []
})

afterAll(async () => {
  await new Promise(resolve => server.close(resolve))
})

const noSleep = (): Promise<void> => Promise.resolve()
const MiB = 1024 * 1024

function transport(o: Partial<TransportOptions> = {}): Transport {
  const t = new Transport({ baseUrl: base, userAgent: 'test', env: {}, sleep: noSleep, ...o })
  transports.push(t)
  return t
}

const GET = (more: Partial<RequestSpec> = {}): RequestSpec => ({
  operation: 'read the thing',
  method: 'GET',
  path: '/thing',
  idempotent: true,
  ...more
})

async function failure(call: Promise<unknown>): Promise<ControlServiceError> {
  const e = await call.then(
    () => new Error('it succeeded'),
    (err: unknown) => err
  )
  expect(e).toBeInstanceOf(ControlServiceError)
  return e as ControlServiceError
}

/** One line: no line break, no control character but the tab, no stack. */
function expectOneLine(message: string): void {
  // eslint-disable-next-line no-control-regex -- finding them is the point
  expect(message).not.toMatch(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/)
  expect(message).not.toMatch(/\n\s+at /)
}

interface Sent {
  /** Bytes of the body written before the connection ended. */
  bytes: number
  /** Whether the whole body was sent. */
  finished: boolean
}

/**
 * Answers with `total` bytes of `fill`, made as the client reads them (64 KiB at a time, waiting
 * for the socket to drain): never held whole. Resolves once the exchange is over.
 */
function lazyBody(
  res: ServerResponse,
  total: number,
  headers: Record<string, string | number> = {},
  status = 200
): Promise<Sent> {
  const chunk = Buffer.alloc(64 * 1024, 'a')
  let bytes = 0
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  return new Promise(resolve => {
    res.on('close', () => resolve({ bytes, finished: res.writableFinished }))
    const pump = (): void => {
      while (bytes < total && !res.destroyed) {
        const part = chunk.subarray(0, Math.min(chunk.length, total - bytes))
        bytes += part.length
        if (!res.write(part)) return void res.once('drain', pump)
      }
      if (bytes >= total) res.end()
    }
    pump()
  })
}

/** A handler that answers with lazyBody, and the promise of what it sent. */
function serveLazy(
  total: number,
  headers: Record<string, string | number> = {},
  status = 200
): { sent: () => Promise<Sent[]> } {
  const all: Array<Promise<Sent>> = []
  handler = (_req, res) => void all.push(lazyBody(res, total, headers, status))
  return { sent: () => Promise.all(all) }
}

describe('answers have a size cap', () => {
  test('a 600 MB answer past the cap: one protocol error, not retried, the rest never sent', async () => {
    const { sent } = serveLazy(600 * 1000 * 1000)
    const e = await failure(transport().send(GET({ maxBytes: MiB }), res => res.text))
    expect(e.kind).toBe('protocol')
    expect(e.attempts).toBe(1)
    expect(e.message).toMatch(
      /^read the thing failed: The answer was larger than 1 MiB, more than any answer of the Control Service to this request\. A proxy or gateway may have answered instead/
    )
    expectOneLine(e.message)
    expect(seen).toEqual(['GET /thing'])
    const [{ bytes, finished }] = await sent()
    expect(finished).toBe(false)
    // what the client read, plus what the loopback socket buffers held
    expect(bytes).toBeLessThan(64 * MiB)
  })

  test('an answer whose Content-Length is past the cap is refused before its body is read', async () => {
    const { sent } = serveLazy(600 * 1000 * 1000, {
      'content-type': 'application/json',
      'content-length': 600 * 1000 * 1000
    })
    const e = await failure(transport().send(GET({ maxBytes: MiB }), res => res.text))
    expect(e.kind).toBe('protocol')
    expect(e.message).toContain('The answer was larger than 1 MiB')
    expect(seen).toEqual(['GET /thing'])
    expect((await sent()).map(s => s.finished)).toEqual([false])
  })

  test('the default cap is MAX_ANSWER_BYTES (32 MiB): an answer of that size is read whole, one byte more is not', async () => {
    expect(MAX_ANSWER_BYTES).toBe(32 * MiB)
    serveLazy(MAX_ANSWER_BYTES)
    expect(await transport().send(GET(), res => res.text.length)).toBe(MAX_ANSWER_BYTES)
    serveLazy(MAX_ANSWER_BYTES + 1)
    const e = await failure(transport().send(GET(), res => res.text.length))
    expect(e.message).toContain('The answer was larger than 32 MiB')
  })

  test('the logs read has the larger MAX_LOG_BYTES cap (256 MiB): 40 MiB of logs are read', async () => {
    expect(MAX_LOG_BYTES).toBe(256 * MiB)
    const logs = 'x'.repeat(40 * MiB)
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ logs }))
    }
    const client = new ControlServiceClient(transport())
    expect((await client.logs(jobRef('team', 'some-job'), 'ex-1')).length).toBe(logs.length)
    expect(seen).toEqual(['GET /data-jobs/for-team/team/jobs/some-job/executions/ex-1/logs'])
  })

  test('a multi-byte character cut by the chunks is read whole', async () => {
    const text = JSON.stringify({ what: 'é€😀'.repeat(50_000) })
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      const bytes = Buffer.from(text)
      // split inside characters, in odd pieces
      for (let at = 0; at < bytes.length; at += 4097) res.write(bytes.subarray(at, at + 4097))
      res.end()
    }
    expect(await transport().send(GET(), res => res.text)).toBe(text)
  })

  test('an error page is read only as far as its first 64 KiB, and the message shows its start', async () => {
    const { sent } = serveLazy(600 * 1000 * 1000, { 'content-type': 'text/html' }, 503)
    const e = await failure(transport({ retries: 2 }).send(GET(), res => res.text))
    expect(e.kind).toBe('http')
    expect(e.status).toBe(503)
    // a 503 is still retried: each attempt read a little of the page, none all of it
    expect(e.attempts).toBe(3)
    expect(seen).toHaveLength(3)
    expect(e.text?.length).toBe(MAX_ERROR_PAGE_BYTES)
    expect(e.message).toMatch(/\(HTTP 503\): a{299}…\. The Control Service failed/)
    expectOneLine(e.message)
    for (const s of await sent()) {
      expect(s.finished).toBe(false)
      expect(s.bytes).toBeLessThan(64 * MiB)
    }
  })
})

describe('deeply nested JSON ends as one line', () => {
  const ref = jobRef('team', 'some-job')
  const answer = (body: string, status = 200): void => {
    handler = (_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(body)
    }
  }
  const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`

  test.each<[string, string, RegExp]>([
    [
      '100,000 [ closed',
      nested(100_000),
      /JSON nested deeper than 500 levels, which no answer of the Control Service is\. A proxy/
    ],
    [
      '100,000 {"a": closed',
      `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`,
      /JSON nested deeper than 500 levels/
    ],
    ['100,000 [ never closed', '['.repeat(100_000), /came with a body that is not JSON: "\[\[\[/]
  ])('%s: a protocol error, one line', async (_what, body, message) => {
    answer(body)
    const client = new ControlServiceClient(transport())
    const e = await failure(client.readExecution(ref, 'ex-1'))
    expect(e.kind).toBe('protocol')
    expect(e.attempts).toBe(1)
    expect(e.message).toMatch(
      /^read execution 'ex-1' of data job 'some-job' of team 'team' failed: /
    )
    expect(e.message).toMatch(message)
    expect(e.message.length).toBeLessThan(400)
    expectOneLine(e.message)
  })

  test(`${MAX_JSON_DEPTH} levels are read, one more is refused`, async () => {
    const client = new ControlServiceClient(transport())
    answer(`{"logs": "fine", "deep": ${nested(MAX_JSON_DEPTH - 1)}}`)
    expect(await client.logs(ref, 'ex-1')).toBe('fine')
    answer(`{"logs": "fine", "deep": ${nested(MAX_JSON_DEPTH)}}`)
    expect((await failure(client.logs(ref, 'ex-1'))).message).toContain('nested deeper')
  })

  test('an error body nested 100,000 deep: the HTTP error, one line', async () => {
    answer(nested(100_000), 400)
    const e = await failure(new ControlServiceClient(transport()).readExecution(ref, 'ex-1'))
    expect(e.kind).toBe('http')
    expect(e.message).toContain('(HTTP 400)')
    expectOneLine(e.message)
  })
})

describe("the server's error texts are inert in the failure line", () => {
  const injected = 'ok\n::stop-commands::x\r\n::error::spoofed\u001b[31m red\u0007'

  test('what / why / countermeasures: one line, no control characters, each cut to 300 characters', async () => {
    handler = (_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          what: injected,
          why: `${'w'.repeat(1000)}\n::warning::late`,
          countermeasures: `\n::add-mask::x\n${'c'.repeat(400)}`
        })
      )
    }
    const e = await failure(transport().send(GET(), () => 1))
    expectOneLine(e.message)
    expect(e.message).toContain('Ok ::stop-commands::x ::error::spoofed\ufffd[31m red\ufffd.')
    expect(e.message).toContain(`${'w'.repeat(299)}….`)
    expect(e.message).not.toContain('late')
    expect(e.message).toContain(`::add-mask::x ${'c'.repeat(285)}…`)
    expect(e.message.length).toBeLessThan(1100)
  })

  test('messages: the first five, each cut, and how many more there were', async () => {
    handler = (_req, res) => {
      res.writeHead(422, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          messages: Array.from({ length: 20 }, (_, i) => `m${i}\n${'x'.repeat(500)}`)
        })
      )
    }
    const e = await failure(transport().send(GET(), () => 1))
    expectOneLine(e.message)
    expect(e.message).toContain('m0 xxx')
    expect(e.message).toContain('m4 xxx')
    expect(e.message).not.toContain('m5 ')
    expect(e.message).toContain('(and 15 more messages)')
    expect(e.message.length).toBeLessThan(5 * 300 + 200)
  })

  test("a proxy's page: one line, cut", async () => {
    handler = (_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' })
      res.end(`<html>\r\n::error::from the page\u001b]0;title\u0007\n${'p'.repeat(5000)}</html>`)
    }
    const e = await failure(transport({ retries: 0 }).send(GET(), () => 1))
    expectOneLine(e.message)
    expect(e.message).toContain(
      '(HTTP 502): <html> ::error::from the page\ufffd]0;title\ufffd pppp'
    )
    expect(e.message).toMatch(/p…\. The Control Service failed/)
  })

  test('@actions/core escapes the ::error:: message itself: a line break cannot start a command there', async () => {
    const core = await import('@actions/core')
    const written: string[] = []
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation(chunk => {
      written.push(String(chunk))
      return true
    })
    try {
      core.error('first\n::warning::second\r%0A')
    } finally {
      spy.mockRestore()
    }
    expect(written.join('')).toBe('::error::first%0A::warning::second%0D%250A\n')
  })
})

describe('a request that is stuck ends when the cancellation signal fires', () => {
  /** A promise resolved when the server has received the next request. */
  const nextArrival = (): Promise<void> => new Promise(resolve => (arrived = resolve))

  test('no answer at all (the server never answers, never closes): aborted', async () => {
    handler = () => undefined
    const stop = new AbortController()
    const seenIt = nextArrival()
    const call = failure(transport({ signal: stop.signal }).send(GET(), res => res.text))
    await seenIt
    stop.abort(new Error('received SIGTERM'))
    const e = await call
    expect(e.kind).toBe('aborted')
    expect(e.message).toBe(
      'read the thing failed: Cancelled before it completed. (op id ' + e.opId + ')'
    )
  })

  test('headers and part of the body, then nothing: aborted', async () => {
    const wrote = new Promise<void>(resolve => {
      handler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.write('{"logs": "the first part', () => resolve())
      }
    })
    const stop = new AbortController()
    const call = failure(transport({ signal: stop.signal }).send(GET(), res => res.text))
    await wrote
    stop.abort(new Error('received SIGTERM'))
    expect((await call).kind).toBe('aborted')
  })

  test('a streamed answer (a download) stuck midway: the stream ends with an error', async () => {
    const wrote = new Promise<void>(resolve => {
      handler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' })
        res.write('PK partial', () => resolve())
      }
    })
    const stop = new AbortController()
    const stream = await transport({ signal: stop.signal }).send(
      GET({ stream: true }),
      res => res.stream as Readable
    )
    await wrote
    const read = (async () => {
      for await (const _chunk of stream) {
        // the first part; then it waits
      }
    })()
    stop.abort(new Error('received SIGTERM'))
    await expect(read).rejects.toThrow()
  })

  test("a token exchange that is stuck: aborted too (the token endpoint's transport shares the signal)", async () => {
    handler = () => undefined
    const stop = new AbortController()
    const { apiTokenAuth } = await import('../../src/core/auth.js')
    const auth = apiTokenAuth({
      apiToken: 'api-token-stuck-0123',
      authorizationUrl: `${base}/token`,
      mask: () => undefined,
      transport: { userAgent: 'test', env: {}, sleep: noSleep, signal: stop.signal }
    })
    const seenIt = nextArrival()
    const call = failure(transport({ signal: stop.signal, auth }).send(GET(), res => res.text))
    await seenIt
    expect(seen).toEqual(['POST /token'])
    stop.abort(new Error('received SIGTERM'))
    expect((await call).kind).toBe('aborted')
  })
})

describe('the last resort after SIGTERM', () => {
  afterEach(() => {
    jest.useRealTimers()
    process.exitCode = undefined
  })

  function capture(): { lines: string[]; restore: () => void } {
    const lines: string[] = []
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation(chunk => {
      lines.push(...String(chunk).split('\n').filter(Boolean))
      return true
    })
    return { lines, restore: () => spy.mockRestore() }
  }

  test(`a step still busy ${STOP_GRACE_MS / 1000} s after the signal ends with exit code 1 and one error line`, () => {
    jest.useFakeTimers()
    const exit = jest.fn<(code: number) => void>()
    const out = capture()
    try {
      const timer = stopAfterGrace('fetch-logs', 'SIGTERM', STOP_GRACE_MS, exit)
      // it does not keep the process alive when everything else has ended
      expect(timer.hasRef()).toBe(false)
      jest.advanceTimersByTime(STOP_GRACE_MS - 1)
      expect(exit).not.toHaveBeenCalled()
      jest.advanceTimersByTime(1)
    } finally {
      out.restore()
    }
    expect(exit).toHaveBeenCalledWith(1)
    expect(out.lines).toEqual([
      '::error::fetch-logs: still busy 5 s after SIGTERM: stopped without waiting for what was in flight'
    ])
  })

  test('when the step has already said why it failed, the last resort adds no second error line', () => {
    jest.useFakeTimers()
    process.exitCode = 1
    const exit = jest.fn<(code: number) => void>()
    const out = capture()
    try {
      stopAfterGrace('fetch-logs', 'SIGINT', STOP_GRACE_MS, exit)
      jest.advanceTimersByTime(STOP_GRACE_MS)
    } finally {
      out.restore()
    }
    expect(exit).toHaveBeenCalledWith(1)
    expect(out.lines).toEqual([
      'fetch-logs: still busy 5 s after SIGINT: stopped without waiting for what was in flight'
    ])
  })
})
