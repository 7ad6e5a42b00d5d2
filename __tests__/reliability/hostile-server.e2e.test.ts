// The hostile server (issue 15, §1 and §2 and the logs_url of §3): a Control Service and token
// endpoint of the test's own on loopback (helpers/hostile-server.ts, not the local Control Service)
// answer the committed bundles, run under Node 24 as the runner runs them, with attacks — workflow
// commands after a line break in every string the service gives, ANSI escapes, an execution id in
// the Location header that decodes to a new line or to `..`, error bodies holding '::error::',
// a token endpoint echoing the refresh token, logs_url aimed at a metadata stand-in, hostile names
// in lists, markup in summary cells. Every case ends in success or in exit code 1 with one
// `::error::` line; no stack trace; no workflow command but the action's own; no secret anywhere
// (runner.ts's leak scan); no markup or javascript: link in the job summary.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ScriptedServer, type Answer } from '../helpers/hostile-server.js'
import { registerSecret } from '../helpers/leaks.js'
import { runAction, type ActionRun } from '../helpers/runner.js'

const TOKEN = 'hostile-access-token-5f1e2d3c9b'
const API_TOKEN = 'hostile-api-token-7a8b9c0d1e'
const TEAM = 'hostile'
const ENDED = { start_time: '2026-01-02T03:04:05Z', end_time: '2026-01-02T03:04:09Z' }

/** What a hostile service puts in its strings: each must stay text. */
const INJECTIONS = [
  'ok\n::stop-commands::x',
  'ok\r::warning::x',
  '\r\n::error::x',
  '  ::warning file=README.md::x',
  'red \u001b[31m::error::x\u001b[0m',
  'ok\u0085::notice::x',
  // the runner's older form counts anywhere in a line
  'ok ##[stop-commands]x'
]

let root: string
let server: ScriptedServer

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'hostile-'))
  server = await ScriptedServer.start()
})
afterAll(async () => {
  await server.close()
  rmSync(root, { recursive: true, force: true })
})
beforeEach(() => server.reset())

const jobPath = (job: string): string => `/data-jobs/for-team/${TEAM}/jobs/${job}`
const execPath = (job: string, id = '[^/]+'): RegExp =>
  new RegExp(`^${jobPath(job)}/executions/${id}$`)
const logsPath = (job: string): RegExp => new RegExp(`^${jobPath(job)}/executions/[^/]+/logs$`)
const startPath = (job: string): string => `${jobPath(job)}/deployments/production/executions`

const execution = (id: string, over: Record<string, unknown> = {}): Record<string, unknown> => ({
  id,
  status: 'succeeded',
  type: 'manual',
  started_by: 'manual/test',
  ...ENDED,
  ...over
})

const started = (job: string, id: string): Answer => ({
  status: 202,
  headers: { location: `${startPath(job)}/${id}` }
})

