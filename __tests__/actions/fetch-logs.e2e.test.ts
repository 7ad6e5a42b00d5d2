// fetch-logs, end to end: the committed bundle runs as the runner runs it, under Node 24, against
// the local Control Service in this process; executions are started through the official API.
// The service's clock is frozen and moved on by the tests: an execution has ended, or has logged
// exactly so many lines, because the test said so.
import { readFileSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { visibleLogLines } from '../../src/emulator/model.js'
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/server.js'
import { LocalService, momentOf } from '../helpers/local-service.js'
import { runAction, type ActionRun, parseGroups } from '../helpers/runner.js'

const TOKEN = 'e2e-logs-token-9d2c4b71'
const TEAM = 'logs team'
const enc = encodeURIComponent

let root: string

/** A Control Service in this process, and what the tests do with it besides running actions. */
class Service extends LocalService {
  private constructor(emu: Emulator) {
    super(emu, TEAM, TOKEN)
  }

  /**
   * Starts an execution that logs `logs` over `seconds`; the clock then stands where it has ended
   * (`at: 1`), or at that fraction of its running time.
   */
  async execute(job: string, logs: string[], { seconds = 0.3, at = 1 } = {}): Promise<string> {
    await this.admin(`jobs/${enc(TEAM)}/${job}/next-execution`, { seconds, logs })
    const res = await this.call('POST', `${this.jobPath(job)}/deployments/production/executions`, {
      started_by: 'manual/test'
    })
    expect(res.status).toBe(202)
    const id = decodeURIComponent((res.headers.get('location') ?? '').split('/').pop() as string)
    this.clock.advanceTo(momentOf(this.record(job, id), at))
    return id
  }
  static async start(options: EmulatorOptions = {}): Promise<Service> {
    return new Service(
      await startEmulator({
        submitSeconds: 0.1,
        executionSeconds: 0.3,
        deploymentSeconds: 0.2,
        tokens: [TOKEN],
        frozenClock: true,
        // about where fetch-logs reads the lines (service, then logs_url once the pod is gone):
        // bare lines, and logs gone at the end (the faithful defaults are emulator/logs.test.ts's)
        logTimestamps: false,
        logsRetentionSeconds: 0,
        ...options
      })
    )
  }
}

let svc: Service

/** Shown anywhere a person or a later step could read it: the token must not be. */
function expectNoToken(run: ActionRun): void {
  const shown = run.stdout
    .split('\n')
    .filter(l => !l.startsWith('::add-mask::'))
    .join('\n')
  expect(shown + JSON.stringify(run.outputs) + run.summary).not.toContain(TOKEN)
}

async function fetchLogs(
  inputs: Record<string, string>,
  service: Service = svc
): Promise<ActionRun> {
  const r = await runAction(
    'fetch-logs',
    { 'control-service-url': service.emu.url, 'access-token': TOKEN, team: TEAM, ...inputs },
    { workspace: root, timeoutMs: 20_000 }
  )
  expectNoToken(r)
  return r
}

const grouped = parseGroups

const errors = (r: ActionRun): string[] => r.stdout.split('\n').filter(l => l.startsWith('::error'))

const lines = (tag: string, n: number): string[] =>
  Array.from({ length: n }, (_, i) => `${tag} line ${i + 1} of ${n}`)

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'vdk-logs-e2e-'))
  svc = await Service.start()
})
afterAll(async () => {
  await svc.emu.close()
  rmSync(root, { recursive: true, force: true })
})
beforeEach(async () => {
  await svc.admin('faults', undefined, 'DELETE')
  await svc.admin('journal', undefined, 'DELETE')
})

