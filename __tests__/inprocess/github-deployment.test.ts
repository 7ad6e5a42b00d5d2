// deploy's record as a GitHub deployment, in process (no build): the local Control Service and the
// GitHub test server, both on loopback; every request to GitHub and its answer checked against
// GitHub's REST description (helpers/github-server.ts). A live deploy: a deployment in the job's
// environment, in_progress then success, with the run as log_url and the link of environment-url;
// a second deploy marks the first inactive; a token without deployments: write is one notice and
// the deploy goes on; bad inputs are refused before any request.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator, type Emulator } from '../../src/emulator/server.js'
import { writeJobFolder } from '../helpers/fixtures.js'
import { ALL_PERMISSIONS, GitHubServer } from '../helpers/github-server.js'
import { runInProcess, serviceTime } from '../helpers/inprocess.js'

const TOKEN = 'inprocess-ghdeploy-token-51c2'
const GH_TOKEN = 'ghs-inprocess-deployments-7d1e'
const GH_READ_ONLY = 'ghs-inprocess-readonly-2b9a'
const TEAM = 'gh team'
const INI = `[owner]\nteam = ${TEAM}\n\n[job]\nschedule_cron = 0 6 * * *\n`
const SHA = '0123456789abcdef0123456789abcdef01234567'
let emu: Emulator
let gh: GitHubServer
let root: string

const deploy = (inputs: Record<string, string>) =>
  runInProcess(
    'deploy',
    { 'control-service-url': emu.url, 'access-token': TOKEN, ...inputs },
    {
      workspace: root,
      time: serviceTime(emu),
      env: { GITHUB_API_URL: gh.apiUrl, GITHUB_SERVER_URL: gh.serverUrl, GITHUB_SHA: SHA }
    }
  )

beforeAll(async () => {
  emu = await startEmulator({ tokens: [TOKEN], frozenClock: true, deploymentSeconds: 30 })
  gh = await GitHubServer.start({
    tokens: { [GH_TOKEN]: ALL_PERMISSIONS, [GH_READ_ONLY]: { contents: 'read' } }
  })
  root = mkdtempSync(join(tmpdir(), 'inprocess-ghdeploy-'))
  writeJobFolder(root, 'gh-job', { '10_load.py': 'def run(job_input):\n    pass\n' }, INI)
})
afterAll(async () => {
  await emu.close()
  await gh.close()
  rmSync(root, { recursive: true, force: true })
})
afterEach(() => gh.assertClean())

const statesOf = (id: number) =>
  gh.state.deployments.find(d => d.id === id)?.statuses.map(s => s.state)

test('a live deploy is a GitHub deployment of the job: in_progress, then success', async () => {
  const r = await deploy({
    'job-path': 'gh-job',
    'github-token': GH_TOKEN,
    'environment-url': 'https://vdk.example.com/explore/{team}/{job}?v={version}'
  })
  expect(r.failure).toBeUndefined()
  const version = r.outputs['job-version']
  const id = Number(r.outputs['github-deployment-id'])
  const record = gh.state.deployments.find(d => d.id === id)
  expect(record).toMatchObject({
    sha: SHA,
    ref: SHA,
    environment: 'vdk/gh team/gh-job',
    auto_merge: false,
    required_contexts: [],
    payload: {
      job: 'gh-job',
      team: TEAM,
      version,
      'control-service-url': emu.url
    }
  })
  expect(record?.statuses.map(s => [s.state, s.log_url, s.environment_url])).toEqual([
    ['in_progress', `${gh.serverUrl}/acme/data-jobs/actions/runs/4242`, expect.any(String)],
    [
      'success',
      `${gh.serverUrl}/acme/data-jobs/actions/runs/4242`,
      `https://vdk.example.com/explore/gh%20team/gh-job?v=${version}`
    ]
  ])
  expect(gh.journal.every(e => e.token === GH_TOKEN)).toBe(true)

  // a second deploy of the same job: the first is marked inactive by GitHub, not by the action
  writeJobFolder(root, 'gh-job', { '10_load.py': 'x = 2\n' }, INI)
  const second = await deploy({ 'job-path': 'gh-job', 'github-token': GH_TOKEN })
  expect(second.failure).toBeUndefined()
  expect(statesOf(id)).toEqual(['in_progress', 'success', 'inactive'])
  expect(statesOf(Number(second.outputs['github-deployment-id']))).toEqual([
    'in_progress',
    'success'
  ])
  expect(gh.journal.map(e => e.operationId)).not.toContain('repos/list-deployments')
})

test('a token without deployments: write is one notice naming the permission; the deploy goes on', async () => {
  writeJobFolder(root, 'gh-job', { '10_load.py': 'x = 3\n' }, INI)
  const r = await deploy({ 'job-path': 'gh-job', 'github-token': GH_READ_ONLY })
  expect(r.failure).toBeUndefined()
  expect(r.outputs).toMatchObject({ 'deployment-status': 'live', 'github-deployment-id': '' })
  const notices = r.lines.filter(l => l.level === 'notice').map(l => l.text)
  expect(notices).toEqual([
    expect.stringContaining(
      'the token lacks the permission deployments: write; grant it in the workflow with "permissions: deployments: write"'
    )
  ])
  expect(r.lines.filter(l => l.level === 'warning')).toEqual([])
  expect(gh.journal.filter(e => e.token === GH_READ_ONLY).map(e => e.status)).toEqual([403])
})

test('with github-deployment: true, no token is a warning; false sends nothing to GitHub', async () => {
  const before = gh.journal.length
  writeJobFolder(root, 'gh-job', { '10_load.py': 'x = 4\n' }, INI)
  const strict = await deploy({ 'job-path': 'gh-job', 'github-deployment': 'true' })
  expect(strict.failure).toBeUndefined()
  expect(strict.lines.filter(l => l.level === 'warning').map(l => l.text)).toEqual([
    expect.stringMatching(/^the deploy is not recorded as a GitHub deployment: no github-token/)
  ])
  writeJobFolder(root, 'gh-job', { '10_load.py': 'x = 5\n' }, INI)
  const off = await deploy({
    'job-path': 'gh-job',
    'github-deployment': 'false',
    'github-token': GH_TOKEN
  })
  expect(off.failure).toBeUndefined()
  expect(off.lines.filter(l => l.level !== 'info' && l.level !== 'debug')).toEqual([])
  expect(gh.journal.length).toBe(before)
})

test('bad record inputs are refused in one line before any request', async () => {
  emu.journal.splice(0)
  const before = gh.journal.length
  const r = await deploy({
    'job-path': 'gh-job',
    'github-deployment': 'maybe',
    'environment-url': 'javascript:alert(1)/{job}'
  })
  expect(r.reason).toBe(
    "github-deployment must be one of auto, true, false, not 'maybe'; environment-url must be an http(s) URL (a link template with {team}, {job}, {version}), not 'javascript:alert(1)/{job}'"
  )
  expect(emu.journal).toEqual([])
  expect(gh.journal.length).toBe(before)
})
