// plan in process (no build): what merging a change would do, on a real git repository whose jobs
// were deployed to the local Control Service by deploy (in process too); changed-jobs' outputs are
// the plan's inputs, as in a workflow. The journal proves the plan only reads.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator, type Emulator } from '../../src/emulator/server.js'
import { commitFiles, git } from '../helpers/gitrepo.js'
import { GitHubServer } from '../helpers/github-server.js'
import { runInProcess, serviceTime, type InProcessRun } from '../helpers/inprocess.js'
import { writePullRequestEvent } from '../helpers/pull-request-event.js'

const TOKEN = 'inprocess-plan-token-4c1f'
const TEAM = 'plan team'
const SECRET_VALUE = 'plan-secret-value-93ab'
const ini = (cron: string, contacts = 'a@example.com', extra = '') =>
  `[owner]\nteam = ${TEAM}\n\n[job]\nschedule_cron = ${cron}\n${extra}\n[contacts]\nnotified_on_job_deploy = ${contacts}\n`
let emu: Emulator
let root: string
let base: string

const headers = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' }
const jobUrl = (job: string) =>
  `${emu.url}/data-jobs/for-team/${encodeURIComponent(TEAM)}/jobs/${job}`

const plan = (inputs: Record<string, string>, env: Record<string, string> = {}) =>
  runInProcess(
    'plan',
    { 'control-service-url': emu.url, 'access-token': TOKEN, ...inputs },
    { workspace: root, env }
  )

/** changed-jobs' outputs between the base and HEAD, as the plan's inputs. */
async function changed(): Promise<{ jobs: string; deleted: string }> {
  const r = await runInProcess('changed-jobs', { base, 'jobs-root': 'jobs' }, { workspace: root })
  expect(r.failure).toBeUndefined()
  return { jobs: r.outputs.jobs, deleted: r.outputs.deleted }
}

interface PlannedJobJson {
  name: string
  job: string
  changes: boolean
  deployed: { version: string; enabled: boolean } | null
  files: Array<{ path: string; change: string }> | null
  config: Array<{ field: string; before?: string; after: string }>
  deployment: Array<{ field: string; before?: string; after: string }>
  properties: Array<{ key: string; change: string; type: string; before?: string; after?: string }>
  problems: Array<{ file: string; line: number | null; message: string }>
  notes: string[]
}
const jobsOf = (r: InProcessRun): Record<string, PlannedJobJson> =>
  Object.fromEntries(
    (JSON.parse(r.outputs.changes) as { jobs: PlannedJobJson[] }).jobs.map(j => [j.name, j])
  )

beforeAll(async () => {
  emu = await startEmulator({ tokens: [TOKEN], frozenClock: true, deploymentSeconds: 30 })
  root = mkdtempSync(join(tmpdir(), 'inprocess-plan-'))
  git(root, 'init', '-q', '-b', 'main')
  base = commitFiles(
    root,
    {
      'jobs/kept-plan-job/config.ini': ini('0 6 * * *'),
      'jobs/kept-plan-job/10_load.py': 'print(1)\n',
      'jobs/gone-plan-job/config.ini': ini('0 7 * * *'),
      'jobs/gone-plan-job/10_load.py': 'print(2)\n'
    },
    'base'
  )
  // both jobs deployed from the base, as the on-merge workflow would have done
  for (const job of ['kept-plan-job', 'gone-plan-job']) {
    const r = await runInProcess(
      'deploy',
      { 'control-service-url': emu.url, 'access-token': TOKEN, 'job-path': `jobs/${job}` },
      { workspace: root, time: serviceTime(emu) }
    )
    expect(r.outputs['deployment-status']).toBe('live')
  }
  const put = await fetch(`${jobUrl('kept-plan-job')}/deployments/production/properties`, {
    method: 'PUT',
    headers,
    body: JSON.stringify({ rows: 100, region: 'eu', db_password: SECRET_VALUE, stale: true })
  })
  expect(put.status).toBe(204)
  // the pull request's head
  commitFiles(
    root,
    {
      'jobs/kept-plan-job/config.ini': ini(
        '30 6 * * *',
        'a@example.com, b@example.com',
        'python_version = 3.11\n'
      ),
      'jobs/kept-plan-job/20_more.py': 'print(3)\n',
      'jobs/kept-plan-job/properties.yaml': `rows: 200\nregion: eu\ndb_password: ${SECRET_VALUE}-new\nadded: [1, 2]\n`,
      'jobs/gone-plan-job': null,
      'jobs/new-plan-job/config.ini': ini('0 1 * * *'),
      'jobs/new-plan-job/10_load.py': 'print(4)\n',
      'jobs/bad-plan-job/config.ini': ini('61 * * * *', 'not-an-address')
    },
    'head'
  )
})
afterAll(async () => {
  await emu.close()
  rmSync(root, { recursive: true, force: true })
})