describe('fetch-logs', () => {
  const job = 'fetch-logs-job'
  let first: string
  let second: string
  const firstLogs = lines('first', 8)
  const secondLogs = lines('second', 5)

  beforeAll(async () => {
    await svc.deploy(job)
    first = await svc.execute(job, firstLogs)
    second = await svc.execute(job, secondLogs)
  })

  test("by default the job's latest execution; once it ended, from its logs_url", async () => {
    // the pod is gone: the service's logs endpoint is empty
    expect(await svc.serviceLogs(job, second)).toBe('')
    await svc.admin('journal', undefined, 'DELETE')
    const r = await fetchLogs({ 'job-name': job })
    expect(r.code).toBe(0)
    expect(r.outputs).toMatchObject({ 'execution-id': second, status: 'succeeded' })
    // the default file is under the runner's temp folder
    expect(r.outputs['logs-path']).toMatch(new RegExp(`/vdk-logs/${job}/${second}\\.log$`))
    const content = readFileSync(r.outputs['logs-path'], 'utf8')
    expect(content).toBe(`${secondLogs.join('\n')}\n`)
    expect(r.outputs.bytes).toBe(String(Buffer.byteLength(content)))
    expect(r.log).toContain(`the latest execution of '${job}' is ${second}`)
    const { logs_url: url } = await svc.read(job, second)
    expect(grouped(r.stdout)).toEqual({
      groups: [`logs of execution ${second} (succeeded) from ${url}`],
      lines: secondLogs
    })
    // it asked the service first
    expect(svc.emu.journal.map(j => `${j.method} ${j.path}`)).toContain(
      `GET ${svc.execPath(job, second)}/logs`
    )
  })

  test('an explicit execution-id', async () => {
    const r = await fetchLogs({ 'job-name': job, 'execution-id': first })
    expect(r.code).toBe(0)
    expect(r.outputs['execution-id']).toBe(first)
    expect(readFileSync(r.outputs['logs-path'], 'utf8')).toBe(`${firstLogs.join('\n')}\n`)
    expect(grouped(r.stdout).lines).toEqual(firstLogs)
  })

  test('tail-lines, of an ended execution (from logs_url) and of a running one (the service)', async () => {
    const ended = await fetchLogs({ 'job-name': job, 'execution-id': first, 'tail-lines': '3' })
    expect(ended.code).toBe(0)
    expect(readFileSync(ended.outputs['logs-path'], 'utf8')).toBe(
      `${firstLogs.slice(-3).join('\n')}\n`
    )

    const busy = 'fetch-logs-running-job'
    await svc.deploy(busy)
    const logs = lines('busy', 600)
    // a tenth of its running time: 61 of its 600 lines are there
    const id = await svc.execute(busy, logs, { seconds: 60, at: 0.1 })
    expect(visibleLogLines(svc.record(busy, id), svc.clock.now())).toHaveLength(61)
    await svc.admin('journal', undefined, 'DELETE')
    const running = await fetchLogs({ 'job-name': busy, 'execution-id': id, 'tail-lines': '3' })
    expect(running.code).toBe(0)
    expect(running.outputs.status).toBe('running')
    expect(readFileSync(running.outputs['logs-path'], 'utf8')).toBe(
      `${logs.slice(58, 61).join('\n')}\n`
    )

    expect(grouped(running.stdout).groups).toEqual([
      `logs of execution ${id} (running) from the Control Service`
    ])
    expect(
      svc.emu.journal.find(j => j.path === `${svc.execPath(busy, id)}/logs`)?.query.tail_lines
    ).toBe('3')
    await svc.call('DELETE', svc.execPath(busy, id))
  })

  test('path: the file written, relative to the workspace', async () => {
    const r = await fetchLogs({ 'job-name': job, 'execution-id': first, path: 'out/run.log' })
    expect(r.code).toBe(0)
    const file = join(root, 'out', 'run.log')
    expect(r.outputs['logs-path']).toBe(file)
    const content = `${firstLogs.join('\n')}\n`
    expect(readFileSync(file, 'utf8')).toBe(content)
    expect(r.outputs.bytes).toBe(String(Buffer.byteLength(content)))
    expect(r.log).toContain(`wrote ${Buffer.byteLength(content)} bytes of logs to ${file}`)
  })

  test('print shows the last 500 lines with a note; the file has them all', async () => {
    const big = 'fetch-logs-big-job'
    await svc.deploy(big)
    const logs = lines('big', 600)
    const id = await svc.execute(big, logs)
    const r = await fetchLogs({ 'job-name': big })
    expect(r.code).toBe(0)
    expect(readFileSync(r.outputs['logs-path'], 'utf8')).toBe(`${logs.join('\n')}\n`)
    const { logs_url: url } = await svc.read(big, id)
    expect(grouped(r.stdout)).toEqual({
      groups: [`logs of execution ${id} (succeeded) from ${url}: the last 500 of 600 lines`],
      lines: [`… 100 earlier lines are in ${r.outputs['logs-path']}`, ...logs.slice(100)]
    })

    const quiet = await fetchLogs({ 'job-name': big, print: 'false' })
    expect(quiet.code).toBe(0)
    expect(grouped(quiet.stdout).groups).toEqual([])
    expect(quiet.outputs.bytes).toBe(r.outputs.bytes)
  })

  test('a job with no executions fails with a clear message', async () => {
    const idle = 'fetch-logs-idle-job'
    await svc.deploy(idle)
    const r = await fetchLogs({ 'job-name': idle })
    expect(r.code).toBe(1)
    expect(errors(r)).toEqual([
      `::error::fetch-logs: data job '${idle}' of team '${TEAM}' has no executions yet`
    ])
    expect(r.outputs).toEqual({})
  })

  test('the access token appears in no log line, output or summary (and the runner is told to mask it)', async () => {
    const r = await fetchLogs({ 'job-name': job })
    expect(r.code).toBe(0)
    expectNoToken(r)
    expect(r.stdout).toContain(`::add-mask::${TOKEN}`)
  })
})

