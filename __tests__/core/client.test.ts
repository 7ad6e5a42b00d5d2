// The core client against the local Control Service over loopback: every call, auth both ways,
// retries and reconciliation under scripted faults, time limits, and bad input refused before any
// request. Every exchange is checked against the official spec (known differences named).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import yauzl from 'yauzl'
import { deployedAfter, jobRef, type ControlServiceClient } from '../../src/core/client.js'
import { connect, readConnection } from '../../src/core/connection.js'
import { Problems, type InputSource } from '../../src/core/inputs.js'
import { ControlServiceError, InputError } from '../../src/core/errors.js'
import type { Exchange, TransportOptions } from '../../src/core/http.js'
import { VERSION } from '../../src/core/version.js'
import { withoutKubeletTimes } from '../helpers/kubelet-time.js'
import { startEmulator, type Emulator } from '../../src/emulator/server.js'
import { DEVIATIONS } from '../helpers/api.js'
import { Contract, specAvailable, SPEC_PATH } from '../helpers/contract.js'
import { jobFiles, zipOf, until } from '../helpers/fixtures.js'
import { ROOT } from '../helpers/service.js'

if (!specAvailable()) console.warn(`SKIPPED: the official OpenAPI spec is not at ${SPEC_PATH}`)
const describeIfSpec = specAvailable() ? describe : describe.skip

const TEAM = 'core team'
let contract: Contract
let emu: Emulator
const unexplained: string[] = []

/** Checks each exchange against the spec; a violation no known deviation explains is recorded. */
function checkExchange(x: Exchange): void {
  const op = contract.operationFor(x.method, x.path)
  if (!op) return // the token endpoint, outside the Data Jobs API
  // a streamed body is not in the trace: stand in for it (the contract checks it is there)
  const streamed =
    x.requestJson === undefined && x.requestHeaders['content-type'] ? '<streamed>' : undefined
  const request = contract.validateRequest({
    method: x.method,
    path: x.path,
    headers: x.requestHeaders,
    body: x.requestJson ?? streamed
  })
  let body: unknown
  const type = x.responseHeaders['content-type']
  if (x.responseText) {
    try {
      body = type?.includes('json') ? JSON.parse(x.responseText) : x.responseText
    } catch {
      body = x.responseText
    }
  }
  const response =
    x.responseText === undefined ? [] : contract.validateResponse(op, x.status, body, type)
  const violations = [...request, ...response]
  if (!violations.length) return
  const headers = new Headers(x.responseHeaders)
  const explained = Object.values(DEVIATIONS).some(d =>
    d.applies(op, x.status, body, violations, headers)
  )
  if (!explained) unexplained.push(`${x.method} ${x.path} → ${x.status}: ${violations.join('; ')}`)
}

const source = (inputs: Record<string, string>, env: NodeJS.ProcessEnv = {}): InputSource => ({
  input: name => inputs[name] ?? '',
  env
})

const clients: ControlServiceClient[] = []

interface Made {
  client: ControlServiceClient
  masked: string[]
  sleeps: number[]
  exchanges: Exchange[]
}

function make(
  inputs: Record<string, string> = {},
  transport: Partial<TransportOptions> = {}
): Made {
  const problems = new Problems()
  const config = readConnection(source({ 'control-service-url': emu.url, ...inputs }), problems)
  problems.check()
  const masked: string[] = []
  const sleeps: number[] = []
  const exchanges: Exchange[] = []
  const client = connect(config, {
    mask: s => masked.push(s),
    action: 'test',
    env: {},
    transport: {
      trace: x => {
        exchanges.push(x)
        checkExchange(x)
      },
      sleep: ms => {
        sleeps.push(ms)
        return new Promise(r => setTimeout(r, Math.min(ms, 20)))
      },
      ...transport
    }
  })
  clients.push(client)
  return { client, masked, sleeps, exchanges }
}

