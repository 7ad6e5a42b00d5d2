// The committed bundle dist/emulator/index.js, run under Node 24 as users run it: its command line,
// its "listening on" line, and a --data-dir restart that loses nothing.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Api } from '../helpers/api.js'
import { Contract, specAvailable, SPEC_PATH } from '../helpers/contract.js'
import {
  createJob,
  deployLive,
  enc,
  jobFiles,
  jobPath,
  readExecution,
  startExecution,
  teamPath,
  upload,
  waitEnd,
  zipOf
} from '../helpers/fixtures.js'
import { node24 } from '../helpers/node24.js'
import { EMULATOR_BUNDLE, startServiceProcess, type ServiceProcess } from '../helpers/service.js'

const run = promisify(execFile)
const TEAM = 'restart team'

if (!specAvailable()) console.warn(`SKIPPED: the official OpenAPI spec is not at ${SPEC_PATH}`)
const describeIfSpec = specAvailable() ? describe : describe.skip

describe('dist/emulator/index.js command line (Node 24)', () => {
  beforeAll(() => {
    expect(existsSync(EMULATOR_BUNDLE)).toBe(true)
  })

  test('runs on Node 24', async () => {
    const { stdout } = await run(node24(), ['-p', 'process.versions.node'])
    expect(stdout.trim()).toMatch(/^24\./)
  })

  test('--help prints the options and exits 0', async () => {
    const { stdout } = await run(node24(), [EMULATOR_BUNDLE, '--help'])
    for (const option of [
      '--port',
      '--data-dir',
      '--token',
      '--api-token',
      '--execution-seconds',
      '--no-secrets',
      '--allow-host',
      '--max-upload-bytes',
      '--max-inflate-ratio'
    ]) {
      expect(stdout).toContain(option)
    }
  })

  test.each([
    [['--port', 'eighty'], "--port must be a number, 0 or more; got 'eighty'"],
    [['--colour'], "Unknown option '--colour'"],
    [['--max-upload-bytes', 'lots'], "--max-upload-bytes must be a number, 0 or more; got 'lots'"],
    [
      ['--python-versions', '3.9', '--default-python-version', '3.8'],
      'the default python version 3.8 is not among the supported ones'
    ]
  ])('bad options %p exit non-zero with a one-line reason', async (args, message) => {
    const failed = await run(node24(), [EMULATOR_BUNDLE, ...args]).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e
    )
    expect(failed?.code).toBeGreaterThan(0)
    expect(failed?.stderr.split('\n')[0]).toContain(message)
  })

  test('prints "listening on http://127.0.0.1:<port>" once ready and answers there; SIGTERM stops it', async () => {
    const service = await startServiceProcess()
    try {
      expect(service.output()).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+\n$/)
      const res = await fetch(`${service.url}/_emulator/health`)
      expect(await res.json()).toMatchObject({ ok: true })
    } finally {
      expect(await service.stop()).toBe(0)
    }
  })
})

