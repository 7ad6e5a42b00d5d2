// changed-jobs, end to end: the committed bundle runs as the runner runs it, under Node 24, on
// real git repositories made here (pushes, merges, a squash merge, renames, deletions, a shallow
// clone). It talks to no Control Service.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { runAction, type ActionRun } from '../helpers/runner.js'

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.com',
  GIT_COMMITTER_NAME: 'Test Committer',
  GIT_COMMITTER_EMAIL: 'committer@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null'
}

const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', args, {
    cwd,
    env: { ...process.env, ...GIT_ENV },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe']
  }).trim()

let tmp: string
let repo: string

/** Writes (or, for null, removes) files, commits them all, and returns the commit. */
function commit(files: Record<string, string | null>, message: string): string {
  for (const [path, text] of Object.entries(files)) {
    const abs = join(repo, path)
    if (text === null) rmSync(abs, { recursive: true, force: true })
    else {
      mkdirSync(dirname(abs), { recursive: true })
      writeFileSync(abs, text)
    }
  }
  git(repo, 'add', '-A')
  git(repo, 'commit', '-q', '-m', message)
  return git(repo, 'rev-parse', 'HEAD')
}

const ini = (team?: string): string =>
  `[job]\nschedule_cron = 0 * * * *\n${team ? `\n[owner]\nteam = ${team}\n` : ''}`

let eventNo = 0
/** The env of an event: its payload written to a file. */
function event(name: string, payload: object): Record<string, string> {
  const path = join(tmp, `event-${++eventNo}.json`)
  writeFileSync(path, JSON.stringify(payload))
  return { GITHUB_EVENT_NAME: name, GITHUB_EVENT_PATH: path }
}
const push = (before: string, after: string): Record<string, string> =>
  event('push', { ref: 'refs/heads/main', before, after })
const pullRequest = (base: string, head: string, name = 'pull_request'): Record<string, string> =>
  event(name, {
    action: 'closed',
    pull_request: { merged: true, base: { sha: base }, head: { sha: head } }
  })

const changed = (
  env: Record<string, string>,
  inputs: Record<string, string> = {},
  workspace = repo
): Promise<ActionRun> => runAction('changed-jobs', inputs, { workspace, env })

const jobsOf = (r: ActionRun): unknown => JSON.parse(r.outputs.jobs)
const deletedOf = (r: ActionRun): unknown => JSON.parse(r.outputs.deleted)
const failure = (r: ActionRun): string =>
  r.annotations.filter(a => a.level === 'error').map(a => a.message)[0] ?? ''

const ALPHA = { path: 'jobs/alpha-job', name: 'alpha-job', team: 'team-a' }
const BETA = { path: 'jobs/beta-job', name: 'beta-job', team: 'team-b' }
const GAMMA = { path: 'jobs/gamma-job', name: 'gamma-job', team: '' }
const DELTA = { path: 'other/delta-job', name: 'delta-job', team: 'team-d' }

