// deploy in process (no build): upload, deploy and the wait until live, against the local Control
// Service in this process, whose frozen clock is the action's: each wait of the action moves it
// on (helpers/inprocess.ts serviceTime), so the build ends while the action polls, on any machine.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator, type Emulator } from '../../src/emulator/server.js'
import { writeJobFolder } from '../helpers/fixtures.js'
import { runInProcess, serviceTime } from '../helpers/inprocess.js'

const TOKEN = 'inprocess-deploy-token-9e21'
const TEAM = 'deploy team'
const INI = `[owner]\nteam = ${TEAM}\n\n[job]\nschedule_cron = 0 6 * * *\n`
let emu: Emulator
let root: string

const deploy = (inputs: Record<string, string>) =>
  runInProcess(
    'deploy',
    { 'control-service-url': emu.url, 'access-token': TOKEN, ...inputs },
    { workspace: root, time: serviceTime(emu) }
  )

beforeAll(async () => {
  // a build of 60 s on the service's clock: the action sees it pending, then live
  emu = await startEmulator({ tokens: [TOKEN], frozenClock: true, deploymentSeconds: 60 })
  root = mkdtempSync(join(tmpdir(), 'inprocess-deploy-'))
  writeJobFolder(
    root,
    'inproc-deploy-job',
    { '10_load.py': 'def run(job_input):\n    pass\n' },
    INI
  )
})
afterAll(async () => {
  await emu.close()
  rmSync(root, { recursive: true, force: true })
})

test('uploads, deploys and waits until the version is live', async () => {
  const r = await deploy({ 'job-path': 'inproc-deploy-job' })
  expect(r.failure).toBeUndefined()
  const version = r.outputs['job-version']
  expect(r.outputs).toMatchObject({ 'deployment-status': 'live', skipped: 'false' })
  expect(r.log).toContainEqual(expect.stringMatching(new RegExp(`^version ${version} is live`)))
  const res = await fetch(
    `${emu.url}/data-jobs/for-team/${encodeURIComponent(TEAM)}/jobs/inproc-deploy-job/deployments`,
    { headers: { Authorization: `Bearer ${TOKEN}` } }
  )
  expect(((await res.json()) as Array<{ job_version: string }>)[0].job_version).toBe(version)
})

test('a bad input is refused in one line before any request', async () => {
  emu.journal.splice(0)
  const r = await deploy({ 'job-path': 'inproc-deploy-job', 'python-version': 'three' })
  expect(r.reason).toBe("python-version 'three' should look like 3.11")
  expect(emu.journal).toEqual([])
})
