// validate in process (no build): a job folder checked against the local Control Service in this
// process (which Python versions it offers); every problem an annotation on its file and line.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator, type Emulator } from '../../src/emulator/server.js'
import { writeJobFolder } from '../helpers/fixtures.js'
import { runInProcess } from '../helpers/inprocess.js'

const TOKEN = 'inprocess-validate-token-3f62'
const INI =
  '[owner]\nteam = data team\n\n[job]\nschedule_cron = 0 6 * * 1-5\npython_version = 3.11\n'
const STEP = { '10_load.py': 'def run(job_input):\n    pass\n' }
let emu: Emulator
let root: string

const validate = (inputs: Record<string, string>) =>
  runInProcess(
    'validate',
    { 'control-service-url': emu.url, 'access-token': TOKEN, ...inputs },
    { workspace: root }
  )

beforeAll(async () => {
  emu = await startEmulator({ tokens: [TOKEN], frozenClock: true })
  root = mkdtempSync(join(tmpdir(), 'inprocess-validate-'))
  writeJobFolder(root, 'inproc-good-job', STEP, INI)
  writeJobFolder(root, 'inproc-cron-job', STEP, INI.replace('0 6 * * 1-5', '0 25 * * *'))
})
afterAll(async () => {
  await emu.close()
  rmSync(root, { recursive: true, force: true })
})

test('a good job: valid, no problem, and only GET .../info was sent', async () => {
  emu.journal.splice(0)
  const r = await validate({ 'job-path': 'inproc-good-job' })
  expect(r.failure).toBeUndefined()
  expect(r.outputs).toEqual({ problems: '0', valid: 'true' })
  expect(emu.journal.map(j => `${j.method} ${j.path}`)).toEqual([
    'GET /data-jobs/for-team/data%20team/info'
  ])
})

test('a bad schedule: an annotation on its line of config.ini, and the step fails', async () => {
  const r = await validate({ 'job-path': 'inproc-cron-job' })
  expect(r.outputs).toEqual({ problems: '1', valid: 'false' })
  expect(r.reason).toBe('1 problem(s) in inproc-cron-job')
  expect(r.lines.filter(l => l.level === 'error' && l.place)).toEqual([
    expect.objectContaining({
      place: expect.objectContaining({ file: 'inproc-cron-job/config.ini', startLine: 5 })
    })
  ])
})

test('a bad input is refused in one line before any request', async () => {
  emu.journal.splice(0)
  const r = await validate({ 'job-path': 'inproc-good-job', 'job-name': 'bad_name_job' })
  expect(r.reason).toMatch(/^job-name 'bad_name_job' is not a valid job name: /)
  expect(emu.journal).toEqual([])
})
