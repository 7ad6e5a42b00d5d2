// deploy's and the root action's GitHub deployment record, end to end: the committed bundles run
// as the runner runs them, under Node 24, against the local Control Service and the GitHub test
// server (every request and answer checked against GitHub's REST description). A live deploy is a
// deployment with in_progress then success; a build that fails (the local service's deployment
// script USER_ERROR) ends in failure; a second deploy of the job marks the first inactive; a token
// without deployments: write is one notice and the deploy goes on.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator, type Emulator } from '../../src/emulator/server.js'
import { writeJobFolder } from '../helpers/fixtures.js'
import { ALL_PERMISSIONS, GitHubServer } from '../helpers/github-server.js'
import { runAction, type ActionRun } from '../helpers/runner.js'

const TOKEN = 'e2e-ghdeploy-token-8a41'
const GH_TOKEN = 'ghs-e2e-deployments-write-3c7f'
const GH_READ_ONLY = 'ghs-e2e-no-deployments-5e20'
const TEAM = 'data team'
const SHA = '0123456789abcdef0123456789abcdef01234567'
const INI = `[owner]\nteam = ${TEAM}\n\n[job]\nschedule_cron = 0 6 * * *\n`
let emu: Emulator
let gh: GitHubServer
let root: string

const env = () => ({ GITHUB_API_URL: gh.apiUrl, GITHUB_SERVER_URL: gh.serverUrl })
const run = (action: string, inputs: Record<string, string>): Promise<ActionRun> =>
  runAction(
    action,
    {
      'control-service-url': emu.url,
      'access-token': TOKEN,
      'poll-interval-seconds': '0.2',
      ...inputs
    },
    { workspace: root, env: env() }
  )
const statesOf = (id: string) =>
  gh.state.deployments.find(d => String(d.id) === id)?.statuses.map(s => s.state)

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'vdk-e2e-ghdeploy-'))
  emu = await startEmulator({ deploymentSeconds: 0.3, tokens: [TOKEN] })
  gh = await GitHubServer.start({
    tokens: { [GH_TOKEN]: ALL_PERMISSIONS, [GH_READ_ONLY]: { contents: 'read' } }
  })
})
afterAll(async () => {
  await emu.close()
  await gh.close()
  rmSync(root, { recursive: true, force: true })
})
afterEach(() => gh.assertClean())

test('deploy: a live deploy is a GitHub deployment, in_progress then success; the next one marks it inactive', async () => {
  writeJobFolder(root, 'gh-e2e-job', { 'a.py': 'v = 1\n' }, INI)
  const first = await run('deploy', { 'job-path': 'gh-e2e-job', 'github-token': GH_TOKEN })
  expect(first.code).toBe(0)
  const id = first.outputs['github-deployment-id']
  expect(id).toMatch(/^\d+$/)
  const record = gh.state.deployments.find(d => String(d.id) === id)
  expect(record).toMatchObject({
    ref: SHA,
    environment: `vdk/${TEAM}/gh-e2e-job`,
    payload: { job: 'gh-e2e-job', team: TEAM, version: first.outputs['job-version'] }
  })
  expect(statesOf(id)).toEqual(['in_progress', 'success'])
  expect(record?.statuses[1].log_url).toBe(`${gh.serverUrl}/acme/data-jobs/actions/runs/4242`)
  expect(first.summary).toContain(`GitHub deployment ${id} (vdk/${TEAM}/gh-e2e-job)`)

  writeJobFolder(root, 'gh-e2e-job', { 'a.py': 'v = 2\n' }, INI)
  const second = await run('deploy', { 'job-path': 'gh-e2e-job', 'github-token': GH_TOKEN })
  expect(second.code).toBe(0)
  expect(statesOf(id)).toEqual(['in_progress', 'success', 'inactive'])
  expect(statesOf(second.outputs['github-deployment-id'])).toEqual(['in_progress', 'success'])
})

test('deploy: a build that fails (not live in time) ends the GitHub deployment in failure; the step fails as before', async () => {
  writeJobFolder(root, 'gh-e2e-failing', { 'a.py': 'v = 1\n' }, INI)
  const admin = await fetch(
    `${emu.url}/_emulator/jobs/${encodeURIComponent(TEAM)}/gh-e2e-failing/next-deployment`,
    {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ status: 'USER_ERROR', seconds: 0.3 })
    }
  )
  expect(admin.status).toBeLessThan(300)
  const r = await run('deploy', {
    'job-path': 'gh-e2e-failing',
    'github-token': GH_TOKEN,
    'timeout-seconds': '1.5'
  })
  expect(r.code).toBe(1)
  expect(r.outputs['deployment-status']).toBe('not-live')
  const id = r.outputs['github-deployment-id']
  expect(statesOf(id)).toEqual(['in_progress', 'failure'])
  const failure = gh.state.deployments.find(d => String(d.id) === id)?.statuses[1]
  expect(failure?.description).toMatch(
    /^not live: version [0-9a-f]{40} of 'gh-e2e-failing' was not live/
  )
  expect(failure?.description.length).toBeLessThanOrEqual(140)
})

test('deploy: a token without deployments: write is ONE notice naming the permission, and the deploy goes on', async () => {
  writeJobFolder(root, 'gh-e2e-noperm', { 'a.py': 'v = 1\n' }, INI)
  const r = await run('deploy', { 'job-path': 'gh-e2e-noperm', 'github-token': GH_READ_ONLY })
  expect(r.code).toBe(0)
  expect(r.outputs).toMatchObject({ 'deployment-status': 'live', 'github-deployment-id': '' })
  const notices = r.stdout.split('\n').filter(l => l.startsWith('::notice'))
  expect(notices).toEqual([
    '::notice::the deploy is not recorded as a GitHub deployment: GitHub: could not create the GitHub deployment (HTTP 403: Resource not accessible by integration): the token lacks the permission deployments: write; grant it in the workflow with "permissions: deployments: write" (github-deployment: false turns the record off)'
  ])
  expect(r.stdout.split('\n').filter(l => l.startsWith('::warning'))).toEqual([])
  // the token is masked first, and never said otherwise
  const said = r.stdout.split('\n').filter(l => !l.startsWith('::add-mask::'))
  expect(said.join('\n')).not.toContain(GH_READ_ONLY)
  expect(r.stdout).toContain(`::add-mask::${GH_READ_ONLY}`)
  expect(gh.violations.at(-1)?.explainedBy).toBe('no-permission-403')
})

test('the root action records its deploy part the same way', async () => {
  writeJobFolder(root, 'gh-e2e-root', { 'a.py': 'v = 1\n' }, INI)
  const r = await run('', {
    'job-path': 'gh-e2e-root',
    'github-token': GH_TOKEN,
    'github-environment': 'data-jobs/gh-e2e-root',
    'environment-url': 'https://vdk.example.com/explore/{team}/{job}'
  })
  expect(r.code).toBe(0)
  const id = r.outputs['github-deployment-id']
  const record = gh.state.deployments.find(d => String(d.id) === id)
  expect(record?.environment).toBe('data-jobs/gh-e2e-root')
  expect(record?.statuses.map(s => [s.state, s.environment_url])).toEqual([
    ['in_progress', 'https://vdk.example.com/explore/data%20team/gh-e2e-root'],
    ['success', 'https://vdk.example.com/explore/data%20team/gh-e2e-root']
  ])
})