test('plans every changed job against the live service, and only reads it', async () => {
  const inputs = await changed()
  emu.journal.splice(0)
  const r = await plan({ ...inputs, base, 'properties-file': 'properties.yaml' })
  expect(r.failure).toBeUndefined()
  expect(r.outputs['has-changes']).toBe('true')
  const jobs = jobsOf(r)

  // a changed job: new sources, config field by field, python version, properties
  const kept = jobs['kept-plan-job']
  expect(kept.job).toBe('exists')
  expect(kept.deployed?.version).toMatch(/^[0-9a-f]{7,}$/)
  expect(kept.files).toEqual([
    { path: '20_more.py', change: 'added' },
    { path: 'config.ini', change: 'modified' },
    { path: 'properties.yaml', change: 'added' }
  ])
  expect(kept.config).toEqual([
    { field: 'schedule_cron', before: '0 6 * * *', after: '30 6 * * *' },
    {
      field: 'notified_on_job_deploy',
      before: 'a@example.com',
      after: 'a@example.com, b@example.com'
    }
  ])
  expect(kept.deployment).toEqual([
    { field: 'python_version', before: expect.any(String), after: '3.11' }
  ])
  // merge: `stale` stays; values are not shown, only types
  expect(kept.properties).toEqual([
    { key: 'rows', change: 'changed', type: 'a number' },
    { key: 'db_password', change: 'changed', type: 'a string' },
    { key: 'added', change: 'added', type: 'a list' }
  ])

  // a new job: created, its config as config.ini sets it, a new deployment enabled
  const created = jobs['new-plan-job']
  expect(created.job).toBe('absent')
  expect(created.config).toContainEqual({ field: 'schedule_cron', after: '0 1 * * *' })
  expect(created.deployment).toEqual([{ field: 'enabled', after: 'true' }])

  // a deleted folder: its deployment stays
  const gone = jobs['gone-plan-job']
  expect(gone).toMatchObject({ job: 'exists', changes: true })
  expect(gone.deployed?.version).toMatch(/^[0-9a-f]{7,}$/)

  // validate's problems: in the output and as annotations on config.ini's lines
  const bad = jobs['bad-plan-job']
  expect(bad.problems.map(p => p.message)).toEqual(
    expect.arrayContaining([
      expect.stringContaining('schedule_cron'),
      expect.stringContaining('is not an e-mail address')
    ])
  )
  expect(r.lines.filter(l => l.level === 'error' && l.place)).toContainEqual({
    level: 'error',
    text: expect.stringContaining('schedule_cron'),
    place: expect.objectContaining({ file: 'jobs/bad-plan-job/config.ini', startLine: 5 })
  })

  // the summary says it; no secret value anywhere
  const summary = JSON.stringify(r.summary)
  expect(summary).toContain('job created')
  expect(summary).toContain('folder deleted: its deployment stays')
  expect(JSON.stringify([r.outputs, r.summary, r.lines])).not.toContain(SECRET_VALUE)

  // the journal: reads only (GET), nothing written
  expect(emu.journal.length).toBeGreaterThan(0)
  expect(emu.journal.filter(e => e.method !== 'GET')).toEqual([])
})

test('show-values shows values by set-properties rule: secret-looking keys as ***', async () => {
  const r = await plan({
    'job-path': 'jobs/kept-plan-job',
    base,
    'properties-file': 'properties.yaml',
    'properties-mode': 'replace',
    'show-values': 'true'
  })
  expect(r.failure).toBeUndefined()
  const kept = jobsOf(r)['kept-plan-job']
  expect(kept.properties).toEqual([
    { key: 'rows', change: 'changed', type: 'a number', before: '100', after: '200' },
    { key: 'db_password', change: 'changed', type: 'a string', before: '***', after: '***' },
    { key: 'stale', change: 'removed', type: 'a boolean', before: 'true' },
    { key: 'added', change: 'added', type: 'a list', after: '[1,2]' }
  ])
  expect(JSON.stringify([r.outputs, r.summary, r.lines])).not.toContain(SECRET_VALUE)
})

