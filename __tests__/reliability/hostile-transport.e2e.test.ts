// The transport against a hostile server, end to end: the committed fetch-logs bundle, run under
// Node 24 as the runner runs it, against a small server of this test's own on loopback (not the
// local Control Service) that answers with the payloads of issue 15 §3/§4: a 600 MB answer (where
// JSON is read, and where logs are), an answer announcing 600 MB, JSON nested 100,000 deep, error
// texts built to inject workflow commands, a proxy variable that is not a URL, a proxy that must not
// see a loopback request, and a request the server never answers while the runner sends SIGTERM
// (and, with run-and-wait, a clean-up after the signal that is held too: the last-resort timer).
// Every case: exit code 1 with one error line, or success; no stack trace; no line of output that
// starts with `::` but the action's own commands; no secret leaked (helpers/runner.ts scans every
// run); and where the server offers 600 MB, the answer was requested once and the server got to
// send no more than the cap and what the sockets buffer (the peak RSS this costs is a figure of
// `npm run bench -- caps`, not an assertion: memory depends on the machine).
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isRegistered, registerSecret } from '../helpers/leaks.js'
import { startProxy } from '../helpers/proxy.js'
import { runAction, type ActionRun, type RunOptions } from '../helpers/runner.js'

const TOKEN = 'hostile-transport-token-5e8a1c'
const PROXY_PASSWORD = 'proxy-Pa55word-hostile'
const EXECUTION = 'hostile-job-1'
const JOB_PATH = `/data-jobs/for-team/team/jobs/hostile-job/executions/${EXECUTION}`
const READ = `read execution '${EXECUTION}' of data job 'hostile-job' of team 'team'`
const READ_LOGS = `read the logs of execution '${EXECUTION}' of data job 'hostile-job' of team 'team'`
/** Bytes of the oversized answers: generated as they are read, never held. */
const HUGE = 600 * 1000 * 1000

type Handler = (req: IncomingMessage, res: ServerResponse) => void

let root: string
let server: Server
let url: string
/** `METHOD path` of each request of the current case. */
let seen: string[] = []
let route: Handler
let arrived: () => void = () => undefined

const json = (res: ServerResponse, status: number, body: string): void => {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(body)
}

/** The answers of a healthy service: the execution, and its logs. */
const healthy: Handler = (req, res) => {
  if (req.url?.startsWith(`${JOB_PATH}/logs`))
    return json(res, 200, JSON.stringify({ logs: 'line one\nline two' }))
  if (req.url === JOB_PATH)
    return json(res, 200, JSON.stringify({ id: EXECUTION, status: 'succeeded' }))
  json(res, 404, '{}')
}

/** Answers `path` with `answer`, anything else as a healthy service. */
const on =
  (path: string, answer: (res: ServerResponse) => void): Handler =>
  (req, res) =>
    req.url?.split('?')[0] === path ? answer(res) : healthy(req, res)

/** `bytes` of 'a' in 64 KiB writes as the client reads them; `headers` first. */
/** Bytes the last `lazy` answer got to write before its connection closed. */
let offered: Promise<number> = Promise.resolve(0)