describe('fetch-logs when the logs cannot be read any more', () => {
  test('no logs_url (the service has no log store): a plain warning of where to look, exit 0, 0 bytes', async () => {
    const bare = await Service.start({ logsUrlTemplate: '' })
    try {
      const job = 'no-logs-url-job'
      await bare.deploy(job)
      const id = await bare.execute(job, lines('gone', 4))
      expect((await bare.read(job, id)).logs_url).toBeUndefined()
      const r = await fetchLogs({ 'job-name': job }, bare)
      expect(r.code).toBe(0)
      expect(r.outputs).toMatchObject({ 'execution-id': id, status: 'succeeded', bytes: '0' })
      expect(readFileSync(r.outputs['logs-path'], 'utf8')).toBe('')
      expect(r.annotations).toEqual([
        {
          level: 'warning',
          message: `the logs of execution ${id} are gone: the Control Service keeps them only while the execution's pod exists, and it has no logs_url configured; look in your cluster's log store, or ask the operators of the Control Service`
        }
      ])
      expect(grouped(r.stdout).groups).toEqual([])
    } finally {
      await bare.emu.close()
    }
  })

  test('a logs_url whose log store fails: a warning naming the logs_url, exit 0', async () => {
    // a log store that is down (each attempt is answered at once: Retry-After 0)
    const store: Server = createServer((_req, res) => {
      res.writeHead(503, { 'Retry-After': '0', 'Content-Type': 'text/plain' })
      res.end('the log store is down')
    })
    await new Promise<void>(resolve => store.listen(0, '127.0.0.1', resolve))
    const port = (store.address() as AddressInfo).port
    const broken = await Service.start({
      logsUrlTemplate: `http://127.0.0.1:${port}/logs/{job_name}/{execution_id}`
    })
    try {
      const job = 'broken-store-job'
      await broken.deploy(job)
      const id = await broken.execute(job, lines('lost', 3))
      const url = `http://127.0.0.1:${port}/logs/${job}/${id}`
      // a log store on loopback is followed only when its host is named
      const r = await fetchLogs({ 'job-name': job, 'follow-logs-url': '127.0.0.1' }, broken)
      expect(r.code).toBe(0)
      expect(errors(r)).toEqual([])
      expect(r.outputs).toMatchObject({ 'execution-id': id, bytes: '0' })
      expect(r.annotations).toEqual([
        expect.objectContaining({
          level: 'warning',
          message: expect.stringContaining(`they are at ${url} (it answered HTTP 503)`)
        })
      ])
    } finally {
      await broken.emu.close()
      await new Promise(resolve => store.close(resolve))
    }
  })
})

describe('bad input is rejected with one line before any request', () => {
  test.each([
    [{ 'tail-lines': '0' }, /tail-lines must be a whole number above 0, not '0'/],
    [{ 'tail-lines': '-3' }, /tail-lines must be a whole number above 0, not '-3'/],
    [{ 'tail-lines': '2.5' }, /tail-lines must be a whole number above 0, not '2\.5'/],
    [{ 'tail-lines': 'all' }, /tail-lines must be a whole number above 0, not 'all'/],
    [{ print: 'maybe' }, /print must be true or false, not 'maybe'/],
    [
      { 'follow-logs-url': 'https://logs.example.com' },
      /follow-logs-url must be public, same-origin, any, or host names separated by commas .*, not "https:\/\/logs\.example\.com"/
    ],
    [{ 'job-name': '' }, /job-name is required when job-path is not given/]
  ])('%p', async (inputs, message) => {
    const r = await fetchLogs({ 'job-name': 'valid-job-name', ...inputs })
    expect(r.code).toBe(1)
    const lines = r.stdout.split('\n').filter(l => l.startsWith('::error::'))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(message)
    expect(r.log).not.toMatch(/\n\s+at /)
    expect(svc.emu.journal).toEqual([])
  })
})