test('--frozen-clock: the service time stands still until POST /_emulator/clock moves it on', async () => {
  const service = await startServiceProcess(['--frozen-clock'])
  const clock = async (body?: object): Promise<{ status: number; json: unknown }> => {
    const res = await fetch(`${service.url}/_emulator/clock`, {
      method: body ? 'POST' : 'GET',
      headers: body ? { 'Content-Type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined
    })
    return { status: res.status, json: await res.json() }
  }
  try {
    const first = (await clock()).json as { now: string; frozen: boolean }
    expect(first.frozen).toBe(true)
    const at = Date.parse(first.now)
    expect((await clock()).json).toEqual(first)
    expect((await clock({ advance_seconds: 2.5 })).json).toEqual({
      now: new Date(at + 2500).toISOString(),
      frozen: true
    })
    const resumed = (await clock({ freeze: false })).json as { now: string; frozen: boolean }
    expect(resumed.frozen).toBe(false)
    expect(Date.parse(resumed.now)).toBeGreaterThanOrEqual(at + 2500)
    for (const [body, error] of [
      [{ advance_seconds: -1 }, 'advance_seconds must be a number of seconds, 0 or more'],
      [{ freeze: 'yes' }, 'freeze must be true (stop the clock) or false (let it run)'],
      [{ rewind: 1 }, 'unknown field "rewind": give freeze (true/false) and/or advance_seconds']
    ] as const)
      expect(await clock(body)).toEqual({ status: 400, json: { error } })
  } finally {
    expect(await service.stop()).toBe(0)
  }
})

describeIfSpec('--data-dir: a restart loses nothing', () => {
  let dir: string
  let service: ServiceProcess | undefined
  let contract: Contract
  beforeAll(async () => {
    contract = await Contract.load()
    dir = mkdtempSync(join(tmpdir(), 'vdk-emulator-state-'))
  })
  afterAll(async () => {
    await service?.stop()
    rmSync(dir, { recursive: true, force: true })
  })
  const args = () => [
    '--data-dir',
    dir,
    '--execution-seconds',
    '0.3',
    '--submit-seconds',
    '0.1',
    '--deployment-seconds',
    '0.2'
  ]

  test('jobs, sources, deployments, executions (even a running one), properties and secrets survive', async () => {
    service = await startServiceProcess(args())
    let api = new Api(service.url, contract)
    const job = 'restart-proof-job'
    await createJob(api, TEAM, job)
    const version = await upload(
      api,
      TEAM,
      job,
      await zipOf(jobFiles(job, { 'lib/helper.py': 'z = 3\n' }))
    )
    await deployLive(api, TEAM, job, version, { python_version: '3.10' })
    const done = await startExecution(api, TEAM, job)
    await waitEnd(api, TEAM, job, done)
    await fetch(`${service.url}/_emulator/jobs/${enc(TEAM)}/${job}/next-execution`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ seconds: 600, logs: ['a', 'b', 'c'] })
    })
    const active = await startExecution(api, TEAM, job)
    // the service's clock moved on by a minute (as a test may move it): a restart keeps that
    const sentAt = Date.now()
    const moved = await fetch(`${service.url}/_emulator/clock`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ advance_seconds: 60 })
    })
    expect(moved.status).toBe(200)
    const movedTo = Date.parse(((await moved.json()) as { now: string }).now)
    expect(movedTo).toBeGreaterThanOrEqual(sentAt + 60_000)
    const base = `${jobPath(TEAM, job)}/deployments/TODO`
    await api.call('PUT', `${base}/properties`, { json: { rows: 10, nested: { a: true } } })
    await api.call('PUT', `${base}/secrets`, { json: { password: 'kept' } })
    const before = {
      job: (await api.call('GET', jobPath(TEAM, job))).json,
      deployments: (await api.call('GET', `${jobPath(TEAM, job)}/deployments`)).json,
      sources: (await api.call('GET', `${jobPath(TEAM, job)}/sources`)).buffer
    }

    expect(await service.stop()).toBe(0)
    service = await startServiceProcess(args())
    api = new Api(service.url, contract)

    expect((await api.call('GET', jobPath(TEAM, job))).json).toEqual(before.job)
    expect((await api.call('GET', `${jobPath(TEAM, job)}/deployments`)).json).toEqual(
      before.deployments
    )
    expect(
      (await api.call('GET', `${jobPath(TEAM, job)}/sources`)).buffer.equals(before.sources)
    ).toBe(true)
    expect((await api.call('GET', `${base}/properties`)).json).toEqual({
      rows: 10,
      nested: { a: true }
    })
    expect((await api.call('GET', `${base}/secrets`)).json).toEqual({ password: 'kept' })
    expect((await readExecution(api, TEAM, job, done)).status).toBe('succeeded')
    // the clock goes on from where it stood, with the minute it was moved on
    const clock = (await (await fetch(`${service.url}/_emulator/clock`)).json()) as {
      now: string
      frozen: boolean
    }
    expect(clock.frozen).toBe(false)
    expect(Date.parse(clock.now)).toBeGreaterThanOrEqual(movedTo)
    // the execution that was running goes on where it was (600 s of it), and still blocks a start
    expect((await readExecution(api, TEAM, job, active)).status).toBe('running')
    const conflict = await api.call(
      'POST',
      `${jobPath(TEAM, job)}/deployments/production/executions`,
      { json: {}, deviations: ['error-body'] }
    )
    expect(conflict.status).toBe(409)
    // moved on past its end, it has ended
    const end = await fetch(`${service.url}/_emulator/clock`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ advance_seconds: 600 })
    })
    expect(end.status).toBe(200)
    expect((await readExecution(api, TEAM, job, active)).status).toBe('succeeded')

    // same tree, same version after the restart
    expect(
      await upload(api, TEAM, job, await zipOf(jobFiles(job, { 'lib/helper.py': 'z = 3\n' })))
    ).toBe(version)
    const q = await api.call(
      'GET',
      `${teamPath(TEAM)}/jobs?query=${enc('{ jobs(pageNumber: 1) { content { jobName deployments { status jobVersion } } } }')}`
    )
    expect(q.json).toEqual({
      data: {
        // as on the real service, a deployment has no status in GraphQL (always null)
        content: [{ jobName: job, deployments: [{ status: null, jobVersion: version }] }]
      }
    })
  }, 60_000)
})