/** The commits of the history made in beforeAll. */
const c: Record<string, string> = {}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'changed-jobs-e2e-'))
  repo = join(tmp, 'repo')
  mkdirSync(repo)
  git(repo, 'init', '-q', '-b', 'main')
  c.initial = commit(
    {
      'README.md': '# data jobs\n',
      'jobs/notes.md': 'notes\n',
      'jobs/alpha-job/config.ini': ini('team-a'),
      'jobs/alpha-job/run.py': 'def run(job_input):\n    pass\n',
      'jobs/beta-job/config.ini': ini('team-b'),
      'jobs/beta-job/10_step.sql': 'select 1\n',
      'jobs/beta-job/sql/deep/q.sql': 'select 2\n',
      'jobs/gamma-job/config.ini': ini(),
      'jobs/gamma-job/data.sql': 'select 3\n',
      'other/delta-job/config.ini': ini('team-d'),
      'other/delta-job/x.py': 'x = 1\n'
    },
    'initial'
  )
  c.alpha = commit({ 'jobs/alpha-job/run.py': 'def run(job_input):\n    return 1\n' }, 'alpha')
  c.outside = commit(
    {
      'README.md': '# data jobs, changed\n',
      'jobs/notes.md': 'more notes\n',
      'jobs/beta-job/sql/deep/q.sql': 'select 22\n',
      'jobs/beta-job/sql/deep/r.sql': 'select 23\n'
    },
    'outside and nested'
  )
  c.two = commit(
    {
      'jobs/alpha-job/run.py': 'def run(job_input):\n    return 2\n',
      'jobs/gamma-job/data.sql': 'select 33\n',
      'other/delta-job/x.py': 'x = 2\n'
    },
    'two jobs and one outside jobs-root'
  )
  // a pull request merged with a merge commit, while main moved on
  git(repo, 'checkout', '-q', '-b', 'feature')
  c.feature = commit({ 'jobs/alpha-job/run.py': 'def run(job_input):\n    return 3\n' }, 'f1')
  git(repo, 'checkout', '-q', 'main')
  c.mainMoved = commit({ 'jobs/beta-job/10_step.sql': 'select 11\n' }, 'main moves on')
  git(repo, 'merge', '-q', '--no-ff', '-m', 'merge feature', 'feature')
  c.merge = git(repo, 'rev-parse', 'HEAD')
  // a pull request squash-merged
  git(repo, 'checkout', '-q', '-b', 'feature2')
  commit({ 'jobs/gamma-job/data.sql': 'select 333\n' }, 's1')
  commit({ 'jobs/gamma-job/more.sql': 'select 4\n' }, 's2')
  git(repo, 'checkout', '-q', 'main')
  git(repo, 'merge', '-q', '--squash', 'feature2')
  git(repo, 'commit', '-q', '-m', 'squashed feature2')
  c.squash = git(repo, 'rev-parse', 'HEAD')
  git(repo, 'mv', 'jobs/alpha-job', 'jobs/alpha-renamed')
  git(repo, 'commit', '-q', '-m', 'rename alpha')
  c.rename = git(repo, 'rev-parse', 'HEAD')
  c.delete = commit({ 'jobs/beta-job': null }, 'delete beta')
})

afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe('changed-jobs on a push', () => {
  it('lists the job a push changed, as JSON for a matrix, with a summary', async () => {
    const r = await changed(push(c.initial, c.alpha))
    expect(r.code).toBe(0)
    expect(jobsOf(r)).toEqual([ALPHA])
    expect(deletedOf(r)).toEqual([])
    expect(r.outputs.count).toBe('1')
    expect(r.summary).toContain('alpha-job')
    expect(r.summary).toContain('team-a')
    expect(r.log).toContain(`comparing ${c.initial.slice(0, 12)} to ${c.alpha.slice(0, 12)}`)
  })

  it('leaves out changes outside any job, and lists a job once for nested files', async () => {
    const r = await changed(push(c.alpha, c.outside))
    expect(r.code).toBe(0)
    expect(jobsOf(r)).toEqual([BETA])
    expect(r.outputs.count).toBe('1')
  })

  it('lists two changed jobs, a job without a team, and only those under jobs-root', async () => {
    const all = await changed(push(c.outside, c.two))
    expect(all.code).toBe(0)
    expect(jobsOf(all)).toEqual([ALPHA, GAMMA, DELTA])
    const under = await changed(push(c.outside, c.two), { 'jobs-root': 'jobs' })
    expect(under.code).toBe(0)
    expect(jobsOf(under)).toEqual([ALPHA, GAMMA])
    expect(under.outputs.count).toBe('2')
  })

  it('compares a merge commit with main before it: only what the pull request changed', async () => {
    const r = await changed(push(c.mainMoved, c.merge))
    expect(r.code).toBe(0)
    expect(jobsOf(r)).toEqual([ALPHA])
  })

  it('lists the jobs of a squash merge', async () => {
    const r = await changed(push(c.merge, c.squash))
    expect(r.code).toBe(0)
    expect(jobsOf(r)).toEqual([GAMMA])
  })

  it('lists a renamed job folder by its new path, and its old path as deleted', async () => {
    const r = await changed(push(c.squash, c.rename))
    expect(r.code).toBe(0)
    expect(jobsOf(r)).toEqual([{ ...ALPHA, path: 'jobs/alpha-renamed', name: 'alpha-renamed' }])
    expect(deletedOf(r)).toEqual([{ path: 'jobs/alpha-job', name: 'alpha-job' }])
  })

  it('lists a deleted job as deleted only', async () => {
    const r = await changed(push(c.rename, c.delete))
    expect(r.code).toBe(0)
    expect(jobsOf(r)).toEqual([])
    expect(deletedOf(r)).toEqual([{ path: 'jobs/beta-job', name: 'beta-job' }])
    expect(r.outputs.count).toBe('0')
    expect(r.summary).toContain('deleted')
  })

  it('compares a new branch (before is all zeros) with its first parent', async () => {
    const r = await changed(push('0'.repeat(40), c.alpha))
    expect(r.code).toBe(0)
    expect(jobsOf(r)).toEqual([ALPHA])
    expect(r.log).toContain('first parent')
  })
})

