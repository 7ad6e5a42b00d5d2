// Running one action locally with @github/local-action, as the README documents: it imports the
// action's entry (TypeScript, through tsx) and calls its run(), with inputs from a .env file.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startEmulator, type Emulator } from '../../src/emulator/server.js'
import { ROOT } from '../helpers/service.js'

const run = promisify(execFile)
let emu: Emulator
let dir: string

beforeAll(async () => {
  emu = await startEmulator()
  dir = mkdtempSync(join(tmpdir(), 'local-action-'))
})
afterAll(async () => {
  await emu.close()
  rmSync(dir, { recursive: true, force: true })
})

test('npx local-action run actions/set-properties ../../src/entries/set-properties.ts <.env> works', async () => {
  // set-properties writes only to a job that exists in the team
  const created = await fetch(`${emu.url}/data-jobs/for-team/local%20team/jobs`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ job_name: 'local-action-job', team: 'local team', config: {} })
  })
  expect(created.status).toBe(201)
  const env = join(dir, '.env')
  writeFileSync(
    env,
    [
      `INPUT_CONTROL-SERVICE-URL=${emu.url}`,
      'INPUT_JOB-NAME=local-action-job',
      'INPUT_TEAM=local team',
      'INPUT_PROPERTIES={"greeting": "hello"}'
    ].join('\n')
  )
  const { stdout } = await run(
    join(ROOT, 'node_modules', '.bin', 'local-action'),
    ['run', 'actions/set-properties', '../../src/entries/set-properties.ts', env],
    {
      cwd: ROOT,
      timeout: 90_000,
      env: { ...process.env, NO_COLOR: '1' }
    }
  )
  expect(stdout).toContain("changed 1 key(s) of 'local-action-job': greeting")
  expect(stdout).toMatch(/changed-keys.*\["greeting"\]/)
  const res = await fetch(
    `${emu.url}/data-jobs/for-team/local%20team/jobs/local-action-job/deployments/x/properties`
  )
  expect(await res.json()).toEqual({ greeting: 'hello' })
}, 120_000)
