// upload-sources in process (no build): the definition in src/actions against the local Control
// Service in this process. The bundle's own test is __tests__/actions/upload-deploy.e2e.test.ts.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator, type Emulator } from '../../src/emulator/server.js'
import { sourcesOf, writeJobFolder } from '../helpers/fixtures.js'
import { runInProcess } from '../helpers/inprocess.js'

const TOKEN = 'inprocess-upload-token-51c0'
const TEAM = 'upload team'
const INI = `[owner]\nteam = ${TEAM}\n\n[job]\nschedule_cron = 0 6 * * *\n`
let emu: Emulator
let root: string

const upload = (inputs: Record<string, string>) =>
  runInProcess(
    'upload-sources',
    { 'control-service-url': emu.url, 'access-token': TOKEN, ...inputs },
    { workspace: root }
  )

beforeAll(async () => {
  emu = await startEmulator({ tokens: [TOKEN], frozenClock: true })
  root = mkdtempSync(join(tmpdir(), 'inprocess-upload-'))
  writeJobFolder(
    root,
    'inproc-upload-job',
    { '10_load.py': 'def run(job_input):\n    pass\n' },
    INI
  )
})
afterAll(async () => {
  await emu.close()
  rmSync(root, { recursive: true, force: true })
})

test('creates the job from config.ini and uploads its folder: outputs, summary, the sources', async () => {
  const r = await upload({ 'job-path': 'inproc-upload-job' })
  expect(r.failure).toBeUndefined()
  const version = r.outputs['job-version']
  expect(version).toMatch(/^[0-9a-f]{7,}$/)
  expect(r.outputs).toMatchObject({
    'job-name': 'inproc-upload-job',
    team: TEAM,
    'file-count': '2'
  })
  expect(Number(r.outputs['archive-bytes'])).toBeGreaterThan(0)
  expect(r.summary?.rows[0].slice(0, 4)).toEqual(['inproc-upload-job', TEAM, version, '2'])
  expect(Object.keys(await sourcesOf(emu.url, TOKEN, TEAM, 'inproc-upload-job')).sort()).toEqual([
    'inproc-upload-job/10_load.py',
    'inproc-upload-job/config.ini'
  ])
  expect(r.masked).toContain(TOKEN)
})

test('a bad input is refused in one line before any request', async () => {
  emu.journal.splice(0)
  const r = await upload({ 'job-path': 'inproc-upload-job', 'create-if-missing': 'maybe' })
  expect(r.reason).toBe("create-if-missing must be true or false, not 'maybe'")
  expect(r.outputs).toEqual({})
  expect(emu.journal).toEqual([])
})