const admin = async (path: string, body?: unknown, method = 'POST'): Promise<void> => {
  const res = await fetch(`${emu.url}/_emulator/${path}`, {
    method,
    headers: {
      Authorization: 'Bearer static-access-token-xyz',
      'Content-Type': 'application/json'
    },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  expect(res.status).toBeLessThan(300)
}
const journalOf = (pattern: RegExp) =>
  emu.journal.filter(j => pattern.test(`${j.method} ${j.path}`))

async function liveJob(
  client: ControlServiceClient,
  name: string
): Promise<{ ref: ReturnType<typeof jobRef>; version: string }> {
  const ref = jobRef(TEAM, name)
  await client.createJob(ref, {
    description: 'made by a test',
    config: { schedule: { schedule_cron: '0 6 * * *' } }
  })
  const zip = await zipOf(jobFiles(name))
  const version = await client.uploadSources(ref, () => zip)
  await client.deploy(ref, { job_version: version })
  await until('live', async () =>
    (await client.listDeployments(ref))[0]?.job_version === version ? true : undefined
  )
  return { ref, version }
}

async function readZip(stream: Readable): Promise<string[]> {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(c as Buffer)
  const zip = await yauzl.fromBufferPromise(Buffer.concat(chunks), { lazyEntries: true })
  const names: string[] = []
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (e: yauzl.Entry) => {
      names.push(e.fileName)
      zip.readEntry()
    })
    zip.on('end', resolve)
    zip.on('error', reject)
    zip.readEntry()
  })
  return names
}

