// The root action (the pipeline) in process (no build): deploy, run and set properties in one
// step against the local Control Service in this process, on its frozen clock, which the action's
// waits move on (helpers/inprocess.ts serviceTime).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator, type Emulator } from '../../src/emulator/server.js'
import { writeJobFolder } from '../helpers/fixtures.js'
import { runInProcess, serviceTime } from '../helpers/inprocess.js'
import { LocalService } from '../helpers/local-service.js'

const TOKEN = 'inprocess-pipeline-token-a41e'
const TEAM = 'pipeline team'
const INI = `[owner]\nteam = ${TEAM}\n\n[job]\nschedule_cron = 0 6 * * *\n`
let emu: Emulator
let svc: LocalService
let root: string

const pipeline = (inputs: Record<string, string>) =>
  runInProcess(
    '',
    { 'control-service-url': emu.url, 'access-token': TOKEN, ...inputs },
    { workspace: root, time: serviceTime(emu) }
  )

beforeAll(async () => {
  emu = await startEmulator({
    tokens: [TOKEN],
    frozenClock: true,
    deploymentSeconds: 30,
    submitSeconds: 1,
    executionSeconds: 10
  })
  svc = new LocalService(emu, TEAM, TOKEN)
  root = mkdtempSync(join(tmpdir(), 'inprocess-pipeline-'))
  writeJobFolder(root, 'inproc-pipe-job', { '10_load.py': 'def run(job_input):\n    pass\n' }, INI)
})
afterAll(async () => {
  await emu.close()
  rmSync(root, { recursive: true, force: true })
})

test('deploys, runs and sets properties: every part in the outputs and the summary', async () => {
  const job = 'inproc-pipe-job'
  const r = await pipeline({ 'job-path': job, run: 'true', properties: 'rows: 5' })
  expect(r.failure).toBeUndefined()
  expect(r.log.filter(l => l.startsWith('— '))).toEqual([
    '— deploy —',
    '— run-and-wait —',
    '— set-properties —'
  ])
  expect(r.outputs).toMatchObject({ 'deployment-status': 'live', status: 'succeeded' })
  expect(svc.executions(job).map(e => e.id)).toEqual([r.outputs['execution-id']])
  const props = await svc.call('GET', `${svc.jobPath(job)}/deployments/TODO/properties`)
  expect(await props.json()).toEqual({ rows: 5 })
  expect(r.summary?.rows.map(row => row[0])).toEqual([
    'VDK data job deployed',
    'VDK data job execution',
    `VDK data job ${job}: properties (values not shown)`
  ])
})

test("a bad input is named by the pipeline's own input name, before any request", async () => {
  emu.journal.splice(0)
  const r = await pipeline({ 'job-path': 'inproc-pipe-job', 'deploy-timeout-seconds': 'soon' })
  expect(r.reason).toBe("deploy-timeout-seconds must be a number of seconds above 0, not 'soon'")
  expect(emu.journal).toEqual([])
})
