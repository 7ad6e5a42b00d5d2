// changed-jobs on a shallow clone, end to end: the committed bundle under Node 24, a clone made by
// git with --depth 1, and the GitHub test server answering the compare API with the files of the
// real history (git's own diff with renames), over more than one page. The outputs must be those
// git gives on a full clone of the same history; every request and answer is checked against
// GitHub's REST description.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChangedFile } from '../helpers/github-routes/state.js'
import { GitHubServer } from '../helpers/github-server.js'
import { asDiffEntries, diffEntries } from '../helpers/gitdiff.js'
import { commitFiles, git } from '../helpers/gitrepo.js'
import { runAction, type ActionRun } from '../helpers/runner.js'

const TOKEN = 'ghs-all'
const REPOSITORY = 'acme/data-jobs'

let tmp: string
let repo: string
let shallow: string
let gh: GitHubServer
const c: Record<string, string> = {}

const ini = (team: string): string =>
  `[job]\nschedule_cron = 0 * * * *\n\n[owner]\nteam = ${team}\n`

/** The env of a pull request event from `base` to `head`, its payload written to a file. */
function pullRequest(base: string, head: string): Record<string, string> {
  const file = join(tmp, `pull-request-${base.slice(0, 8)}-${head.slice(0, 8)}.json`)
  const payload = {
    action: 'synchronize',
    pull_request: { base: { sha: base }, head: { sha: head } }
  }
  writeFileSync(file, JSON.stringify(payload))
  return { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: file }
}

const changed = (
  workspace: string,
  env: Record<string, string>,
  inputs: Record<string, string> = {}
): Promise<ActionRun> =>
  runAction('changed-jobs', inputs, {
    workspace,
    env: { GITHUB_API_URL: gh.apiUrl, GITHUB_SERVER_URL: gh.serverUrl, ...env }
  })

const failure = (r: ActionRun): string =>
  r.annotations.filter(a => a.level === 'error').map(a => a.message)[0] ?? ''

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'changed-jobs-compare-'))
  repo = join(tmp, 'repo')
  mkdirSync(repo)
  git(repo, 'init', '-q', '-b', 'main')
  c.main = commitFiles(
    repo,
    {
      'README.md': '# data jobs\n',
      'jobs/alpha-job/config.ini': ini('team-a'),
      'jobs/alpha-job/run.py': 'def run(job_input):\n    pass\n',
      'jobs/beta-job/config.ini': ini('team-b'),
      'jobs/beta-job/10_step.sql': 'select 1\n',
      'jobs/gamma-job/config.ini': ini('team-g'),
      'jobs/gamma-job/data.sql': 'select 3\n',
      'jobs/kept-job/config.ini': ini('team-k'),
      'jobs/kept-job/k.sql': 'select 4\n'
    },
    'initial'
  )
  // a pull request: a change, a job folder renamed (git's rename), a job deleted, a new job
  git(repo, 'checkout', '-q', '-b', 'feature')
  commitFiles(repo, { 'jobs/alpha-job/run.py': 'def run(job_input):\n    return 1\n' }, 'alpha')
  git(repo, 'mv', 'jobs/beta-job', 'jobs/beta-renamed')
  git(repo, 'commit', '-q', '-m', 'rename beta')
  commitFiles(repo, { 'jobs/gamma-job': null }, 'delete gamma')
  c.feature = commitFiles(
    repo,
    { 'jobs/delta-job/config.ini': ini('team-d'), 'jobs/delta-job/d.py': 'd = 1\n' },
    'new delta'
  )
  shallow = join(tmp, 'shallow')
  git(tmp, 'clone', '-q', '--depth', '1', '--branch', 'feature', `file://${repo}`, shallow)
  gh = await GitHubServer.start()
  // the comparison as GitHub answers it: git's files (with the rename), and 150 commits, so that
  // the answer comes in two pages of 100
  gh.setComparison(
    REPOSITORY,
    `${c.main}...${c.feature}`,
    asDiffEntries(diffEntries(repo, c.main, c.feature)) as ChangedFile[],
    150
  )
}, 60_000)

afterAll(async () => {
  await gh?.close()
  rmSync(tmp, { recursive: true, force: true })
})

describe('changed-jobs on a shallow clone', () => {
  it('takes the changed files from the compare API, every page, and lists what git lists', async () => {
    expect(git(shallow, 'rev-parse', '--is-shallow-repository')).toBe('true')
    const env = pullRequest(c.main, c.feature)
    const byGit = await changed(repo, env)
    expect(byGit.code).toBe(0)
    expect(byGit.stdout).toMatch(/comparing .* with git/)
    const requestsBefore = gh.journal.length

    const r = await changed(shallow, env, { 'github-token': TOKEN })
    expect([r.code, failure(r)]).toEqual([0, ''])
    // the same outputs as git on the full clone: the rename is a deletion at the old path and a
    // change at the new, the deleted job is deleted, the new job and the changed one are listed
    expect(JSON.parse(r.outputs.jobs)).toEqual(JSON.parse(byGit.outputs.jobs))
    expect(JSON.parse(r.outputs.deleted)).toEqual(JSON.parse(byGit.outputs.deleted))
    expect(JSON.parse(r.outputs.jobs)).toEqual([
      { path: 'jobs/alpha-job', name: 'alpha-job', team: 'team-a' },
      { path: 'jobs/beta-renamed', name: 'beta-renamed', team: 'team-b' },
      { path: 'jobs/delta-job', name: 'delta-job', team: 'team-d' }
    ])
    expect(JSON.parse(r.outputs.deleted)).toEqual([
      { path: 'jobs/beta-job', name: 'beta-job' },
      { path: 'jobs/gamma-job', name: 'gamma-job' }
    ])
    expect(r.outputs.count).toBe('3')
    // the log says which source it used
    expect(r.stdout).toContain(
      `the base commit ${c.main.slice(0, 12)} is not in this checkout (it is too shallow to compare): asking GitHub's compare API`
    )
    expect(r.stdout).toMatch(/with the GitHub compare API \(\d+ changed file\(s\), 2 page\(s\)\)/)
    // two pages of the comparison, read with the token, and nothing else asked of GitHub
    const asked = gh.journal.slice(requestsBefore)
    expect(asked.map(e => [e.method, e.path, e.status])).toEqual([
      ['GET', `/repos/${REPOSITORY}/compare/${c.main}...${c.feature}`, 200],
      ['GET', `/repos/${REPOSITORY}/compare/${c.main}...${c.feature}`, 200]
    ])
    expect(new URLSearchParams(asked[0].query).get('per_page')).toBe('100')
    expect(new URLSearchParams(asked[1].query).get('page')).toBe('2')
    expect(asked.every(e => e.token === TOKEN)).toBe(true)
    gh.assertClean()
  })

  it('without a token, fails as before, naming both fixes', async () => {
    const r = await changed(shallow, pullRequest(c.main, c.feature))
    expect(r.code).toBe(1)
    expect(failure(r)).toMatch(/too shallow.*actions\/checkout and fetch-depth: 0.*github-token/)
    expect(failure(r)).not.toContain('\n')
    expect(r.outputs).toEqual({})
  })
})
