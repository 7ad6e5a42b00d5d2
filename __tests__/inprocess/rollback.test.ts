// The root action's rollback-on-failure in process (no build), against the local Control Service
// on its frozen clock: a release whose run fails is rolled back to the version live before (its
// python version and enabled state), also after a run-timeout; a first deployment is left as it
// is; an unchanged release is not rolled back; a refused rollback still says both facts; the
// GitHub records (failed release failure, rollback success); and the README's recipe for a
// workflow composing deploy + run-and-wait (deploy again with deploy's previous-* outputs).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator, type Emulator } from '../../src/emulator/server.js'
import { writeJobFolder } from '../helpers/fixtures.js'
import { ALL_PERMISSIONS, GitHubServer } from '../helpers/github-server.js'
import { runInProcess, serviceTime } from '../helpers/inprocess.js'
import { LocalService } from '../helpers/local-service.js'

const TOKEN = 'inprocess-rollback-token-7c21'
const TEAM = 'rollback team'
const INI = `[owner]\nteam = ${TEAM}\n\n[job]\nschedule_cron = 0 6 * * *\npython_version = 3.10\n`
const GH_TOKEN = 'ghs-inprocess-rollback-3f8e'
const SHA = '89abcdef0123456789abcdef0123456789abcdef'
let emu: Emulator
let gh: GitHubServer
let svc: LocalService
let root: string

const pipeline = (inputs: Record<string, string>) =>
  runInProcess(
    '',
    { 'control-service-url': emu.url, 'access-token': TOKEN, ...inputs },
    { workspace: root, time: serviceTime(emu) }
  )

/** The deployment GET .../deployments shows. */
async function live(job: string): Promise<Record<string, unknown> | undefined> {
  const res = await svc.call('GET', `${svc.jobPath(job)}/deployments`)
  return ((await res.json()) as Array<Record<string, unknown>>)[0]
}

beforeAll(async () => {
  emu = await startEmulator({
    tokens: [TOKEN],
    frozenClock: true,
    deploymentSeconds: 30,
    submitSeconds: 1,
    executionSeconds: 10
  })
  gh = await GitHubServer.start({ tokens: { [GH_TOKEN]: ALL_PERMISSIONS } })
  svc = new LocalService(emu, TEAM, TOKEN)
  root = mkdtempSync(join(tmpdir(), 'inprocess-rollback-'))
})
afterAll(async () => {
  await emu.close()
  await gh.close()
  rmSync(root, { recursive: true, force: true })
})

test('a failing run of a new release rolls back to the version before, with its settings', async () => {
  const job = 'inproc-rollback-job'
  const dir = writeJobFolder(root, job, { '10_load.py': 'def run(job_input):\n    pass\n' }, INI)
  const first = await pipeline({ 'job-path': job, enabled: 'false' })
  expect(first.failure).toBeUndefined()
  const v1 = String(first.outputs['job-version'])
  writeFileSync(join(dir, '10_load.py'), 'def run(job_input):\n    raise ValueError("bad")\n')
  await svc.script(job, { status: 'user_error', seconds: 2, logs: ['ValueError: bad'] })
  const mark = emu.journal.length
  const second = await pipeline({
    'job-path': job,
    'python-version': '3.11',
    enabled: 'true',
    run: 'true',
    'rollback-on-failure': 'true'
  })
  const v2 = String(second.outputs['job-version'])
  expect(v2).not.toBe(v1)
  expect(second.reason).toMatch(
    new RegExp(
      `^run-and-wait: version ${v2} failed its check: its execution ${job}-\\S+ ended user_error; rolled back: version ${v1} \\(python 3\\.10, disabled\\) is live again, deployed \\d{4}-`
    )
  )
  expect(second.outputs).toMatchObject({
    'rolled-back': 'true',
    'live-version': v1,
    'previous-version': v1,
    'previous-python-version': '3.10',
    'previous-enabled': 'false',
    status: 'user_error'
  })
  expect(await live(job)).toMatchObject({ job_version: v1, python_version: '3.10', enabled: false })
  const posts = emu.journal
    .slice(mark)
    .filter(e => e.method === 'POST' && e.path.endsWith('/deployments'))
  expect(posts).toHaveLength(2)
  expect(second.log).toContain('— rollback —')
  expect(second.summary?.rows.map(r => r[0])).toContain('Rollback')
})