function lazy(
  res: ServerResponse,
  bytes: number,
  status = 200,
  headers: Record<string, string | number> = { 'content-type': 'application/json' }
): void {
  const chunk = Buffer.alloc(64 * 1024, 'a')
  let sent = 0
  res.writeHead(status, headers)
  offered = new Promise(resolve => res.once('close', () => resolve(sent)))
  const pump = (): void => {
    while (sent < bytes && !res.destroyed) {
      sent += chunk.length
      if (!res.write(chunk)) return void res.once('drain', pump)
    }
    if (sent >= bytes) res.end()
  }
  pump()
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'hostile-transport-'))
  registerSecret(PROXY_PASSWORD)
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url?.split('?')[0]}`)
    arrived()
    route(req, res)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

beforeEach(() => {
  seen = []
  route = healthy
})

afterEach(() => server.closeAllConnections())

afterAll(async () => {
  await new Promise(resolve => server.close(resolve))
  rmSync(root, { recursive: true, force: true })
})

/** No proxy from the environment of the tests, unless a case sets one. */
const NO_PROXY_ENV = {
  HTTP_PROXY: '',
  http_proxy: '',
  HTTPS_PROXY: '',
  https_proxy: '',
  NO_PROXY: '',
  no_proxy: ''
}

/** `action` against the test's server. */
async function launch(
  action: string,
  inputs: Record<string, string>,
  o: RunOptions = {}
): Promise<ActionRun> {
  return runAction(
    action,
    {
      'control-service-url': url,
      'access-token': TOKEN,
      team: 'team',
      'job-name': 'hostile-job',
      ...inputs
    },
    {
      workspace: root,
      timeoutMs: 25_000,
      ...o,
      env: { ...NO_PROXY_ENV, ...o.env }
    }
  )
}

/** fetch-logs of EXECUTION. */
const fetchLogs = (inputs: Record<string, string> = {}, o: RunOptions = {}) =>
  launch('fetch-logs', { 'execution-id': EXECUTION, ...inputs }, o)

/** A UUID: the only stop-commands token the action makes (runtime.ts, ctx.group). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
/** Workflow commands the action writes itself (error and warning lines are checked one by one). */
const OWN = /^::(add-mask|debug|group|endgroup|error|warning)(::| )/

/** Lines that the runner would read as a workflow command the action did not write. */
function strayCommands(stdout: string): string[] {
  const stray: string[] = []
  let fence: string | undefined
  for (const line of stdout.split('\n')) {
    if (fence) {
      if (line === `::${fence}::`) fence = undefined
      continue
    }
    const stop = /^::stop-commands::(.*)$/.exec(line)
    if (stop && UUID.test(stop[1])) fence = stop[1]
    else if (/^\s*::/.test(line) && !OWN.test(line)) stray.push(line)
  }
  return stray
}

/**
 * What every case must show: success, or exit code 1 with exactly one error line matching
 * `failure`; only the `warnings` given; no stack trace; no stray workflow command.
 */
function expectClean(r: ActionRun, failure: 'succeeded' | RegExp, warnings: RegExp[] = []): void {
  const lines = r.stdout.split('\n')
  const errors = lines.filter(l => l.startsWith('::error'))
  if (failure === 'succeeded') {
    expect(errors).toEqual([])
    expect(r.code).toBe(0)
  } else {
    expect(errors).toEqual([expect.stringMatching(failure)])
    expect(r.code).toBe(1)
  }
  expect(lines.filter(l => l.startsWith('::warning'))).toEqual(
    warnings.map((w): unknown => expect.stringMatching(w))
  )
  expect(r.stdout).not.toMatch(/^\s+at /m)
  expect(r.stdout).not.toContain('unexpected error')
  expect(strayCommands(r.stdout)).toEqual([])
}

const MiB = 1024 * 1024
/**
 * What loopback sockets may hold beyond what the action read before it closed the connection:
 * the kernel's send and receive buffers (Linux autotunes them to a few MiB) and Node's stream
 * buffers. Far below the 600 MB offered, so an answer read whole cannot pass.
 */
const BUFFERED = 48 * MiB

describe('answers past their size cap', () => {
  test('a 600 MB execution answer: one line, read once, read no further than the 32 MiB cap', async () => {
    route = on(JOB_PATH, res => lazy(res, HUGE))
    const r = await fetchLogs()
    expectClean(
      r,
      new RegExp(
        `^::error::fetch-logs: ${READ} failed: The answer was larger than 32 MiB, more than any answer of the Control Service to this request\\. A proxy or gateway may have answered instead`
      )
    )
    expect(seen).toEqual([`GET ${JOB_PATH}`])
    expect(await offered).toBeLessThan(32 * MiB + BUFFERED)
  })

  test('a 600 MB logs answer: one line, read once, read no further than the 256 MiB logs cap', async () => {
    route = on(`${JOB_PATH}/logs`, res => lazy(res, HUGE))
    const r = await fetchLogs()
    expectClean(
      r,
      new RegExp(`^::error::fetch-logs: ${READ_LOGS} failed: The answer was larger than 256 MiB`)
    )
    expect(seen).toEqual([`GET ${JOB_PATH}`, `GET ${JOB_PATH}/logs`])
    expect(await offered).toBeLessThan(256 * MiB + BUFFERED)
  })

  test('an answer announcing 600 MB (Content-Length): refused before its body is read', async () => {
    route = on(JOB_PATH, res =>
      lazy(res, HUGE, 200, { 'content-type': 'application/json', 'content-length': HUGE })
    )
    const r = await fetchLogs()
    expectClean(
      r,
      new RegExp(`^::error::fetch-logs: ${READ} failed: The answer was larger than 32 MiB`)
    )
    expect(seen).toEqual([`GET ${JOB_PATH}`])
    expect(await offered).toBeLessThan(BUFFERED)
  })

  test('a 600 MB error page: its start in one line, not read whole', async () => {
    route = on(JOB_PATH, res => lazy(res, HUGE, 400, { 'content-type': 'text/html' }))
    const r = await fetchLogs()
    expectClean(
      r,
      new RegExp(`^::error::fetch-logs: ${READ} failed \\(HTTP 400\\): a{299}…\\. \\(op id `)
    )
    expect(seen).toEqual([`GET ${JOB_PATH}`])
    expect(await offered).toBeLessThan(BUFFERED)
  })
})

describe('deeply nested JSON', () => {
  const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`

  test.each<[string, () => Handler, RegExp]>([
    [
      '100,000 [ as the execution',
      () => on(JOB_PATH, res => json(res, 200, nested(100_000))),
      new RegExp(
        `^::error::fetch-logs: ${READ} failed: HTTP 200 came with JSON nested deeper than 500 levels`
      )
    ],
    [
      '100,000 [ inside the execution',
      () =>
        on(JOB_PATH, res =>
          json(
            res,
            200,
            `{"id": "${EXECUTION}", "status": "succeeded", "deployment": ${nested(100_000)}}`
          )
        ),
      /failed: HTTP 200 came with JSON nested deeper than 500 levels/
    ],
    [
      '100,000 {"logs": as the logs',
      () =>
        on(`${JOB_PATH}/logs`, res =>
          json(res, 200, `${'{"logs":'.repeat(100_000)}"x"${'}'.repeat(100_000)}`)
        ),
      new RegExp(`^::error::fetch-logs: ${READ_LOGS} failed: HTTP 200 came with JSON nested deeper`)
    ],
    [
      '100,000 [ never closed',
      () => on(JOB_PATH, res => json(res, 200, '['.repeat(100_000))),
      /failed: HTTP 200 came with a body that is not JSON: "\[\[\[/
    ],
    [
      '100,000 [ as an error body',
      () => on(JOB_PATH, res => json(res, 400, nested(100_000))),
      new RegExp(`^::error::fetch-logs: ${READ} failed \\(HTTP 400\\):`)
    ]
  ])('%s: one line', async (_what, handler, failure) => {
    route = handler()
    expectClean(await fetchLogs(), failure)
  })
})