async function run(
  action: string,
  inputs: Record<string, string>,
  auth: Record<string, string> = { 'access-token': TOKEN }
): Promise<ActionRun> {
  return runAction(
    action,
    {
      'control-service-url': server.url,
      team: TEAM,
      'poll-interval-seconds': '0.05',
      ...auth,
      ...inputs
    },
    { workspace: root, timeoutMs: 20_000 }
  )
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
/** The workflow commands an action writes to stdout (outputs and state are files). */
const OWN_COMMAND = /^::(add-mask|group|endgroup|error|warning|notice|debug)( [^:]*)?::/
/** A command whose text came from the payload: its name, then the payload's marker `x`. */
const INJECTED = /^\W*::[a-z-]+( [^:]*)?::x/
// eslint-disable-next-line no-control-regex -- finding them is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/

/**
 * What every run must show: success, or exit code 1 with exactly one `::error::` line matching
 * `failure`; no stack trace; outside the fenced job logs only the action's own commands, none
 * with the payload's text, no control character; every fence of stop-commands opened with a
 * token of the action's (a UUID) and resumed, no `::add-mask::` inside one (the runner would not
 * see it); a job summary without markup from outside.
 */
function expectClean(r: ActionRun, failure?: RegExp): void {
  expect(r.stdout).not.toMatch(/unexpected error|^\s+at .+:\d+:\d+\)?$/m)
  const wrong: string[] = []
  /** The lines the runner reads commands in: all but the fenced job logs. */
  const outside: string[] = []
  let fence: string | undefined
  for (const line of r.stdout.split('\n')) {
    if (fence) {
      if (line === `::${fence}::`) fence = undefined
      else if (line.startsWith('::add-mask::')) wrong.push(`a mask inside a fence: ${line}`)
      continue
    }
    const stop = /^::stop-commands::(.*)$/.exec(line)
    if (stop) {
      if (!UUID.test(stop[1])) wrong.push(`a fence not of the action's: ${line}`)
      fence = stop[1]
      continue
    }
    outside.push(line)
    if (/^\s*::/.test(line) && !OWN_COMMAND.test(line)) wrong.push(`not a command of ours: ${line}`)
    if (INJECTED.test(line)) wrong.push(`injected: ${line}`)
    if (CONTROL.test(line)) wrong.push(`a control character: ${JSON.stringify(line)}`)
    if (line.includes('##[')) wrong.push(`a command of the older form: ${line}`)
  }
  if (fence) wrong.push(`a fence left open: ${fence}`)
  expect(wrong).toEqual([])
  const errors = outside.filter(l => l.startsWith('::error'))
  if (failure) {
    expect(errors).toEqual([expect.stringMatching(failure)])
    expect(r.code).toBe(1)
  } else {
    expect(errors).toEqual([])
    expect(r.code).toBe(0)
  }
  expect(r.summary).not.toMatch(/<script/i)
  expect(r.summary).not.toMatch(/href\s*=\s*["']?\s*javascript:/i)
}

describe('run-and-wait: strings of the service are text (§1)', () => {
  test.each(INJECTIONS.map(s => [s]))(
    'message and status %j, log lines too, with a token exchanged at every request',
    async payload => {
      const job = 'hostile-message'
      const id = 'hostile-message-1700000000'
      // a token endpoint whose tokens last a second: a new one (masked anew) before each request,
      // so a message that switched masking off would show the next one
      const tokens = Array.from(
        { length: 40 },
        (_, i) => `issued-${INJECTIONS.indexOf(payload)}-token-${i}-a1b2c3d4`
      )
      registerSecret(...tokens)
      server.on(
        'POST',
        '/token',
        ...tokens.map(t => ({ json: { access_token: t, expires_in: 1 } }))
      )
      server.on('POST', startPath(job), started(job, id))
      server.on(
        'GET',
        execPath(job),
        { json: execution(id, { status: 'running', message: payload }) },
        { json: execution(id, { status: 'running', message: `${payload} again` }) },
        { json: execution(id, { status: 'succeeded', message: payload }) }
      )
      server.on('GET', logsPath(job), {
        json: { logs: `first\n${payload}\n::stop-commands::x\n::warning::x\n` }
      })
      const r = await run(
        'run-and-wait',
        { 'job-name': job, 'api-token-authorization-url': `${server.url}/token` },
        { 'api-token': API_TOKEN }
      )
      expectClean(r)
      // every token exchanged was masked, outside any fence (expectClean), the later ones too
      const issued = tokens.slice(0, server.hits('/token').length)
      expect(issued.length).toBeGreaterThan(3)
      for (const t of issued) expect(r.stdout).toContain(`::add-mask::${t}`)
      expect(r.outputs.status).toBe('succeeded')
    }
  )

  test.each(INJECTIONS.map(s => [s]))(
    'a status that is no status, %j: one error line (an answer of another shape)',
    async payload => {
      const job = 'hostile-status'
      const id = 'hostile-status-1700000000'
      server.on('POST', startPath(job), started(job, id))
      server.on('GET', execPath(job), {
        json: execution(id, { status: payload, message: payload })
      })
      server.on('GET', logsPath(job), { json: { logs: payload } })
      const r = await run('run-and-wait', { 'job-name': job })
      expectClean(
        r,
        /^::error::run-and-wait: read execution 'hostile-status-1700000000' of data job 'hostile-status' of team 'hostile' failed: HTTP 200 came with an answer of another shape than the Control Service's: status: expected one of submitted, /
      )
    }
  )

  test('an ended execution whose message holds commands: one error line', async () => {
    const job = 'hostile-failed'
    const id = 'hostile-failed-1700000000'
    server.on('POST', startPath(job), started(job, id))
    server.on('GET', execPath(job), {
      json: execution(id, { status: 'user_error', message: INJECTIONS.join(' | ') })
    })
    server.on('GET', logsPath(job), { json: { logs: INJECTIONS.join('\n') } })
    const r = await run('run-and-wait', { 'job-name': job })
    expectClean(
      r,
      /^::error::run-and-wait: execution hostile-failed-1700000000 of 'hostile-failed' ended user_error: ok\\n::stop-commands::x/
    )
  })

  test.each([
    ['%0A::warning::x', /Location header names the execution id "\\n::warning::x" is not valid/],
    [
      'abc%0D%0A::error::x',
      /Location header names the execution id "abc\\r\\n::error::x" is not valid/
    ],
    ['%2e%2e', /Location header names the execution id "\.\." is not valid/],
    ['..', /Location header names the execution id "\.\." is not valid/],
    ['a%2F..%2F..%2Fx', /Location header names the execution id "a\/\.\.\/\.\.\/x" is not valid/],
    ['%E0%A4%A', /Location header names an execution id that is not percent-encoded text/],
    ['%1B%5B31m', /Location header names the execution id "\\u001b\[31m" is not valid/]
  ])(
    'an execution id in the Location header %j: refused, nothing read with it',
    async (id, why) => {
      const job = 'hostile-location'
      server.on('POST', startPath(job), {
        status: 202,
        headers: { location: `${startPath(job)}/${id}` }
      })
      const r = await run('run-and-wait', { 'job-name': job })
      expectClean(r, why)
      // nothing was asked about it: the only request was the start
      expect(server.seen.map(s => `${s.method} ${s.path}`)).toEqual([`POST ${startPath(job)}`])
      expect(r.state['execution-id']).toBeUndefined()
    }
  )

  test.each(['..', '../../x', '%2e%2e', 'x\n::warning::x', ''])(
    'a running execution listed with the id %j: on-conflict cancel refuses it before the DELETE',
    async id => {
      const job = 'hostile-conflict'
      server.on('POST', startPath(job), {
        status: 409,
        json: { what: 'Conflict\n::error::x', why: 'running\r::warning::x' }
      })
      server.on('GET', `${jobPath(job)}/executions`, {
        json: [execution(id, { status: 'running', message: '::error::x' })]
      })
      const r = await run('run-and-wait', { 'job-name': job, 'on-conflict': 'cancel' })
      // the listed execution is no answer of the service: refused where it is read
      expectClean(
        r,
        /^::error::run-and-wait: list the executions of data job 'hostile-conflict' .* another shape than the Control Service's: \[0\]\.id: expected an id of letters, digits, \., _ and -\./
      )
      expect(server.seen.filter(s => s.method === 'DELETE' || s.path.includes('..'))).toEqual([])
    }
  )
  test.each(['../../x', 'x\n::warning::x', '%2e%2e'])(
    'a lost start found again under the id %j: refused, nothing read or cancelled with it',
    async id => {
      const job = 'hostile-reconcile'
      // the start is processed, its answer lost (503); the list then shows it under a hostile id
      server.on('POST', startPath(job), { status: 503, json: { what: 'lost\n::error::x' } })
      server.on('GET', `${jobPath(job)}/executions`, seen => ({
        json: [
          execution(id, { status: 'running', op_id: seen.find(s => s.method === 'POST')?.opId })
        ]
      }))
      const r = await run('run-and-wait', { 'job-name': job })
      expectClean(
        r,
        /^::error::run-and-wait: list the executions of data job 'hostile-reconcile' .* another shape than the Control Service's: \[0\]\.id: expected an id of letters, digits, \., _ and -\./
      )
      expect(server.seen.map(s => `${s.method} ${s.path}`)).toEqual([
        `POST ${startPath(job)}`,
        `GET ${jobPath(job)}/executions`
      ])
    }
  )
})

describe('error bodies and the token endpoint (§1, §2)', () => {
  /** fetch-logs with an API token exchanged at the scripted token endpoint. */
  const fetchLogsWithApiToken = (): Promise<ActionRun> =>
    run(
      'fetch-logs',
      {
        'job-name': 'hostile-token',
        'execution-id': 'hostile-token-1',
        'api-token-authorization-url': `${server.url}/token`
      },
      { 'api-token': API_TOKEN }
    )

  test('what / why / countermeasures holding commands after a line break: one error line', async () => {
    const job = 'hostile-errors'
    server.on('POST', startPath(job), {
      status: 400,
      json: {
        what: 'Cannot start\n::error::x',
        why: 'because\r\n::warning::x \u001b[2J',
        consequences: '\n::stop-commands::x',
        countermeasures: 'retry\n::add-mask::x'
      }
    })
    const r = await run('run-and-wait', { 'job-name': job })
    expectClean(
      r,
      // each field in one line: line breaks are spaces, other control characters replaced
      /^::error::run-and-wait: start an execution of data job 'hostile-errors' of team 'hostile' failed \(HTTP 400\): Cannot start ::error::x\. Because ::warning::x \uFFFD\[2J\. Retry ::add-mask::x\./
    )
  })

  test('an error page that is not JSON (a gateway) with markup and commands: one error line', async () => {
    const job = 'hostile-page'
    server.on('GET', `${jobPath(job)}/deployments/production`, {
      status: 403,
      headers: { 'content-type': 'text/html' },
      text: '<html><script>alert(1)</script>\n::error::x\n\u001b[31mdenied</html>'
    })
    server.on('GET', `/data-jobs/for-team/${TEAM}/info`, {
      json: { supported_python_versions: ['3.11'], default_python_version: '3.11' }
    })
    const r = await run('deploy', { 'job-name': job, 'job-version': 'abcdef1', wait: 'false' })
    expectClean(
      r,
      /^::error::deploy: read the deployment of data job 'hostile-page' .* \(HTTP 403\)/
    )
  })

  test.each([
    [
      'a non-JSON error page echoing the form',
      {
        status: 400,
        text: `invalid_grant for grant_type=refresh_token&refresh_token=${API_TOKEN}\n::error::x`
      }
    ],
    [
      'a JSON error describing the form',
      {
        status: 401,
        json: {
          error: 'invalid_grant',
          error_description: `refresh_token=${API_TOKEN} is revoked\n::error::x`
        }
      }
    ],
    [
      'a 200 that is not JSON, echoing the form',
      { status: 200, text: `grant_type=refresh_token&refresh_token=${API_TOKEN}` }
    ],
    [
      'a 200 whose access_token is not text',
      { status: 200, json: { access_token: { refresh_token: API_TOKEN } } }
    ]
  ])(
    'the token endpoint answers %s: one line, the refresh token never shown',
    async (_name, answer) => {
      server.on('POST', '/token', answer)
      const r = await fetchLogsWithApiToken()
      expectClean(r, /^::error::fetch-logs: exchange the API token for an access token/)
      expect(r.stdout).not.toContain('refresh_token=')
      // the form went to the token endpoint, and nothing to the service without a token
      expect(server.seen.every(s => s.path === '/token')).toBe(true)
    }
  )

  test('an access token with a line break from the token endpoint: refused at once, never sent', async () => {
    const issued = 'issued-token-line\n::stop-commands::x'
    registerSecret(issued, 'issued-token-line')
    server.on('POST', '/token', { json: { access_token: issued, expires_in: 3600 } })
    const r = await fetchLogsWithApiToken()
    expectClean(
      r,
      /^::error::fetch-logs: exchange the API token for an access token failed: The authorization server answered HTTP 200 without an access_token fit to send \(it holds a line break/
    )
    // not retried as a network problem: one exchange, no request with it
    expect(server.seen.map(s => s.path)).toEqual(['/token'])
  })
})

describe('logs_url (§3): followed only where it is safe', () => {
  const job = 'hostile-logs-url'
  const id = 'hostile-logs-url-1700000000'
  /** An ended execution whose logs the service no longer has, and a logs_url. */
  const ended = (logsUrl: string): void => {
    server.on('GET', execPath(job), { json: execution(id, { logs_url: logsUrl }) })
    server.on('GET', logsPath(job), { json: { logs: '' } })
    server.on('GET', /^\/latest\/meta-data/, {
      text: 'AccessKeyId=AKIAHOSTILE\n::error::x',
      headers: { 'content-type': 'text/plain' }
    })
  }
  const metadata = () => server.hits(/^\/latest\/meta-data/)

  test.each([
    // loopback by another name than the service's: another origin, plain http
    [
      'http://localhost:{port}/latest/meta-data/iam/security-credentials/',
      /plain http to a host other than the Control Service/
    ],
    // https to loopback: refused on the address, before any connection
    [
      'https://localhost:{port}/latest/meta-data/',
      /its host resolves to (127\.0\.0\.1|::1), a loopback address/
    ],
    ['https://127.0.0.1:{port}/latest/meta-data/', /it is 127\.0\.0\.1, a loopback address/],
    [
      'https://[::ffff:127.0.0.1]:{port}/latest/meta-data/',
      /it is ::ffff:7f00:1, a loopback address/
    ],
    ['https://0.0.0.0:{port}/latest/meta-data/', /it is 0\.0\.0\.0, an unspecified address/],
    ['https://169.254.169.254/latest/meta-data/', /it is 169\.254\.169\.254, a link-local address/],
    [
      'http://169.254.169.254/latest/meta-data/',
      /plain http to a host other than the Control Service/
    ],
    ['https://[fd00::1]/latest/meta-data/', /it is fd00::1, a private address/],
    ['javascript:alert(1)//\n::error::x', /it is not an http\(s\) URL/]
  ])(
    'fetch-logs with logs_url %j: not fetched, the link and why printed',
    async (template, why) => {
      const url = template.replace('{port}', String(server.port))
      ended(url)
      const r = await run('fetch-logs', { 'job-name': job, 'execution-id': id })
      expectClean(r)
      expect(metadata()).toEqual([])
      expect(server.notHttp).toBe(0)
      expect(r.annotations).toEqual([
        expect.objectContaining({ level: 'warning', message: expect.stringMatching(why) })
      ])
      expect(r.outputs.bytes).toBe('0')
    }
  )

  test('run-and-wait with a logs_url at the metadata stand-in: not fetched; a javascript: or markup link is no link in the summary', async () => {
    for (const url of [
      `http://localhost:${server.port}/latest/meta-data/`,
      'javascript:alert(document.cookie)',
      'https://127.0.0.1/"><script>alert(1)</script>'
    ]) {
      server.reset()
      server.on('POST', startPath(job), started(job, id))
      server.on('GET', execPath(job), {
        json: execution(id, {
          logs_url: url,
          start_time: '<script>alert(1)</script>',
          end_time: '"><img src=x onerror=alert(1)>'
        })
      })
      ended(url)
      const r = await run('run-and-wait', { 'job-name': job })
      expectClean(r)
      expect(metadata()).toEqual([])
      expect(r.log).toMatch(/complete logs: .* \(not followed: /)
      expect(r.summary).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
      expect(r.summary).not.toMatch(/<img/i)
      expect(r.outputs['logs-url']).toBe(url)
    }
  })

  test('positive control: the same stand-in named in follow-logs-url is fetched (and its text is fenced)', async () => {
    ended(`http://localhost:${server.port}/latest/meta-data/`)
    const r = await run('fetch-logs', {
      'job-name': job,
      'execution-id': id,
      'follow-logs-url': 'localhost'
    })
    expectClean(r)
    expect(metadata()).toHaveLength(1)
    // the token went only to the service's origin
    expect(metadata()[0].authorization).toBeUndefined()
    expect(r.outputs.bytes).not.toBe('0')
  })
})

describe('fetch-logs: where it writes (§3)', () => {
  const job = 'hostile-path'

  test.each([
    ['..', 'named'],
    ['../../x', 'named'],
    ['%2e%2e', 'named'],
    ['a/b', 'named'],
    ['', 'named'],
    [42, 'shape'],
    [null, 'shape']
  ])(
    'the latest execution named %j: refused in one line, nothing read, nothing written',
    async (latest, refusal) => {
      server.on('GET', `/data-jobs/for-team/${TEAM}/jobs`, {
        json: { data: { content: [{ id: latest, status: 'SUCCEEDED', logsUrl: null }] } }
      })
      const r = await run('fetch-logs', { 'job-name': job })
      expectClean(
        r,
        refusal === 'named'
          ? /^::error::fetch-logs: the Control Service named the latest execution of 'hostile-path' .* nothing was read/
          : /^::error::fetch-logs: list the latest executions of data job 'hostile-path' .* another shape than the Control Service's: content\[0\]\.id: expected string\./
      )
      expect(server.seen.map(s => s.path)).toEqual([`/data-jobs/for-team/${TEAM}/jobs`])
      expect(r.outputs['logs-path']).toBeUndefined()
    }
  )

  test('GraphQL errors and hostile fields in the list of executions: one line', async () => {
    server.on('GET', `/data-jobs/for-team/${TEAM}/jobs`, {
      status: 400,
      json: { errors: [{ message: 'bad query\n::error::x' }, { message: '\u001b[2J::warning::x' }] }
    })
    const r = await run('fetch-logs', { 'job-name': job })
    expectClean(
      r,
      /^::error::fetch-logs: list the latest executions .* Bad query ::error::x; \uFFFD\[2J::warning::x\./
    )
  })

  test('a path under a file, a folder, a FIFO, a link or inside .git is refused before any request', async () => {
    writeFileSync(join(root, 'afile'), 'x')
    mkdirSync(join(root, 'a-folder'), { recursive: true })
    execFileSync('mkfifo', [join(root, 'a-fifo')])
    symlinkSync(join(root, 'nowhere', 'target'), join(root, 'a-link'))
    for (const [path, why] of [
      [
        'afile/sub.log',
        /path 'afile\/sub\.log' cannot be written: .*afile is a file, not a folder/
      ],
      [
        'afile/deeper/sub.log',
        /path 'afile\/deeper\/sub\.log' cannot be written: .*afile is a file/
      ],
      ['a-folder', /path 'a-folder' is a folder/],
      ['a-folder/', /path 'a-folder\/' is a folder/],
      ['a-fifo', /path 'a-fifo' is not a regular file/],
      ['a-link', /path 'a-link' is a symbolic link/],
      ['.git/hooks/post-checkout', /path '\.git\/hooks\/post-checkout' is inside a \.git folder/],
      ['logs/../.GIT/config', /is inside a \.git folder/]
    ] as const) {
      const r = await run('fetch-logs', { 'job-name': job, 'execution-id': 'hostile-path-1', path })
      expectClean(r, why)
      expect(server.seen).toEqual([])
    }
  })

  test('a file that cannot be written (EIO, ENOTDIR): one line naming it', async () => {
    const id = 'hostile-path-1700000000'
    server.on('GET', execPath(job), { json: execution(id) })
    server.on('GET', logsPath(job), { json: { logs: 'one line' } })
    // a regular file the kernel refuses to have written
    const proc = await run('fetch-logs', {
      'job-name': job,
      'execution-id': id,
      path: '/proc/version'
    })
    expectClean(proc, /^::error::fetch-logs: could not write the logs to \/proc\/version: E[A-Z]+$/)
    // the runner's temp folder is a file: the default file's folder cannot be made
    const temp = join(root, 'temp-is-a-file')
    writeFileSync(temp, 'x')
    const r = await runAction(
      'fetch-logs',
      {
        'control-service-url': server.url,
        'access-token': TOKEN,
        team: TEAM,
        'job-name': job,
        'execution-id': id
      },
      { workspace: root, env: { RUNNER_TEMP: temp } }
    )
    expectClean(
      r,
      new RegExp(
        `^::error::fetch-logs: could not write the logs to ${temp}/vdk-logs/${job}/${id}\\.log: ENOTDIR$`
      )
    )
  })

  test('logs with commands and escapes are written whole and printed fenced', async () => {
    const id = 'hostile-path-1700000000'
    const logs = INJECTIONS.join('\n')
    server.on('GET', execPath(job), { json: execution(id, { status: 'running' }) })
    server.on('GET', logsPath(job), { json: { logs } })
    const r = await run('fetch-logs', { 'job-name': job, 'execution-id': id })
    expectClean(r)
    const file = r.outputs['logs-path']
    expect(file.endsWith(`/vdk-logs/${job}/${id}.log`)).toBe(true)
    expect(readFileSync(file, 'utf8')).toBe(`${logs}\n`)
  })
})

describe('deploy and set-properties: what the service lists (§1)', () => {
  test('deploy: a live version and date holding commands, not live in time: one error line', async () => {
    const job = 'hostile-deploy'
    server.on('GET', `/data-jobs/for-team/${TEAM}/info`, {
      json: { supported_python_versions: ['3.11\n::warning::x'] }
    })
    const live = {
      job_version: 'v1\n::error::x',
      last_deployed_date: '::warning::x',
      enabled: true
    }
    server.on('GET', `${jobPath(job)}/deployments/production`, { json: live })
    server.on('GET', `${jobPath(job)}/deployments`, { json: [live] })
    server.on('POST', `${jobPath(job)}/deployments`, { status: 202 })
    server.on('GET', jobPath(job), {
      json: { job_name: job, team: TEAM, config: { contacts: {} } }
    })
    const r = await run('deploy', {
      'job-name': job,
      'job-version': 'abcdef1',
      'timeout-seconds': '0.2'
    })
    expectClean(r, /^::error::deploy: .*v1\\n::error::x/)
  })

  test('set-properties: hostile keys and values stay text, in the log and in the summary', async () => {
    const job = 'hostile-props'
    const current = {
      'key\n::warning::x': 'v',
      '<script>alert(1)</script>': 'javascript:alert(1)',
      '<a href="javascript:alert(1)">x</a>': '\u001b[31m::error::x',
      'ok\r::error::x': { nested: '<script>' }
    }
    server.on('GET', jobPath(job), { json: { job_name: job, team: TEAM } })
    server.on(
      'GET',
      `${jobPath(job)}/deployments/production/properties`,
      { json: current },
      { json: { fresh: 1 } }
    )
    server.on('PUT', `${jobPath(job)}/deployments/production/properties`, { status: 204 })
    const r = await run('set-properties', {
      'job-name': job,
      properties: 'fresh: 1',
      mode: 'replace'
    })
    expectClean(r)
    expect(r.summary).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(JSON.parse(r.outputs['changed-keys'])).toEqual(
      expect.arrayContaining(Object.keys(current))
    )
  })
})