describe('changed-jobs on a pull request', () => {
  it('compares the merge base of base and head with head', async () => {
    for (const name of ['pull_request', 'pull_request_target']) {
      const r = await changed(pullRequest(c.mainMoved, c.feature, name))
      expect(r.code).toBe(0)
      // beta changed on main after the branch was made: not the pull request's
      expect(jobsOf(r)).toEqual([ALPHA])
      expect(r.log).toContain('merge base')
    }
  })
})

describe('changed-jobs inputs', () => {
  it('takes base and head from the inputs over the event', async () => {
    const r = await changed(push(c.initial, c.alpha), { base: c.alpha, head: c.outside })
    expect(r.code).toBe(0)
    expect(jobsOf(r)).toEqual([BETA])
    const refs = await changed(push(c.initial, c.alpha), { base: 'main~1', head: 'main' })
    expect(refs.code).toBe(0)
    expect(deletedOf(refs)).toEqual([{ path: 'jobs/beta-job', name: 'beta-job' }])
  })

  it('refuses bad inputs in one line, and outputs nothing', async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ 'jobs-root': 'no-such-folder' }, /jobs-root 'no-such-folder' does not exist/],
      [{ base: 'no-such-ref' }, /base 'no-such-ref' is not a commit/],
      [{ base: c.initial, head: 'f'.repeat(40) }, /head 'f{40}' is not a commit.*fetch-depth: 0/]
    ]
    for (const [inputs, message] of cases) {
      const r = await changed(push(c.initial, c.alpha), inputs)
      expect(r.code).toBe(1)
      expect(failure(r)).toMatch(message)
      expect(failure(r)).not.toContain('\n')
      expect(r.outputs).toEqual({})
    }
    const noEvent = await changed({ GITHUB_EVENT_NAME: 'workflow_dispatch' })
    expect(noEvent.code).toBe(1)
    expect(failure(noEvent)).toMatch(/set the base input/)
  })

  it('fails on a checkout too shallow to compare, saying to use fetch-depth: 0', async () => {
    const shallow = join(tmp, 'shallow')
    git(tmp, 'clone', '-q', '--depth', '1', '--branch', 'main', `file://${repo}`, shallow)
    const head = git(shallow, 'rev-parse', 'HEAD')
    const cases = [push(c.rename, head), pullRequest(c.rename, head), push('0'.repeat(40), head)]
    for (const env of cases) {
      const r = await changed(env, {}, shallow)
      expect(r.code).toBe(1)
      expect(failure(r)).toMatch(/too shallow.*actions\/checkout and fetch-depth: 0/)
      expect(failure(r)).not.toContain('\n')
      expect(r.outputs).toEqual({})
    }
  })
})
