// What following logs costs the Control Service, end to end: the committed run-and-wait bundle
// under Node 24, as the runner runs it, against the local Control Service with its faithful
// defaults (kubelet timestamps, logs kept an hour after the end) on its real clock, so that the
// log grows while the action looks. Measured from the service's journal (response_bytes): a 5 MB
// log costs at most 1.5 times its size in logs answers, each line printed once and in order;
// `logs: none` reads no logs. The assertions are on bytes and lines, not on time: a slower machine
// looks less often, with reads of more lines each.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator, type Emulator } from '../../src/emulator/server.js'
import { LocalService } from '../helpers/local-service.js'
import { parseGroups, runAction } from '../helpers/runner.js'

const TOKEN = 'e2e-logs-token-71c2'
const TEAM = 'logs team'
let emu: Emulator
let svc: LocalService
let root: string

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'vdk-logs-e2e-'))
  emu = await startEmulator({ tokens: [TOKEN], submitSeconds: 0.5, deploymentSeconds: 0.2 })
  svc = new LocalService(emu, TEAM, TOKEN)
})
afterAll(() => emu.close())

const run = (inputs: Record<string, string>) =>
  runAction(
    'run-and-wait',
    {
      'control-service-url': emu.url,
      'access-token': TOKEN,
      team: TEAM,
      'poll-interval-seconds': '1',
      ...inputs
    },
    { workspace: root, timeoutMs: 120_000 }
  )

/** The journal's logs reads of `job`, with the bytes each answer had. */
const logReads = (job: string) =>
  emu.journal.filter(
    e => e.method === 'GET' && e.path.includes(`/jobs/${job}/`) && e.path.endsWith('/logs')
  )

test('a 5 MB log written over 20 s costs at most 1.5 times its size, each line printed once', async () => {
  const job = 'e2e-big-log-job'
  await svc.deploy(job)
  // 20,000 lines of about 250 bytes, with a stretch of 40 identical lines every 1,000
  const logs: string[] = []
  for (let i = 0; logs.length < 20_000; i++)
    if (i % 1000 === 999) logs.push(...Array<string>(40).fill('retrying the connection'))
    else logs.push(`row batch ${i}: ${'loaded '.repeat(35)}`)
  // 20 s of looks every second: the first two read the young log whole (no rate yet), a small
  // part of it however late a busy machine makes them
  await svc.script(job, { status: 'succeeded', seconds: 20, logs: logs.slice(0, 20_000) })
  const r = await run({ 'job-name': job })
  expect(r.code).toBe(0)
  const id = r.outputs['execution-id']
  // the log as the service has it at the end, read whole by the test (each line with its time)
  const whole = (await (await svc.call('GET', `${svc.execPath(job, id)}/logs`)).json()) as {
    logs: string
  }
  expect(parseGroups(r.stdout).lines).toEqual(whole.logs.split('\n'))
  const reads = logReads(job).slice(0, -1)
  expect(reads.length).toBeGreaterThan(3)
  expect(reads.every(e => e.response_bytes !== null)).toBe(true)
  const sent = reads.reduce((sum, e) => sum + (e.response_bytes ?? 0), 0)
  const size = Buffer.byteLength(JSON.stringify(whole))
  expect(size).toBeGreaterThan(5_000_000)
  expect(sent / size).toBeLessThanOrEqual(1.5)
  // the step's debug log says what it cost
  expect(r.stdout).toMatch(/^::debug::Control Service: \d+ requests, \d+ bytes of answers read$/m)
}, 150_000)

test('logs: none reads no logs', async () => {
  const job = 'e2e-no-logs-job'
  await svc.deploy(job)
  await svc.script(job, { status: 'succeeded', seconds: 2, logs: ['a', 'b'] })
  const r = await run({ 'job-name': job, logs: 'none' })
  expect(r.code).toBe(0)
  expect(r.outputs.status).toBe('succeeded')
  expect(logReads(job)).toEqual([])
  expect(parseGroups(r.stdout).lines).toEqual([])
})
