// plan end to end: the committed bundle under Node 24, on a real git repository, against the local
// Control Service and the GitHub test server (every request and answer checked against GitHub's
// REST description). The pull-request comment is created, then updated in place after another
// push (still one comment), then says that nothing changes any more; the Control Service's journal
// shows reads only.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator, type Emulator } from '../../src/emulator/server.js'
import { commitFiles, git } from '../helpers/gitrepo.js'
import { GitHubServer } from '../helpers/github-server.js'
import { runInProcess, serviceTime } from '../helpers/inprocess.js'
import { writePullRequestEvent } from '../helpers/pull-request-event.js'
import { runAction } from '../helpers/runner.js'

const TOKEN = 'e2e-plan-access-token-5d2e'
const GITHUB_TOKEN = 'ghs-plan-e2e-token-8a7c'
const TEAM = 'plan e2e team'
const JOB = 'e2e-plan-job'
const ini = (cron: string) => `[owner]\nteam = ${TEAM}\n\n[job]\nschedule_cron = ${cron}\n`
let emu: Emulator
let gh: GitHubServer
let root: string
let base: string

/** The pull request's event at `head`, written for the run. */
function event(head: string): string {
  const path = join(root, '..', `plan-e2e-event-${process.pid}.json`)
  return writePullRequestEvent(path, { number: 12, base, head })
}

/** changed-jobs, then plan with comment: true, for the head commit now. */
async function planAtHead() {
  const head = git(root, 'rev-parse', 'HEAD')
  const env = {
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: event(head),
    GITHUB_API_URL: gh.apiUrl,
    GITHUB_SERVER_URL: gh.serverUrl
  }
  const changed = await runInProcess(
    'changed-jobs',
    { 'jobs-root': 'jobs' },
    { workspace: root, env }
  )
  expect(changed.failure).toBeUndefined()
  emu.journal.splice(0)
  const run = await runAction(
    'plan',
    {
      'control-service-url': emu.url,
      'access-token': TOKEN,
      jobs: changed.outputs.jobs,
      deleted: changed.outputs.deleted,
      comment: 'true',
      'github-token': GITHUB_TOKEN
    },
    { workspace: root, env }
  )
  return { run, head }
}

const comments = () =>
  gh.state.comments.filter(c => c.repoKey === 'acme/data-jobs' && c.issue === 12)

beforeAll(async () => {
  emu = await startEmulator({ tokens: [TOKEN], frozenClock: true, deploymentSeconds: 30 })
  gh = await GitHubServer.start({
    tokens: { [GITHUB_TOKEN]: { pull_requests: 'write', contents: 'read' } }
  })
  root = mkdtempSync(join(tmpdir(), 'e2e-plan-'))
  git(root, 'init', '-q', '-b', 'main')
  base = commitFiles(
    root,
    { [`jobs/${JOB}/config.ini`]: ini('0 6 * * *'), [`jobs/${JOB}/10_load.py`]: 'print(1)\n' },
    'base'
  )
  const deployed = await runInProcess(
    'deploy',
    { 'control-service-url': emu.url, 'access-token': TOKEN, 'job-path': `jobs/${JOB}` },
    { workspace: root, time: serviceTime(emu) }
  )
  expect(deployed.outputs['deployment-status']).toBe('live')
})
afterAll(async () => {
  await Promise.all([emu.close(), gh.close()])
  rmSync(root, { recursive: true, force: true })
  rmSync(join(root, '..', `plan-e2e-event-${process.pid}.json`), { force: true })
})

test('one comment: created, updated in place after a push, then saying nothing changes', async () => {
  // the first push of the pull request: a new schedule and a new file
  commitFiles(
    root,
    { [`jobs/${JOB}/config.ini`]: ini('30 6 * * *'), [`jobs/${JOB}/20_more.py`]: 'print(2)\n' },
    'first push'
  )
  const first = await planAtHead()
  expect(first.run.code).toBe(0)
  expect(first.run.outputs['has-changes']).toBe('true')
  expect(comments()).toHaveLength(1)
  const created = comments()[0]
  expect(created.body.split('\n')[0]).toBe('<!-- vdk-actions:plan -->')
  expect(created.body).toContain('<code>30 6 * * *</code>')
  expect(created.body).toContain('20_more.py')
  expect(created.body).toContain(first.head.slice(0, 12))
  // reads only: the Control Service saw GET requests and nothing else
  expect(emu.journal.length).toBeGreaterThan(0)
  expect(emu.journal.filter(e => e.method !== 'GET')).toEqual([])

  // a second push changes the schedule again: the same comment, updated
  commitFiles(root, { [`jobs/${JOB}/config.ini`]: ini('45 6 * * *') }, 'second push')
  const second = await planAtHead()
  expect(second.run.code).toBe(0)
  expect(comments()).toHaveLength(1)
  expect(comments()[0].id).toBe(created.id)
  expect(comments()[0].body).toContain('<code>45 6 * * *</code>')
  expect(comments()[0].body).not.toContain('30 6 * * *')
  expect(emu.journal.filter(e => e.method !== 'GET')).toEqual([])

  // the pull request goes back to what is deployed: nothing changes any more, and it says so
  commitFiles(
    root,
    { [`jobs/${JOB}/config.ini`]: ini('0 6 * * *'), [`jobs/${JOB}/20_more.py`]: null },
    'revert'
  )
  const third = await planAtHead()
  expect(third.run.code).toBe(0)
  expect(third.run.outputs['has-changes']).toBe('false')
  expect(comments()).toHaveLength(1)
  expect(comments()[0].body).toContain('nothing changes on the Control Service')

  const writes = gh.journal.filter(e => e.method !== 'GET').map(e => `${e.method} ${e.operationId}`)
  expect(writes).toEqual([
    'POST issues/create-comment',
    'PATCH issues/update-comment',
    'PATCH issues/update-comment'
  ])
  gh.assertClean()
})
