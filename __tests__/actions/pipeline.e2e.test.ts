// The root action, end to end: the whole pipeline for one job in one step, under Node 24, against
// the local Control Service — deploy (upload, wait until live), run and wait, set properties.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator, type Emulator } from '../../src/emulator/server.js'
import { runAction } from '../helpers/runner.js'

let emu: Emulator
let root: string
const TOKEN = 'pipeline-token-0b9d2e'

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'vdk-pipeline-'))
  emu = await startEmulator({
    deploymentSeconds: 0.3,
    executionSeconds: 0.6,
    submitSeconds: 0.1,
    tokens: [TOKEN]
  })
  const job = join(root, 'jobs', 'pipeline-job')
  mkdirSync(job, { recursive: true })
  writeFileSync(
    join(job, 'config.ini'),
    '[owner]\nteam = pipeline team\n\n[job]\nschedule_cron = 0 3 * * *\npython_version = 3.10\n'
  )
  writeFileSync(join(job, '10_step.py'), 'def run(job_input):\n    pass\n')
  writeFileSync(join(job, 'properties.yaml'), 'batch_size: 500\nsource: {schema: sales}\n')
})
afterAll(async () => {
  await emu.close()
  rmSync(root, { recursive: true, force: true })
})

const pipeline = (inputs: Record<string, string>) =>
  runAction(
    '',
    {
      'control-service-url': emu.url,
      'access-token': TOKEN,
      'job-path': 'jobs/pipeline-job',
      'poll-interval-seconds': '0.2',
      ...inputs
    },
    { workspace: root }
  )

test('upload, deploy, run and set properties in one step; outputs and one summary', async () => {
  const run = await pipeline({
    run: 'true',
    arguments: '{"day": "2026-11-23"}',
    'properties-file': 'jobs/pipeline-job/properties.yaml',
    secrets: 'pw: pipeline-secret-value'
  })
  expect(run.code).toBe(0)
  expect(run.outputs).toMatchObject({
    'deployment-status': 'live',
    skipped: 'false',
    status: 'succeeded',
    'property-count': '2'
  })
  expect(run.outputs['job-version']).toMatch(/^[0-9a-f]{40}$/)
  expect(run.outputs['execution-id']).toMatch(/^pipeline-job-/)
  expect(JSON.parse(run.outputs['changed-keys'])).toEqual(['batch_size', 'source', 'pw'])
  for (const part of ['— deploy —', '— run-and-wait —', '— set-properties —'])
    expect(run.log).toContain(part)
  expect(run.summary).toContain('VDK data job pipeline')
  const order = emu.journal.map(j => `${j.method} ${j.path.split('/').slice(-1)[0]}`)
  expect(order.indexOf('POST sources')).toBeLessThan(order.indexOf('POST deployments'))
  expect(order.indexOf('POST deployments')).toBeLessThan(order.indexOf('POST executions'))
  expect(order.indexOf('POST executions')).toBeLessThan(order.indexOf('PUT properties'))
  const shown = run.stdout
    .split('\n')
    .filter(l => !l.startsWith('::add-mask::'))
    .join('\n')
  for (const secret of [TOKEN, 'pipeline-secret-value'])
    expect(shown + JSON.stringify(run.outputs) + run.summary).not.toContain(secret)
  // the post step of the run part: nothing left to clean up
  const post = await runAction(
    '',
    {
      'control-service-url': emu.url,
      'access-token': TOKEN,
      'job-path': 'jobs/pipeline-job',
      run: 'true'
    },
    { workspace: root, phase: 'post', state: run.state }
  )
  expect(post.code).toBe(0)
  expect(post.log).toContain('nothing to clean up')
})

test('without run and properties it only deploys; a failing run fails the step with the part named', async () => {
  const only = await pipeline({})
  expect(only.code).toBe(0)
  expect(only.outputs).toMatchObject({ skipped: 'true' })
  expect(only.outputs.status).toBeUndefined()
  const scripted = await fetch(
    `${emu.url}/_emulator/jobs/${encodeURIComponent('pipeline team')}/pipeline-job/next-execution`,
    {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ status: 'user_error', seconds: 0.2, logs: ['boom'] })
    }
  )
  expect(scripted.status).toBe(201)
  const failed = await pipeline({ run: 'true' })
  expect(failed.code).toBe(1)
  expect(failed.stdout).toMatch(
    /::error::vdk-actions: run-and-wait: execution pipeline-job-\S+ of 'pipeline-job' ended user_error/
  )
})

test('bad inputs of every part are reported together, once, before any request', async () => {
  emu.journal.splice(0)
  const run = await pipeline({
    run: 'true',
    'run-wait': 'forever',
    'deploy-timeout-seconds': '-1',
    'properties-mode': 'upsert',
    properties: 'a: 1'
  })
  expect(run.code).toBe(1)
  const errors = run.stdout.split('\n').filter(l => l.startsWith('::error::'))
  expect(errors).toHaveLength(1)
  expect(errors[0]).toContain(
    "deploy-timeout-seconds must be a number of seconds above 0, not '-1'"
  )
  expect(errors[0]).toContain("run-wait must be one of true, false, running, not 'forever'")
  expect(errors[0]).toContain("properties-mode must be merge or replace, not 'upsert'")
  expect(errors[0].match(/control-service-url|job-name/g)).toBeNull()
  expect(emu.journal).toEqual([])
})