describe("the server's error texts cannot inject", () => {
  test('what / why / countermeasures with line breaks, commands and escapes: one inert line, each cut', async () => {
    route = on(JOB_PATH, res =>
      json(
        res,
        404,
        JSON.stringify({
          what: 'ok\n::stop-commands::x\n::add-mask::hostile',
          why: `\r\n::error file=README.md::spoofed\u001b[2J${'w'.repeat(2000)}`,
          countermeasures: '%0A::warning::encoded'
        })
      )
    )
    const r = await fetchLogs()
    expectClean(
      r,
      new RegExp(
        `^::error::fetch-logs: ${READ} failed \\(HTTP 404\\): Ok ::stop-commands::x ::add-mask::hostile\\. ::error file=README\\.md::spoofed\ufffd\\[2Jw+…\\. %250A::warning::encoded\\. \\(op id [^ ]+\\)$`
      )
    )
    expect(r.stdout).not.toContain('w'.repeat(300))
  })

  test("a proxy's page with command lines: one line", async () => {
    route = on(JOB_PATH, res => {
      res.writeHead(403, { 'content-type': 'text/html' })
      res.end('<html>\n::error::from the proxy\n::stop-commands::x\n</html>')
    })
    expectClean(
      await fetchLogs(),
      new RegExp(
        `^::error::fetch-logs: ${READ} failed \\(HTTP 403\\): <html> ::error::from the proxy ::stop-commands::x </html>\\. The token is valid`
      )
    )
  })
})