test('a pull request from a fork without secrets skips the service with one note', async () => {
  const inputs = await changed()
  const event = writePullRequestEvent(join(root, '..', `plan-fork-event-${process.pid}.json`), {
    number: 7,
    base,
    head: git(root, 'rev-parse', 'HEAD'),
    headRepo: 'someone/data-jobs'
  })
  emu.journal.splice(0)
  try {
    const r = await runInProcess(
      'plan',
      { 'control-service-url': emu.url, ...inputs },
      { workspace: root, env: { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event } }
    )
    expect(r.failure).toBeUndefined()
    expect(emu.journal).toEqual([])
    const notes = r.lines.filter(l => l.level === 'notice').map(l => l.text)
    expect(notes).toEqual([expect.stringContaining('this pull request comes from a fork')])
    const jobs = jobsOf(r)
    // still planned from git and validate
    expect(jobs['kept-plan-job']).toMatchObject({ job: 'unknown', changes: true })
    expect(jobs['kept-plan-job'].files).toHaveLength(3)
    expect(jobs['bad-plan-job'].problems.length).toBeGreaterThan(0)
    expect(JSON.parse(r.outputs.changes).live).toBe(false)
  } finally {
    rmSync(event, { force: true })
  }
})

test('nothing left to plan says so', async () => {
  const r = await plan({ jobs: '[]', deleted: '[]', base })
  expect(r.failure).toBeUndefined()
  expect(r.outputs['has-changes']).toBe('false')
  expect(r.summary?.heading).toContain('nothing changes on the Control Service')
})

test('a bad input is refused in one line before any request', async () => {
  emu.journal.splice(0)
  const r = await plan({ jobs: '{"path": 1}', 'properties-mode': 'upsert' })
  expect(r.reason).toBe(
    "jobs must be a JSON list of objects, as changed-jobs writes it; properties-mode must be merge or replace, not 'upsert'"
  )
  expect(emu.journal).toEqual([])
})

/**
 * The plan with comment: true on pull request `number` (head = base), against a GitHub test
 * server (which a test may give comments first); `check` then reads the run and the server. The
 * server's contract is checked and the server closed in every case.
 */
async function commentRun(
  number: number,
  token: string,
  gh: GitHubServer,
  check: (r: Awaited<ReturnType<typeof plan>>) => void
): Promise<void> {
  const event = writePullRequestEvent(
    join(root, '..', `plan-pr-event-${number}-${process.pid}.json`),
    {
      number,
      base,
      head: base
    }
  )
  try {
    const r = await plan(
      { 'job-path': 'jobs/kept-plan-job', comment: 'true', 'github-token': token },
      {
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_EVENT_PATH: event,
        GITHUB_API_URL: gh.apiUrl,
        GITHUB_SERVER_URL: gh.serverUrl
      }
    )
    expect(r.failure).toBeUndefined()
    check(r)
    gh.assertClean()
  } finally {
    rmSync(event, { force: true })
    await gh.close()
  }
}

test('a token that may not write the comment: one warning naming the permission, the plan stands', async () => {
  const gh = await GitHubServer.start({ tokens: { 'ghs-read-only': { pull_requests: 'read' } } })
  await commentRun(3, 'ghs-read-only', gh, r => {
    expect(r.outputs['has-changes']).toBe('true')
    expect(r.lines.filter(l => l.level === 'warning').map(l => l.text)).toEqual([
      expect.stringMatching(
        /^the plan is not written as a comment: GitHub: could not comment on the pull request .*pull-requests: write/
      )
    ])
    expect(gh.state.comments).toEqual([])
  })
})

test("a person's comment that copies the marker is never taken for the plan: the plan writes its own", async () => {
  const gh = await GitHubServer.start()
  const copied = '<!-- vdk-actions:plan -->\nnothing changes (written by a person)'
  gh.state.comments.push({
    id: gh.state.nextId++,
    repoKey: 'acme/data-jobs',
    issue: 4,
    body: copied,
    login: 'mallory',
    created_at: '2026-12-04T10:00:00Z',
    updated_at: '2026-12-04T10:00:00Z'
  })
  await commentRun(4, 'ghs-all', gh, () => {
    expect(gh.state.comments.map(c => [c.login, c.body === copied])).toEqual([
      ['mallory', true],
      ['github-actions[bot]', false]
    ])
  })
})