test('a first deployment whose run fails is not undeployed: nothing to roll back to', async () => {
  const job = 'inproc-first-job'
  writeJobFolder(root, job, { '10_load.py': 'def run(job_input):\n    pass\n' }, INI)
  await svc.script(job, { status: 'platform_error', seconds: 2 })
  const r = await pipeline({ 'job-path': job, run: 'true', 'rollback-on-failure': 'true' })
  const v1 = String(r.outputs['job-version'])
  expect(r.reason).toContain(
    `version ${v1} failed its check: its execution ${r.outputs['execution-id']} ended platform_error; it is the job's first deployment, so there is nothing to roll back to: version ${v1} stays deployed`
  )
  expect(r.outputs).toMatchObject({
    'rolled-back': 'false',
    'live-version': v1,
    'previous-version': ''
  })
  expect(await live(job)).toMatchObject({ job_version: v1 })
  expect(emu.journal.filter(e => e.method === 'DELETE' && e.path.includes(job))).toEqual([])
})

test('without rollback-on-failure, or for an unchanged release, a failing run rolls nothing back', async () => {
  const job = 'inproc-norollback-job'
  const dir = writeJobFolder(root, job, { '10_load.py': 'def run(job_input):\n    pass\n' }, INI)
  const v1 = String((await pipeline({ 'job-path': job })).outputs['job-version'])
  writeFileSync(join(dir, '20_more.py'), 'def run(job_input):\n    pass\n')
  await svc.script(job, { status: 'user_error', seconds: 2 })
  const off = await pipeline({ 'job-path': job, run: 'true' })
  const v2 = String(off.outputs['job-version'])
  expect(off.reason).toMatch(
    /^run-and-wait: execution \S+ of 'inproc-norollback-job' ended user_error/
  )
  expect(off.outputs).toMatchObject({ 'rolled-back': 'false', 'live-version': v2 })
  // the same release again: unchanged, so its failing run is no reason to go back to v1
  await svc.script(job, { status: 'user_error', seconds: 2 })
  const same = await pipeline({ 'job-path': job, run: 'true', 'rollback-on-failure': 'true' })
  expect(same.outputs).toMatchObject({ 'deployment-status': 'unchanged', 'rolled-back': 'false' })
  expect(same.log).not.toContain('— rollback —')
  expect(await live(job)).toMatchObject({ job_version: v2 })
  expect(v2).not.toBe(v1)
})

test('rollback-on-failure takes true or false only, before any request', async () => {
  emu.journal.splice(0)
  const r = await pipeline({ 'job-path': 'inproc-rollback-job', 'rollback-on-failure': 'maybe' })
  expect(r.reason).toContain('rollback-on-failure')
  expect(emu.journal).toEqual([])
})

test('a run that does not end within run-timeout-seconds is a failed check too: rolled back', async () => {
  const job = 'inproc-slow-job'
  const dir = writeJobFolder(root, job, { '10_load.py': 'def run(job_input):\n    pass\n' }, INI)
  const v1 = String((await pipeline({ 'job-path': job })).outputs['job-version'])
  writeFileSync(join(dir, '10_load.py'), 'import time\ndef run(job_input):\n    time.sleep(9999)\n')
  await svc.script(job, { status: 'succeeded', seconds: 9999 })
  const r = await pipeline({
    'job-path': job,
    run: 'true',
    'run-timeout-seconds': '60',
    'rollback-on-failure': 'true'
  })
  const v2 = String(r.outputs['job-version'])
  expect(r.reason).toContain(
    `version ${v2} failed its check: its execution ${r.outputs['execution-id']} did not end within run-timeout-seconds; rolled back: version ${v1}`
  )
  expect(r.outputs).toMatchObject({ 'rolled-back': 'true', 'live-version': v1 })
  expect(await live(job)).toMatchObject({ job_version: v1 })
})

