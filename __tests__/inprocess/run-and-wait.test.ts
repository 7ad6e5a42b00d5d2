// run-and-wait in process (no build): start, follow and end an execution of the local Control
// Service in this process. Its clock is frozen and is the action's own: each wait of the action
// moves it on by the wait's length (helpers/inprocess.ts serviceTime), so the execution goes
// through its phases as the action polls, in the same order on any machine and without a real
// wait, and a timeout of an hour passes at once.
import { startEmulator, type Emulator } from '../../src/emulator/server.js'
import { runInProcess, serviceTime } from '../helpers/inprocess.js'
import { withoutKubeletTime } from '../helpers/kubelet-time.js'
import { LocalService } from '../helpers/local-service.js'

const TOKEN = 'inprocess-run-token-0c7d'
const TEAM = 'run team'
let emu: Emulator
let svc: LocalService

const run = (inputs: Record<string, string>, post?: Record<string, string>) =>
  runInProcess(
    'run-and-wait',
    { 'control-service-url': emu.url, 'access-token': TOKEN, team: TEAM, ...inputs },
    { time: serviceTime(emu), post }
  )

beforeAll(async () => {
  // submitted 1 s, running 12 s on the service's clock; the action looks every 5 s (its default)
  emu = await startEmulator({
    tokens: [TOKEN],
    frozenClock: true,
    submitSeconds: 1,
    executionSeconds: 12,
    deploymentSeconds: 1
  })
  svc = new LocalService(emu, TEAM, TOKEN)
})
afterAll(() => emu.close())

test('follows the execution to its end: a line per status, its logs, outputs and state', async () => {
  const job = 'inproc-run-job'
  await svc.deploy(job)
  await svc.script(job, { status: 'succeeded', seconds: 12, logs: ['loading', 'loaded 7 rows'] })
  const r = await run({ 'job-name': job, arguments: '{"day": "2026-11-23"}' })
  expect(r.failure).toBeUndefined()
  const id = r.outputs['execution-id']
  expect(r.log.filter(l => l.startsWith('status: '))).toEqual([
    'status: submitted — Job execution submitted.',
    'status: running — Job execution is running.',
    'status: succeeded — Job execution succeeded.'
  ])
  expect(r.lines.filter(l => l.group).map(l => withoutKubeletTime(l.text))).toEqual([
    'loading',
    'loaded 7 rows'
  ])
  expect(r.outputs).toMatchObject({ status: 'succeeded', 'duration-seconds': '13' })
  expect(svc.executions(job).map(e => [e.id, e.args])).toEqual([[id, { day: '2026-11-23' }]])
  expect(r.state).toMatchObject({ isPost: 'true', 'execution-id': id, settled: 'ended' })
})

test('a timeout of an hour cancels the execution that still runs', async () => {
  const job = 'inproc-timeout-job'
  await svc.deploy(job)
  await svc.script(job, { status: 'succeeded', seconds: 7200 })
  const r = await run({ 'job-name': job, 'timeout-seconds': '3600', 'poll-interval-seconds': '60' })
  const id = r.outputs['execution-id']
  expect(r.reason).toBe(
    `execution ${id} did not end within timeout-seconds 3600 (last status running); it was cancelled on the Control Service`
  )
  expect(svc.status(svc.record(job, id))).toBe('cancelled')
  expect(r.state.settled).toBe('cancelled')
})

test('the post step cancels an execution the main step left running', async () => {
  const job = 'inproc-post-job'
  await svc.deploy(job)
  const id = await svc.start(job)
  const r = await run({ 'job-name': job }, { 'execution-id': id, team: TEAM, job })
  expect(r.failure).toBeUndefined()
  expect(r.lines).toContainEqual(
    expect.objectContaining({
      level: 'warning',
      text: `execution ${id} was still submitted after the step ended: cancelled it on the Control Service`
    })
  )
  expect(svc.status(svc.record(job, id))).toBe('cancelled')
})

test('a bad input is refused in one line before any request', async () => {
  emu.journal.splice(0)
  const r = await run({ 'job-name': 'inproc-run-job', arguments: '["2026-11-23"]' })
  expect(r.reason).toBe('arguments must be a JSON object such as {"day": "2026-11-23"}, not a list')
  expect(r.state.settled).toBeUndefined()
  expect(emu.journal).toEqual([])
})