describe('proxy variables', () => {
  test.each<[string, Record<string, string>, string]>([
    [
      'HTTP_PROXY, plain-http service',
      { HTTP_PROXY: `http://u:${PROXY_PASSWORD}@127.0.0.1:notaport` },
      ''
    ],
    [
      'HTTPS_PROXY, https service',
      { HTTPS_PROXY: `http://u:${PROXY_PASSWORD}@127.0.0.1:notaport` },
      'https://vdk.example.com'
    ],
    [
      'https_proxy, https service',
      { https_proxy: `u:${PROXY_PASSWORD}@proxy:3128x` },
      'https://vdk.example.com'
    ]
  ])(
    '%s not a proxy URL: one line naming it, credentials as ***, nothing sent',
    async (_what, env, service) => {
      const [name, value] = Object.entries(env)[0]
      const shown = value.replace(
        /^(http:\/\/)?.*@/,
        (_m, scheme?: string) => `${scheme ?? ''}***@`
      )
      const r = await fetchLogs(service ? { 'control-service-url': service } : {}, { env })
      expectClean(
        r,
        new RegExp(
          `^::error::fetch-logs: ${name} is not a valid proxy URL: '${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}' \\(expected e\\.g\\. http://proxy\\.example\\.com:3128\\)$`
        )
      )
      expect(r.stdout).not.toContain(PROXY_PASSWORD)
      expect(seen).toEqual([])
    }
  )

  test('a loopback service is never reached through HTTP_PROXY, though NO_PROXY is empty', async () => {
    const proxy = await startProxy()
    try {
      const r = await fetchLogs({}, { env: { HTTP_PROXY: proxy.url, http_proxy: proxy.url } })
      expectClean(r, 'succeeded')
      expect(proxy.requests).toEqual([])
      expect(seen).toEqual([`GET ${JOB_PATH}`, `GET ${JOB_PATH}/logs`])
    } finally {
      await proxy.close()
    }
  })
})

describe('SIGTERM while a read is stuck', () => {
  test('the server never answers and never closes: the step ends with exit code 1 and one line', async () => {
    let step: ChildProcess | undefined
    const reached = new Promise<void>(resolve => (arrived = resolve))
    route = () => undefined // accepted, never answered
    const running = fetchLogs({}, { onSpawn: c => (step = c) })
    await reached
    step?.kill('SIGTERM')
    const r = await running
    expectClean(
      r,
      new RegExp(
        `^::error::fetch-logs: ${READ} failed: Cancelled before it completed\\. \\(op id [^ ]+\\)$`
      ),
      [/^::warning::fetch-logs: received SIGTERM, stopping$/]
    )
    expect(seen).toEqual([`GET ${JOB_PATH}`])
  })

  test('what the step does after the signal is stuck too: it ends itself after the grace period, with one line', async () => {
    // run-and-wait: the start is held; after SIGTERM the step looks (with its clean-up client,
    // which the signal does not stop: 3 s, one retry) for an execution the start may have made,
    // and that look is held too. The 5 s grace ends the step before the look's second attempt can.
    let step: ChildProcess | undefined
    const reached = new Promise<void>(resolve => (arrived = resolve))
    route = () => undefined
    const running = launch(
      'run-and-wait',
      { 'poll-interval-seconds': '1' },
      { onSpawn: c => (step = c) }
    )
    await reached
    step?.kill('SIGTERM')
    const r = await running
    expectClean(
      r,
      /^::error::run-and-wait: still busy 5 s after SIGTERM: stopped without waiting for what was in flight$/,
      [/^::warning::run-and-wait: received SIGTERM, stopping$/]
    )
    expect(seen[0]).toBe(
      'POST /data-jobs/for-team/team/jobs/hostile-job/deployments/production/executions'
    )
    expect(seen.slice(1)).toEqual(
      Array(seen.length - 1).fill('GET /data-jobs/for-team/team/jobs/hostile-job/executions')
    )
    expect(seen.length).toBeGreaterThanOrEqual(2)
  })
})

test('the leak scan searched every run above for the token and the proxy password', () => {
  expect(isRegistered(TOKEN)).toBe(true)
  expect(isRegistered(PROXY_PASSWORD)).toBe(true)
})
