// fetch-logs in process (no build): the logs of an ended execution of the local Control Service in
// this process, written to a file and counted in the outputs.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator, type Emulator } from '../../src/emulator/server.js'
import { runInProcess } from '../helpers/inprocess.js'
import { withoutKubeletTime, withoutKubeletTimes } from '../helpers/kubelet-time.js'
import { LocalService } from '../helpers/local-service.js'

const TOKEN = 'inprocess-logs-token-4a90'
const TEAM = 'logs team'
let emu: Emulator
let svc: LocalService
let root: string

const fetchLogs = (inputs: Record<string, string>) =>
  runInProcess(
    'fetch-logs',
    { 'control-service-url': emu.url, 'access-token': TOKEN, team: TEAM, ...inputs },
    { workspace: root }
  )

beforeAll(async () => {
  emu = await startEmulator({ tokens: [TOKEN], frozenClock: true, deploymentSeconds: 1 })
  svc = new LocalService(emu, TEAM, TOKEN)
  root = mkdtempSync(join(tmpdir(), 'inprocess-logs-'))
})
afterAll(async () => {
  await emu.close()
  rmSync(root, { recursive: true, force: true })
})

test("writes an ended execution's logs to path, prints them, and says how many bytes", async () => {
  const job = 'inproc-logs-job'
  await svc.deploy(job)
  await svc.script(job, { status: 'user_error', seconds: 2, logs: ['first line', 'it failed'] })
  const id = await svc.start(job)
  svc.clock.advanceTo(svc.record(job, id).end_at)
  const r = await fetchLogs({ 'job-name': job, 'execution-id': id, path: 'logs/run.log' })
  expect(r.failure).toBeUndefined()
  const written = readFileSync(join(root, 'logs', 'run.log'), 'utf8')
  // the lines as served, each with the kubelet's time (src/emulator/podlog.ts)
  expect(withoutKubeletTimes(written)).toContain('first line\nit failed')
  expect(r.outputs).toMatchObject({
    'logs-path': join(root, 'logs', 'run.log'),
    'execution-id': id,
    status: 'user_error',
    bytes: String(Buffer.byteLength(written))
  })
  expect(r.lines.filter(l => l.group).map(l => withoutKubeletTime(l.text))).toEqual(
    expect.arrayContaining(['first line', 'it failed'])
  )
})

test('a bad input is refused in one line before any request', async () => {
  emu.journal.splice(0)
  const r = await fetchLogs({ 'job-name': 'inproc-logs-job', 'tail-lines': '10.5' })
  expect(r.reason).toBe("tail-lines must be a whole number above 0, not '10.5'")
  expect(emu.journal).toEqual([])
})