test('GitHub deployment records: the failed release marked failure, the rollback recorded success', async () => {
  const job = 'inproc-gh-rollback-job'
  const dir = writeJobFolder(root, job, { '10_load.py': 'def run(job_input):\n    pass\n' }, INI)
  const env = { GITHUB_API_URL: gh.apiUrl, GITHUB_SERVER_URL: gh.serverUrl, GITHUB_SHA: SHA }
  const withGitHub = (inputs: Record<string, string>) =>
    runInProcess(
      '',
      {
        'control-service-url': emu.url,
        'access-token': TOKEN,
        'github-token': GH_TOKEN,
        'job-path': job,
        ...inputs
      },
      { workspace: root, time: serviceTime(emu), env }
    )
  const v1 = String((await withGitHub({})).outputs['job-version'])
  writeFileSync(join(dir, '20_more.py'), 'def run(job_input):\n    raise ValueError()\n')
  await svc.script(job, { status: 'platform_error', seconds: 2 })
  const r = await withGitHub({ run: 'true', 'rollback-on-failure': 'true' })
  expect(r.outputs).toMatchObject({ 'rolled-back': 'true', 'live-version': v1 })
  const v2 = String(r.outputs['job-version'])
  const records = gh.state.deployments.map(d => ({
    version: (d.payload as { version: string }).version,
    states: d.statuses.map(st => st.state)
  }))
  // the first release (inactive once v2 went live), v2 (live, then failed its check), the rollback
  expect(records).toEqual([
    { version: v1, states: ['in_progress', 'success', 'inactive'] },
    { version: v2, states: ['in_progress', 'success', 'failure'] },
    { version: v1, states: ['in_progress', 'success'] }
  ])
  gh.assertClean()
})

test('a rollback the service refuses fails with both facts: the release failed, it is still live', async () => {
  const job = 'inproc-refused-job'
  const dir = writeJobFolder(root, job, { '10_load.py': 'def run(job_input):\n    pass\n' }, INI)
  const v1 = String((await pipeline({ 'job-path': job })).outputs['job-version'])
  writeFileSync(join(dir, '20_more.py'), 'def run(job_input):\n    raise ValueError()\n')
  await svc.script(job, { status: 'user_error', seconds: 2 })
  // the release's deployment goes through; the second one (the rollback) is refused
  await svc.fault({ method: 'POST', path: `/${job}/deployments$`, status: 400, skip: 1, times: 1 })
  const r = await pipeline({ 'job-path': job, run: 'true', 'rollback-on-failure': 'true' })
  const v2 = String(r.outputs['job-version'])
  expect(r.reason).toMatch(
    new RegExp(
      `^run-and-wait: version ${v2} failed its check: its execution \\S+ ended user_error; the rollback to version ${v1} failed \\(.*HTTP 400.*\\): version ${v2} is still live$`
    )
  )
  expect(r.outputs).toMatchObject({ 'rolled-back': 'false', 'live-version': v2 })
  expect(await live(job)).toMatchObject({ job_version: v2 })
})

test("a workflow composing deploy + run-and-wait restores with deploy's previous-* outputs (the README's recipe)", async () => {
  const job = 'inproc-composed-job'
  const dir = writeJobFolder(root, job, { '10_load.py': 'def run(job_input):\n    pass\n' }, INI)
  const action = (name: string, inputs: Record<string, string>) =>
    runInProcess(
      name,
      { 'control-service-url': emu.url, 'access-token': TOKEN, ...inputs },
      { workspace: root, time: serviceTime(emu) }
    )
  const v1 = String(
    (await action('deploy', { 'job-path': job, enabled: 'false' })).outputs['job-version']
  )
  writeFileSync(join(dir, '20_more.py'), 'def run(job_input):\n    raise ValueError()\n')
  const deployed = await action('deploy', { 'job-path': job, 'python-version': '3.11' })
  expect(deployed.outputs).toMatchObject({
    'deployment-status': 'live',
    'previous-version': v1,
    'previous-python-version': '3.10',
    'previous-enabled': 'false'
  })
  const o = deployed.outputs
  const restored = await action('deploy', {
    'job-name': job,
    team: TEAM,
    'job-version': String(o['previous-version']),
    'python-version': String(o['previous-python-version']),
    'vdk-version': String(o['previous-vdk-version']),
    enabled: String(o['previous-enabled'])
  })
  expect(restored.failure).toBeUndefined()
  expect(restored.outputs).toMatchObject({ 'job-version': v1, 'deployment-status': 'live' })
  expect(await live(job)).toMatchObject({ job_version: v1, python_version: '3.10', enabled: false })
})
