// The root action's rollback-on-failure, end to end: the committed-style bundle under Node 24
// against the local Control Service. A release whose run ends user_error is rolled back to the
// version before (the journal shows the second POST of a deployment, the service's deploy e-mails
// that it was the old job_version, GET .../deployments shows it live), and the step fails with
// both facts; a first deployment is left deployed; a deploy that never went live rolls nothing back.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator, type Emulator } from '../../src/emulator/server.js'
import { runAction } from '../helpers/runner.js'

let emu: Emulator
let root: string
const TOKEN = 'rollback-e2e-token-5d0c'
const TEAM = 'rollback team'
const INI = `[owner]\nteam = ${TEAM}\n\n[job]\nschedule_cron = 0 3 * * *\npython_version = 3.10\n`

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'vdk-rollback-'))
  emu = await startEmulator({
    deploymentSeconds: 0.3,
    executionSeconds: 0.6,
    submitSeconds: 0.1,
    tokens: [TOKEN]
  })
})
afterAll(async () => {
  await emu.close()
  rmSync(root, { recursive: true, force: true })
})

/** Writes job folder `job` with one step whose text is `step` (a new text: a new version). */
function writeJob(job: string, step: string): void {
  const dir = join(root, 'jobs', job)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'config.ini'), INI)
  writeFileSync(join(dir, '10_step.py'), step)
}

const pipeline = (job: string, inputs: Record<string, string> = {}) =>
  runAction(
    '',
    {
      'control-service-url': emu.url,
      'access-token': TOKEN,
      'job-path': `jobs/${job}`,
      'poll-interval-seconds': '0.2',
      ...inputs
    },
    { workspace: root }
  )

async function call(path: string, init: { method?: string; body?: unknown } = {}) {
  return fetch(`${emu.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body)
  })
}

const jobPath = (job: string) => `/data-jobs/for-team/${encodeURIComponent(TEAM)}/jobs/${job}`

async function script(job: string, kind: 'next-execution' | 'next-deployment', body: unknown) {
  const res = await call(`/_emulator/jobs/${encodeURIComponent(TEAM)}/${job}/${kind}`, {
    method: 'POST',
    body
  })
  expect(res.status).toBe(201)
}

async function live(job: string): Promise<Record<string, unknown> | undefined> {
  return (
    (await (await call(`${jobPath(job)}/deployments`)).json()) as Array<Record<string, unknown>>
  )[0]
}

const errors = (stdout: string) => stdout.split('\n').filter(l => l.startsWith('::error'))

test('a user_error after the deploy redeploys the version before and fails with both facts', async () => {
  const job = 'rollback-e2e-job'
  writeJob(job, 'def run(job_input):\n    pass\n')
  const first = await pipeline(job)
  expect(first.code).toBe(0)
  const v1 = first.outputs['job-version']
  writeJob(job, 'def run(job_input):\n    raise ValueError("bad release")\n')
  await script(job, 'next-execution', { status: 'user_error', seconds: 0.2, logs: ['bad release'] })
  await call('/_emulator/notifications', { method: 'DELETE' })
  emu.journal.splice(0)
  const run = await pipeline(job, { run: 'true', 'rollback-on-failure': 'true' })
  expect(run.code).toBe(1)
  const v2 = run.outputs['job-version']
  expect(v2).toMatch(/^[0-9a-f]{40}$/)
  expect(v2).not.toBe(v1)
  const id = run.outputs['execution-id']
  const errorLines = errors(run.stdout)
  expect(errorLines).toHaveLength(1)
  expect(errorLines[0]).toMatch(
    new RegExp(
      `^::error::vdk-actions: run-and-wait: version ${v2} failed its check: its execution ${id} ended user_error; rolled back: version ${v1} \\(python 3\\.10, enabled\\) is live again, deployed \\d{4}-\\d\\d-\\d\\dT`
    )
  )
  expect(run.outputs).toMatchObject({
    'rolled-back': 'true',
    'live-version': v1,
    'previous-version': v1,
    status: 'user_error'
  })
  // the journal: the release's deployment, its execution, then a second deployment…
  const order = emu.journal.map(j => `${j.method} ${j.path.split('/').slice(-1)[0]}`)
  const posts = order.flatMap((o, i) => (o === 'POST deployments' ? [i] : []))
  expect(posts).toHaveLength(2)
  expect(order.indexOf('POST executions')).toBeGreaterThan(posts[0])
  expect(order.indexOf('POST executions')).toBeLessThan(posts[1])
  // …of the old job_version (the deploy e-mails of the service name each deployment's version)
  const sent = (await (await call('/_emulator/notifications')).json()) as Array<
    Record<string, unknown>
  >
  expect(sent.map(n => [n.job_version, n.outcome, n.live_version])).toEqual([
    [v2, 'SUCCESS', v2],
    [v1, 'SUCCESS', v1]
  ])
  // and the deployment read shows it live, with its python version and enabled
  expect(await live(job)).toMatchObject({ job_version: v1, python_version: '3.10', enabled: true })
  expect(run.summary).toContain('Rollback')
  expect(run.summary).toContain(`rolled back to version ${v1}`)
})

test('a first deployment whose run fails has nothing to roll back to and stays deployed', async () => {
  const job = 'rollback-e2e-first'
  writeJob(job, 'def run(job_input):\n    pass\n')
  await script(job, 'next-execution', { status: 'user_error', seconds: 0.2 })
  emu.journal.splice(0)
  const run = await pipeline(job, { run: 'true', 'rollback-on-failure': 'true' })
  expect(run.code).toBe(1)
  const v1 = run.outputs['job-version']
  expect(errors(run.stdout)).toEqual([
    `::error::vdk-actions: run-and-wait: version ${v1} failed its check: its execution ${run.outputs['execution-id']} ended user_error; it is the job's first deployment, so there is nothing to roll back to: version ${v1} stays deployed (undeploy or disable it yourself if it must not run on its schedule)`
  ])
  expect(run.outputs).toMatchObject({ 'rolled-back': 'false', 'live-version': v1 })
  const changes = emu.journal.filter(j => j.method !== 'GET').map(j => j.method + ' ' + j.path)
  expect(changes.filter(c => c.endsWith('/deployments'))).toHaveLength(1)
  expect(changes.filter(c => c.startsWith('DELETE') || c.startsWith('PATCH'))).toEqual([])
  expect(await live(job)).toMatchObject({ job_version: v1 })
})