describeIfSpec('core client against the local Control Service', () => {
  beforeAll(async () => {
    contract = await Contract.load()
    emu = await startEmulator({
      executionSeconds: 0.6,
      submitSeconds: 0.1,
      deploymentSeconds: 0.2,
      apiTokens: ['api-token-abc'],
      tokens: ['static-access-token-xyz']
    })
  })
  afterAll(async () => {
    await Promise.all(clients.map(c => c.close()))
    await emu.close()
  })
  beforeEach(async () => {
    await admin('faults', undefined, 'DELETE')
    await admin('journal', undefined, 'DELETE')
  })
  afterEach(() => {
    expect(unexplained.splice(0)).toEqual([])
  })

  const authed = { 'access-token': 'static-access-token-xyz' }

  test('deployedAfter: only a date that parses and is later proves a new deployment', () => {
    const t = '2026-12-01T10:00:00.000Z'
    expect(deployedAfter('2026-12-01T10:00:00.001Z', t)).toBe(true)
    expect(deployedAfter(t, t)).toBe(false)
    expect(deployedAfter('2026-12-01T09:59:59.999Z', t)).toBe(false)
    // no date before: any date is later; a missing or broken date proves nothing
    expect(deployedAfter(t, null)).toBe(true)
    for (const bad of [undefined, null, '', 'yesterday'])
      expect([deployedAfter(bad, t), deployedAfter(bad, null)]).toEqual([false, false])
    expect(deployedAfter(t, 'not a date')).toBe(false)
  })

  test('the version in the User-Agent is the package version', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
    expect(VERSION).toBe(pkg.version)
  })

  test('every call of the job lifecycle, with a team name holding a space', async () => {
    const { client, exchanges } = make(authed)
    expect((await client.info(TEAM)).supported_python_versions).toContain('3.9')
    const ref = jobRef(TEAM, 'lifecycle-job')
    expect(await client.readJob(ref)).toBeUndefined()
    expect(await client.createJob(ref, { description: 'd', config: {} })).toBe('created')
    expect(await client.createJob(ref, { description: 'd', config: {} })).toBe('exists')
    await client.updateJob(ref, {
      description: 'updated',
      config: { schedule: { schedule_cron: '1 2 * * *' } }
    })
    expect(await client.readJob(ref)).toMatchObject({
      job_name: 'lifecycle-job',
      team: TEAM,
      description: 'updated',
      config: { schedule: { schedule_cron: '1 2 * * *' } }
    })

    const zip = await zipOf(jobFiles('local-folder'))
    const version = await client.uploadSources(ref, () => zip, { reason: 'core test' })
    const { Readable } = await import('node:stream')
    expect(
      await client.uploadSources(ref, () => Readable.from([zip.subarray(0, 10), zip.subarray(10)]))
    ).toBe(version)
    expect(await readZip(await client.downloadSources(ref))).toEqual(
      expect.arrayContaining(['lifecycle-job/', 'lifecycle-job/config.ini'])
    )

    expect(await client.readDeployment(ref)).toBeUndefined()
    expect(await client.listDeployments(ref)).toEqual([])
    expect(
      await client.deploy(
        ref,
        { job_version: version, python_version: '3.10' },
        { sendNotification: false }
      )
    ).toBe('sent')
    await until('live', async () =>
      (await client.listDeployments(ref))[0]?.job_version === version ? true : undefined
    )
    expect(await client.readDeployment(ref)).toMatchObject({
      job_version: version,
      python_version: '3.10',
      enabled: true
    })
    expect(await client.listDeployments(ref)).toEqual([
      expect.objectContaining({ job_version: version })
    ])
    await client.patchDeployment(ref, { enabled: false })
    expect((await client.readDeployment(ref))?.enabled).toBe(false)
    await client.patchDeployment(ref, { enabled: true })

    await admin(`jobs/${encodeURIComponent(TEAM)}/lifecycle-job/next-execution`, {
      seconds: 5,
      logs: ['one', 'two', 'three']
    })
    // the service's clock stands still from here: the execution is where the test moves it
    emu.clock.freeze()
    const id = await client.startExecution(ref, { started_by: 'manual/core-test', args: { a: 1 } })
    expect(await client.readExecution(ref, id)).toMatchObject({
      id,
      started_by: 'manual/core-test/emulator-user'
    })
    expect(await client.listExecutions(ref, ['submitted', 'running'])).toEqual([
      expect.objectContaining({ id })
    ])
    // half-way through its running time: two of its three lines
    const e = emu.state.jobs['lifecycle-job'].executions[0]
    emu.clock.advanceTo(e.running_at + (e.end_at - e.running_at) / 2)
    expect(withoutKubeletTimes(await client.logs(ref, id))).toBe('one\ntwo')
    expect(withoutKubeletTimes(await client.logs(ref, id, { tailLines: 1 }))).toBe('two')
    expect(await client.cancelExecution(ref, id)).toBe('cancelled')
    emu.clock.resume()
    expect(await client.cancelExecution(ref, id)).toBe('cancelled')
    expect((await client.latestExecutions(ref, 3))[0]).toMatchObject({ id, status: 'CANCELLED' })

    await client.writeProperties(ref, { n: 1, nested: { x: [true] } })
    expect(await client.readProperties(ref)).toEqual({ n: 1, nested: { x: [true] } })
    await client.writeSecrets(ref, { password: 'p' })
    expect(await client.readSecrets(ref)).toEqual({ password: 'p' })

    // percent-encoded path segments, the User-Agent, and a fresh X-OPID per request
    expect(
      emu.journal.some(j => j.path.startsWith('/data-jobs/for-team/core%20team/jobs/lifecycle-job'))
    ).toBe(true)
    expect(exchanges[0].requestHeaders['user-agent']).toMatch(
      /^vdk-actions\/0\.1\.0 \(test; node \d+/
    )
    expect(new Set(exchanges.map(x => x.requestHeaders['x-opid'])).size).toBe(exchanges.length)
    expect(exchanges.every(x => !('authorization' in x.requestHeaders))).toBe(true)
  }, 20_000)

  test('a job that finished cannot be cancelled: the client says how it ended', async () => {
    const { client } = make(authed)
    const { ref } = await liveJob(client, 'ended-job')
    await admin(`jobs/${encodeURIComponent(TEAM)}/ended-job/next-execution`, {
      status: 'user_error',
      seconds: 0.1
    })
    const id = await client.startExecution(ref, { started_by: 'manual/test' })
    await until('ended', async () =>
      (await client.readExecution(ref, id)).status === 'user_error' ? true : undefined
    )
    expect(await client.cancelExecution(ref, id)).toBe('user_error')
  })

  describe('auth', () => {
    test('a token endpoint that echoes the form in its error page: the page is not shown', async () => {
      // a form-encoded token (+ and / become %2B and %2F) is not what the runner masks
      const token = 'api+token/with=specials'
      const echo = `grant_type=refresh_token&refresh_token=${encodeURIComponent(token)}`
      await admin('faults', {
        path: '/auth/token$',
        status: 400,
        body: `<html>bad request: ${echo}</html>`,
        contentType: 'text/html'
      })
      const { client } = make({
        'api-token': token,
        'api-token-authorization-url': `${emu.url}/auth/token`
      })
      const e = (await client.info(TEAM).catch((x: unknown) => x)) as ControlServiceError
      expect(e).toBeInstanceOf(ControlServiceError)
      expect(e.status).toBe(400)
      expect(e.message).not.toContain(encodeURIComponent(token))
      expect(e.message).not.toContain('bad request')
      await admin('faults', undefined, 'DELETE')
    })

    test('a URL that does not parse is shown without its credentials; a token with a line break is refused unsent', () => {
      const problems = new Problems()
      readConnection(
        source({
          'control-service-url': 'https://ci:hunter2@vdk.example.com:443x',
          'access-token': 'first-half\nsecond-half'
        }),
        problems
      )
      const e = (() => {
        try {
          problems.check()
        } catch (x) {
          return x as InputError
        }
      })()
      expect(e).toBeInstanceOf(InputError)
      expect(e?.message).toContain(
        "control-service-url is not a valid URL: 'https://***@vdk.example.com:443x'"
      )
      expect(e?.message).toContain('access-token holds a line break or another control character')
      expect(e?.message).not.toMatch(/hunter2|first-half|second-half/)
    })

    test('a wrong access token: a clear 401 error naming the operation and what to check, never the token', async () => {
      const { client, masked } = make({ 'access-token': 'wrong-token-123' })
      expect(masked).toEqual(['wrong-token-123'])
      const e = (await client.info(TEAM).catch((x: unknown) => x)) as ControlServiceError
      expect(e).toBeInstanceOf(ControlServiceError)
      expect(e.status).toBe(401)
      expect(e.message).toMatch(
        /^read the Control Service info \(team 'core team'\) failed \(HTTP 401\): The access token is missing, invalid or expired/
      )
      expect(e.message).not.toContain('wrong-token-123')
      expect(e.stack).not.toContain('wrong-token-123')
    })

    test('an API token is exchanged at the authorization URL, masked, and refreshed once after a 401', async () => {
      const { client, masked } = make({
        'api-token': 'api-token-abc',
        'api-token-authorization-url': `${emu.url}/auth/token`
      })
      expect(await client.info(TEAM)).toBeTruthy()
      expect(journalOf(/^POST \/auth\/token$/)).toHaveLength(1)
      await client.info(TEAM)
      expect(journalOf(/^POST \/auth\/token$/)).toHaveLength(1)
      await admin('auth/expire')
      expect(await client.info(TEAM)).toBeTruthy()
      expect(journalOf(/^POST \/auth\/token$/)).toHaveLength(2)
      expect(journalOf(/info$/).map(j => j.status)).toEqual([200, 200, 401, 200])
      const exchanged = Object.keys(emu.state.issued_tokens)
      expect(masked[0]).toBe('api-token-abc')
      expect(masked).toEqual(expect.arrayContaining(exchanged))
    })

    test('an API token that the authorization server refuses: a clear error naming the inputs to check', async () => {
      const { client } = make({
        'api-token': 'not-the-api-token',
        'api-token-authorization-url': `${emu.url}/auth/token`
      })
      const e = (await client.info(TEAM).catch((x: unknown) => x)) as ControlServiceError
      expect(e.message).toMatch(
        /^exchange the API token for an access token at http:\/\/127\.0\.0\.1:\d+ failed \(HTTP 400\): .*check api-token \(VDK_API_TOKEN\)/
      )
      expect(e.message).not.toContain('not-the-api-token')
      expect(journalOf(/info$/)).toHaveLength(0)
    })

    test('a 401 that persists after one refresh fails instead of looping', async () => {
      const { client } = make({
        'api-token': 'api-token-abc',
        'api-token-authorization-url': `${emu.url}/auth/token`
      })
      await admin('faults', { path: '/info$', status: 401, times: 0 })
      const e = (await client.info(TEAM).catch((x: unknown) => x)) as ControlServiceError
      expect(e.status).toBe(401)
      expect(journalOf(/info$/)).toHaveLength(2)
      expect(journalOf(/^POST \/auth\/token$/)).toHaveLength(2)
      // the injected 401s carry an error body (the real ones are empty): expected contract misses
      expect(unexplained.splice(0)).toEqual([
        expect.stringContaining('→ 401'),
        expect.stringContaining('→ 401')
      ])
    })
  })

  describe('transport under faults', () => {
    test('503 bursts are retried with backoff until the answer comes', async () => {
      // a clock that counts its readings: the time a retry went out is the one a poller counts from
      let readings = 0
      const { client, sleeps } = make(authed, { clock: () => ++readings })
      await admin('faults', { path: '/info$', status: 503, times: 3 })
      expect(client.transport.stats.resentAt).toBe(-Infinity)
      expect(await client.info(TEAM)).toBeTruthy()
      expect(journalOf(/info$/).map(j => j.status)).toEqual([503, 503, 503, 200])
      expect(sleeps).toHaveLength(3)
      expect(client.transport.stats.requests).toBe(4)
      // the fourth attempt, the last one sent again, read the clock after every earlier reading
      expect(client.transport.stats.resentAt).toBeGreaterThan(0)
      expect(client.transport.stats.resentAt).toBeLessThanOrEqual(readings)
    })

    test('Retry-After is honoured in seconds and as an HTTP date', async () => {
      // the client reads the time from the service's clock, frozen on a whole second (an HTTP
      // date has no milliseconds): the date says exactly 4 s from now
      emu.clock.freeze()
      emu.clock.advance(1000 - (emu.clock.now() % 1000))
      try {
        const { client, sleeps } = make(authed, { clock: () => emu.clock.now() })
        await admin('faults', { path: '/info$', status: 429, retryAfter: 2 })
        await client.info(TEAM)
        expect(sleeps).toEqual([2000])
        await admin('faults', {
          path: '/info$',
          status: 503,
          retryAfter: 4,
          retryAfterAsDate: true
        })
        await client.info(TEAM)
        expect(sleeps).toEqual([2000, 4000])
      } finally {
        emu.clock.resume()
      }
    })

    test('a dropped connection on a read is retried', async () => {
      const { client } = make(authed)
      await admin('faults', { path: '/info$', reset: true, times: 2 })
      expect(await client.info(TEAM)).toBeTruthy()
      expect(journalOf(/info$/).map(j => j.status)).toEqual([null, null, 200])
    })

    test('retries give up with a message that says how many attempts were made', async () => {
      const { client } = make(authed, { retries: 2 })
      await admin('faults', { path: '/info$', status: 503, times: 0 })
      const e = (await client.info(TEAM).catch((x: unknown) => x)) as ControlServiceError
      expect(e.message).toMatch(/failed after 3 attempts \(HTTP 503\): Injected fault/)
      expect(journalOf(/info$/)).toHaveLength(3)
    })

    test('a lost answer to an execution start: the client finds the execution it started and does not start another', async () => {
      const { client } = make(authed)
      const { ref } = await liveJob(client, 'lost-start-job')
      await admin('journal', undefined, 'DELETE')
      await admin('faults', { method: 'POST', path: '/executions$', reset: true, when: 'after' })
      const id = await client.startExecution(ref, { started_by: 'manual/test' })
      expect(journalOf(/^POST .*\/executions$/)).toHaveLength(1)
      const all = await client.listExecutions(ref)
      expect(all.map(e => e.id)).toEqual([id])
    })

    test('a start refused before it reached the service (503) is sent again once it is clear nothing started', async () => {
      const { client } = make(authed)
      const { ref } = await liveJob(client, 'retry-start-job')
      await admin('journal', undefined, 'DELETE')
      await admin('faults', { method: 'POST', path: '/executions$', status: 503 })
      const id = await client.startExecution(ref, { started_by: 'manual/test' })
      expect(journalOf(/^POST .*\/executions$/).map(j => j.status)).toEqual([503, 202])
      expect((await client.listExecutions(ref)).map(e => e.id)).toEqual([id])
    })

    test('a 409 on start is not retried: it says an execution is running and what to do', async () => {
      const { client } = make(authed)
      const { ref } = await liveJob(client, 'conflict-job')
      await admin(`jobs/${encodeURIComponent(TEAM)}/conflict-job/next-execution`, { seconds: 30 })
      const first = await client.startExecution(ref, { started_by: 'manual/test' })
      const e = (await client
        .startExecution(ref, { started_by: 'manual/test' })
        .catch((x: unknown) => x)) as ControlServiceError
      expect(e.status).toBe(409)
      expect(e.message).toContain(
        "start an execution of data job 'conflict-job' of team 'core team' failed (HTTP 409): Data job 'conflict-job' is already running."
      )
      expect(journalOf(/^POST .*\/executions$/)).toHaveLength(2)
      await client.cancelExecution(ref, first)
    })

    test('a lost answer to our own job create: read back, found in our team, reported as created; sent once', async () => {
      const { client } = make(authed)
      await admin('faults', { method: 'POST', path: '/jobs$', reset: true, when: 'after' })
      expect(
        await client.createJob(jobRef(TEAM, 'lost-create-job'), { description: '', config: {} })
      ).toBe('created')
      expect(journalOf(/^POST .*\/jobs$/)).toHaveLength(1)
      // a second create: it exists in this team; the same name in another team is taken
      expect(
        await client.createJob(jobRef(TEAM, 'lost-create-job'), { description: '', config: {} })
      ).toBe('exists')
      expect(
        await client.createJob(jobRef('other team', 'lost-create-job'), {
          description: '',
          config: {}
        })
      ).toBe('taken')
    })

    /**
     * A live job whose next deployment (to python 3.10) builds in `buildSeconds` and whose answer
     * is lost: what the client then concludes, and the statuses of the POSTs the service saw.
     */
    async function lostDeployAnswer(job: string, buildSeconds: number) {
      const { client } = make(authed)
      const { ref, version } = await liveJob(client, job)
      const before = (await client.readDeployment(ref))?.last_deployed_date
      // a second later on the service's clock, so a new deployment has a later date
      emu.clock.advance(1000)
      await admin(`jobs/${encodeURIComponent(TEAM)}/${job}/next-deployment`, {
        seconds: buildSeconds
      })
      await admin('journal', undefined, 'DELETE')
      await admin('faults', { method: 'POST', path: '/deployments$', reset: true, when: 'after' })
      const answer = await client.deploy(
        ref,
        { job_version: version, python_version: '3.10' },
        { since: before }
      )
      return { answer, posts: journalOf(/^POST .*\/deployments$/).map(j => j.status) }
    }

    test('a lost answer to a deployment that is live since, with all it asked for: not sent again', async () => {
      // the build is done at once
      expect(await lostDeployAnswer('lost-deploy-job', 0)).toEqual({
        answer: 'already-live',
        posts: [null]
      })
    })

    test('a lost answer to a deployment: the same version live, but not since and not as asked — sent again', async () => {
      // a slow build: when the client reads back, the old deployment (python 3.9) is still live
      expect(await lostDeployAnswer('resent-deploy-job', 600)).toEqual({
        answer: 'sent',
        posts: [null, 202]
      })
    })

    test('a request body that fails to be made is reported as such, once, not as a network fault', async () => {
      const { client } = make(authed)
      const ref = jobRef(TEAM, 'broken-body-job')
      await client.createJob(ref, { description: '', config: {} })
      const { Readable } = await import('node:stream')
      let made = 0
      const e = (await client
        .uploadSources(ref, () => {
          made++
          return new Readable({
            read() {
              this.destroy(new Error('data/big.csv could not be read while zipping: ENOENT'))
            }
          })
        })
        .catch((x: unknown) => x)) as ControlServiceError
      expect(e.kind).toBe('protocol')
      expect(e.message).toContain('data/big.csv could not be read while zipping: ENOENT')
      expect(e.message).not.toContain('Could not talk')
      expect(made).toBe(1)
    })

    test('a stalled answer times out at the configured limit', async () => {
      const { client } = make({ ...authed, 'request-timeout-seconds': '0.3' }, { retries: 0 })
      // an answer that would come only after the test's own limit: only the client's ends it
      await admin('faults', { path: '/info$', delayMs: 120_000 })
      const e = (await client.info(TEAM).catch((x: unknown) => x)) as ControlServiceError
      expect(e.kind).toBe('timeout')

      expect(e.message).toMatch(
        /failed: No complete answer from http:\/\/127\.0\.0\.1:\d+ within 0\.3 s\. .*request-timeout-seconds/
      )
    })

    test('an answer that is not JSON: a protocol error that points at a proxy or a wrong URL', async () => {
      const { client } = make(authed)
      await admin('faults', {
        path: '/info$',
        status: 200,
        body: '<html>login</html>',
        contentType: 'text/html'
      })
      const e = (await client.info(TEAM).catch((x: unknown) => x)) as ControlServiceError
      expect(e.kind).toBe('protocol')
      expect(e.message).toContain('check control-service-url')
      // an HTML answer is what the contract check must flag
      expect(unexplained.splice(0)).toEqual([expect.stringContaining("answered 'text/html'")])
    })

    test('an unreachable service: a network error naming the URL and the settings to check', async () => {
      const problems = new Problems()
      const config = readConnection(
        source({ 'control-service-url': 'http://127.0.0.1:1' }),
        problems
      )
      const client = connect(config, {
        mask: () => undefined,
        action: 'test',
        env: {},
        transport: { retries: 1, sleep: () => Promise.resolve() }
      })
      clients.push(client)
      const e = (await client.info(TEAM).catch((x: unknown) => x)) as ControlServiceError
      expect(e.kind).toBe('network')
      expect(e.message).toMatch(
        /failed after 2 attempts: Could not talk to http:\/\/127\.0\.0\.1:1: ECONNREFUSED.* Check control-service-url/
      )
    })

    test("an unknown execution: the server's what / why / countermeasures, with the status and the op id", async () => {
      const { client } = make(authed)
      const { ref } = await liveJob(client, 'unknown-exec-job')
      const e = (await client
        .readExecution(ref, 'nope-1')
        .catch((x: unknown) => x)) as ControlServiceError
      expect(e.message).toMatch(
        /^read execution 'nope-1' of data job 'unknown-exec-job' of team 'core team' failed \(HTTP 404\): Cannot find execution 'nope-1'.* List the job's executions .*\(op id /
      )
    })
  })

  describe('bad input is refused before any request', () => {
    test.each([
      [
        { 'control-service-url': 'not a url' },
        "control-service-url is not a valid URL: 'not a url'"
      ],
      [
        { 'control-service-url': 'ftp://vdk.example.com' },
        'control-service-url must be an http(s) URL'
      ],
      [{ 'control-service-url': 'http://vdk.example.com' }, 'plain http to vdk.example.com'],
      [{ 'control-service-url': 'https://user:pw@vdk.example.com' }, 'must not hold credentials'],
      [
        { 'control-service-url': '' },
        'control-service-url is required (or set VDK_CONTROL_SERVICE_REST_API_URL)'
      ],
      [{ 'api-token': 't' }, 'api-token needs api-token-authorization-url'],
      [{ 'api-token': 't', 'access-token': 'a' }, 'set access-token or api-token, not both'],
      [
        { 'api-token': 't', 'api-token-authorization-url': 'http://auth.example.com/token' },
        'api-token-authorization-url uses plain http'
      ],
      [
        { 'request-timeout-seconds': '0' },
        'request-timeout-seconds must be a number of seconds above 0'
      ],
      [{ 'allow-insecure-http': 'yes' }, "allow-insecure-http must be true or false, not 'yes'"]
    ])('%p', (inputs, message) => {
      const problems = new Problems()
      readConnection(source({ 'control-service-url': emu.url, ...inputs }), problems)
      expect(() => problems.check()).toThrow(InputError)
      expect(problems.list.join('; ')).toContain(message)
      expect(emu.journal).toHaveLength(0)
    })

    test('the environment fallbacks of the official CLI are used, and inputs win over them', () => {
      const env = {
        VDK_CONTROL_SERVICE_REST_API_URL: 'https://env.example.com/',
        VDK_API_TOKEN: 'env-token',
        VDK_API_TOKEN_AUTHORIZATION_URL: 'https://auth.example.com/token'
      }
      const problems = new Problems()
      const fromEnv = readConnection(source({}, env), problems)
      expect(fromEnv).toMatchObject({
        url: 'https://env.example.com',
        auth: {
          kind: 'api-token',
          token: 'env-token',
          authorizationUrl: 'https://auth.example.com/token'
        }
      })
      const fromInputs = readConnection(
        source({ 'control-service-url': 'https://input.example.com', 'access-token': 'a' }, env),
        problems
      )
      expect(fromInputs).toMatchObject({
        url: 'https://input.example.com',
        auth: { kind: 'access-token', token: 'a' }
      })
      const insecure = readConnection(
        source({
          'control-service-url': 'http://vdk.internal:8092',
          'allow-insecure-http': 'true'
        }),
        problems
      )
      expect(insecure.url).toBe('http://vdk.internal:8092')
      expect(problems.list).toEqual([])
    })

    test('several problems are reported together, in one line', () => {
      const problems = new Problems()
      readConnection(
        source({
          'control-service-url': 'nope',
          'request-timeout-seconds': '-1',
          'allow-insecure-http': 'maybe'
        }),
        problems
      )
      expect(() => problems.check()).toThrow(
        /^allow-insecure-http must be true or false.*; control-service-url is not a valid URL.*; request-timeout-seconds must be/
      )
    })

    test.each([
      ['short', "the job name 'short' is not valid"],
      ['Has-Upper-Case', 'lowercase letter first'],
      ['x'.repeat(51), '6 to 50 characters']
    ])('job name %p', (name, message) => {
      expect(() => jobRef(TEAM, name)).toThrow(message)
    })

    test('an empty team or execution id fails before the request', async () => {
      expect(() => jobRef('  ', 'valid-job-name')).toThrow('the team is empty')
      const { client } = make(authed)
      await expect(client.readExecution(jobRef(TEAM, 'valid-job-name'), ' ')).rejects.toThrow(
        'the execution id is empty'
      )
      await expect(client.info('')).rejects.toThrow('the team is empty')
      expect(emu.journal).toHaveLength(0)
    })
  })
})