test('a deploy that never went live rolls nothing back: the old version runs, the build may still finish', async () => {
  const job = 'rollback-e2e-notlive'
  writeJob(job, 'def run(job_input):\n    pass\n')
  const first = await pipeline(job)
  expect(first.code).toBe(0)
  const v1 = first.outputs['job-version']
  writeJob(job, 'def run(job_input):\n    print("v2")\n')
  await script(job, 'next-deployment', { status: 'USER_ERROR', seconds: 0.3 })
  emu.journal.splice(0)
  const run = await pipeline(job, {
    run: 'true',
    'rollback-on-failure': 'true',
    'deploy-timeout-seconds': '1.5'
  })
  expect(run.code).toBe(1)
  const v2 = run.outputs['job-version']
  const errorLines = errors(run.stdout)
  expect(errorLines).toHaveLength(1)
  expect(errorLines[0]).toMatch(
    new RegExp(`^::error::vdk-actions: deploy: version ${v2} of '${job}' was not live after`)
  )
  expect(errorLines[0]).toContain(
    `; rollback-on-failure: nothing to roll back (version ${v1} is still live: version ${v2} never went live); its build may still finish later on the Control Service and make it live`
  )
  expect(run.outputs).toMatchObject({
    'deployment-status': 'not-live',
    'rolled-back': 'false',
    'live-version': v1
  })
  // one deployment sent (the new one), no execution started
  const changes = emu.journal.filter(j => j.method !== 'GET').map(j => j.method + ' ' + j.path)
  expect(changes.filter(c => c.endsWith('/deployments'))).toHaveLength(1)
  expect(changes.filter(c => c.endsWith('/executions'))).toEqual([])
  expect(await live(job)).toMatchObject({ job_version: v1 })
})
