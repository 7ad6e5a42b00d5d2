// changed-jobs, end to end: the committed bundle runs as the runner runs it, under Node 24, on
// real git repositories made here (pushes, merges, a squash merge, renames, deletions, a shallow
// clone). It talks to no Control Service.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { commitFiles, git } from '../helpers/gitrepo.js'
import { runAction, type ActionRun } from '../helpers/runner.js'

let tmp: string
let repo: string

/** Writes (or, for null, removes) files, commits them all, and returns the commit. */
const commit = (files: Record<string, string | null>, message: string, at = repo): string =>
  commitFiles(at, files, message)

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

// A second history: jobs that move, jobs nested in jobs, two folders of one name. A job's name is
// its folder's name (as the vdk CLI's deploy takes it), and the Control Service knows a job by its
// name alone: `deleted` must hold only names that no folder at head has, or a clean-up step acting
// on it would delete a job just deployed from its new place.
describe('changed-jobs: moved, nested and same-named job folders', () => {
  let moves: string
  const m: Record<string, string> = {}
  const between = (base: string, head: string): Promise<ActionRun> =>
    changed({}, { base, head }, moves)
  const job = (path: string, team = ''): { path: string; name: string; team: string } => ({
    path,
    name: path.split('/').pop() as string,
    team
  })
  const gone = (path: string): { path: string; name: string } => ({
    path,
    name: path.split('/').pop() as string
  })
  const warnings = (r: ActionRun): string[] =>
    r.annotations.filter(a => a.level === 'warning').map(a => a.message)
  /** What git's rename detection (-M) makes of a commit: its name-status lines. */
  const gitSees = (head: string): string[] =>
    git(moves, 'diff', '--name-status', '-M', `${head}~1`, head).split('\n')

  beforeAll(() => {
    moves = join(tmp, 'moves')
    mkdirSync(moves)
    git(moves, 'init', '-q', '-b', 'main')
    const at = (files: Record<string, string | null>, message: string): string =>
      commit(files, message, moves)
    m.initial = at(
      {
        'jobs/team-a/etl-job/config.ini': ini('team-a'),
        'jobs/team-a/etl-job/run.py': 'def run(job_input):\n    pass\n',
        'jobs/team-a/report-job/config.ini': ini('team-a'),
        'jobs/team-a/report-job/report.sql': 'select 1\n',
        'jobs/parent-job/config.ini': ini('team-p'),
        'jobs/parent-job/main.py': 'def run(job_input):\n    pass\n',
        'jobs/parent-job/lib/helpers.py': 'x = 1\n',
        'jobs/parent-job/sub-job/config.ini': ini('team-s'),
        'jobs/parent-job/sub-job/q.sql': 'select 2\n',
        'jobs/shared/dup-job/config.ini': ini('team-d'),
        'jobs/shared/dup-job/x.sql': 'select 3\n',
        'jobs/other/dup-job/config.ini': ini('team-d'),
        'jobs/other/dup-job/y.sql': 'select 4\n',
        'jobs/old-job/config.ini': ini(),
        'jobs/old-job/a.sql': 'select 5\n',
        'lit[ab]/bracket-job/config.ini': ini(),
        'lita/plain-job/config.ini': ini()
      },
      'initial'
    )
    mkdirSync(join(moves, 'jobs/team-b'))
    git(moves, 'mv', 'jobs/team-a/etl-job', 'jobs/team-b/etl-job')
    git(moves, 'commit', '-q', '-m', 'move etl-job to team-b')
    m.moved = git(moves, 'rev-parse', 'HEAD')
    m.deleteAdd = at(
      {
        'jobs/team-a/report-job': null,
        // written anew: git sees no rename in it
        'jobs/reports/report-job/config.ini':
          '; the weekly sales report, rewritten for the new warehouse\n[owner]\nteam = team-r\n',
        'jobs/reports/report-job/daily.sql': 'select count(*) from sales\n'
      },
      'report-job: deleted in one folder, added in another with other files'
    )
    m.nestedFile = at({ 'jobs/parent-job/sub-job/q.sql': 'select 22\n' }, 'a nested job file')
    m.parentFile = at({ 'jobs/parent-job/main.py': '# main\n' }, 'the parent job file')
    m.nestedNew = at({ 'jobs/parent-job/lib/config.ini': ini() }, 'lib becomes a job')
    m.nestedGone = at({ 'jobs/parent-job/sub-job': null }, 'the nested job deleted')
    m.dupChanged = at({ 'jobs/shared/dup-job/x.sql': 'select 33\n' }, 'one of two dup-job')
    m.dupGone = at({ 'jobs/shared/dup-job': null }, 'one of two dup-job deleted')
    m.deleted = at({ 'jobs/old-job': null }, 'old-job deleted')
    m.iniGone = at({ 'jobs/parent-job/lib/config.ini': null }, 'lib is no job any more')
    m.brackets = at(
      { 'lit[ab]/bracket-job/a.sql': 'select 6\n', 'lita/plain-job/b.sql': 'select 7\n' },
      'a folder named like a pattern'
    )
    m.twins = at(
      { 'jobs/x/twin-job/config.ini': ini(), 'jobs/y/twin-job/config.ini': ini() },
      'twins'
    )
    m.twinsGone = at({ 'jobs/x': null, 'jobs/y': null }, 'both twins deleted')
  })

  it('lists a job moved to another folder (git: a rename) where it is, and not as deleted', async () => {
    expect(gitSees(m.moved)).toContainEqual(
      expect.stringMatching(/^R100\tjobs\/team-a\/etl-job\/config\.ini\tjobs\/team-b\//)
    )
    const r = await between(m.initial, m.moved)
    expect(r.code).toBe(0)
    expect(jobsOf(r)).toEqual([job('jobs/team-b/etl-job', 'team-a')])
    expect(deletedOf(r)).toEqual([])
    expect(r.log).toContain(
      'jobs/team-a/etl-job is gone, but a job folder named etl-job is at jobs/team-b/etl-job: not deleted'
    )
  })

  it('lists a job deleted in one folder and added in another (git: no rename) as changed only', async () => {
    expect(gitSees(m.deleteAdd).filter(l => l.startsWith('R'))).toEqual([])
    const r = await between(m.moved, m.deleteAdd)
    expect(r.code).toBe(0)
    expect(jobsOf(r)).toEqual([job('jobs/reports/report-job', 'team-r')])
    expect(deletedOf(r)).toEqual([])
  })

  it('lists a change inside a nested job folder as the nested job only', async () => {
    const r = await between(m.deleteAdd, m.nestedFile)
    expect(r.code).toBe(0)
    expect(jobsOf(r)).toEqual([job('jobs/parent-job/sub-job', 'team-s')])
    const parent = await between(m.nestedFile, m.parentFile)
    expect(jobsOf(parent)).toEqual([job('jobs/parent-job', 'team-p')])
  })

  it('lists the outer job too when a folder inside it becomes a job (its files leave the outer job)', async () => {
    const r = await between(m.parentFile, m.nestedNew)
    expect(r.code).toBe(0)
    expect(jobsOf(r)).toEqual([job('jobs/parent-job', 'team-p'), job('jobs/parent-job/lib')])
    // and back: lib's files are the outer job's again, lib is deleted
    const back = await between(m.deleted, m.iniGone)
    expect(jobsOf(back)).toEqual([job('jobs/parent-job', 'team-p')])
    expect(deletedOf(back)).toEqual([gone('jobs/parent-job/lib')])
  })

  it('lists a nested job folder deleted whole as deleted, and not its outer job', async () => {
    const r = await between(m.nestedNew, m.nestedGone)
    expect(r.code).toBe(0)
    expect(jobsOf(r)).toEqual([])
    expect(deletedOf(r)).toEqual([gone('jobs/parent-job/sub-job')])
  })

  it('warns when two folders at head have one job name', async () => {
    const r = await between(m.nestedGone, m.dupChanged)
    expect(r.code).toBe(0)
    expect(jobsOf(r)).toEqual([job('jobs/shared/dup-job', 'team-d')])
    expect(warnings(r)).toEqual([
      'the job folders jobs/other/dup-job, jobs/shared/dup-job are all named dup-job: on the Control Service they are one data job, whichever is deployed last'
    ])
  })

  it('does not list a deleted folder as deleted while another folder of its name remains', async () => {
    const r = await between(m.dupChanged, m.dupGone)
    expect(r.code).toBe(0)
    // the folder left now holds the job: deployed again from it
    expect(jobsOf(r)).toEqual([job('jobs/other/dup-job', 'team-d')])
    expect(deletedOf(r)).toEqual([])
    expect(r.log).toContain('jobs/shared/dup-job is gone, but a job folder named dup-job')
  })

  it('lists a job whose name no folder has any more as deleted', async () => {
    const r = await between(m.dupGone, m.deleted)
    expect(r.code).toBe(0)
    expect(jobsOf(r)).toEqual([])
    expect(deletedOf(r)).toEqual([gone('jobs/old-job')])
  })

  it('lists a name once in deleted when two folders of that name are deleted', async () => {
    const r = await between(m.twins, m.twinsGone)
    expect(r.code).toBe(0)
    expect(deletedOf(r)).toEqual([gone('jobs/x/twin-job')])
  })

  it('over the whole history: each change where it lands, deleted only names gone for good', async () => {
    const r = await between(m.initial, m.iniGone)
    expect(r.code).toBe(0)
    expect(jobsOf(r)).toEqual([
      job('jobs/other/dup-job', 'team-d'),
      job('jobs/parent-job', 'team-p'),
      job('jobs/reports/report-job', 'team-r'),
      job('jobs/team-b/etl-job', 'team-a')
    ])
    expect(deletedOf(r)).toEqual([gone('jobs/old-job'), gone('jobs/parent-job/sub-job')])
    expect(r.summary).toContain('deleted')
  })

  it('takes a jobs-root named like a pattern as that folder only', async () => {
    const r = await between(m.iniGone, m.brackets)
    expect(jobsOf(r)).toEqual([job('lit[ab]/bracket-job'), job('lita/plain-job')])
    const only = await changed(
      {},
      { base: m.iniGone, head: m.brackets, 'jobs-root': 'lit[ab]' },
      moves
    )
    expect(only.code).toBe(0)
    expect(jobsOf(only)).toEqual([job('lit[ab]/bracket-job')])
  })
})

describe('changed-jobs: what git refuses or cannot name', () => {
  // git 2.35.2 and later refuse a repository that another user owns ("dubious ownership"), as in
  // container: jobs whose container user differs from the one that checked out; as root, giving
  // the clone to nobody (65534) makes it so here. No git config of the machine may trust it.
  const asRoot = process.getuid?.() === 0
  ;(asRoot ? it : it.skip)(
    'says that git refuses a repository owned by another user, and how to trust it (needs root)',
    async () => {
      const theirs = join(tmp, 'theirs')
      git(tmp, 'clone', '-q', `file://${repo}`, theirs)
      execFileSync('chown', ['-R', '65534:65534', theirs])
      const untrusted = { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' }
      const r = await changed(untrusted, { base: 'HEAD~1' }, theirs)
      expect(r.code).toBe(1)
      expect(failure(r)).toBe(
        `changed-jobs: git refuses the repository at '${theirs}': it belongs to another user than the one running this step ("detected dubious ownership", common in container: jobs); mark it safe in a step before this one: git config --global --add safe.directory "$GITHUB_WORKSPACE"`
      )
      expect(r.outputs).toEqual({})
      // the fix it gives works
      const config = join(tmp, 'trusting.gitconfig')
      writeFileSync(config, `[safe]\n\tdirectory = ${theirs}\n`)
      const fixed = await changed(
        { ...untrusted, GIT_CONFIG_GLOBAL: config },
        { base: 'HEAD~1' },
        theirs
      )
      expect(fixed.code).toBe(0)
      expect(deletedOf(fixed)).toEqual([{ path: 'jobs/beta-job', name: 'beta-job' }])
    }
  )

  it('passes git no option from base or head: one that starts with a dash is no commit', async () => {
    const written = join(tmp, 'written-by-git')
    const refs: Array<Record<string, string>> = [
      { base: `--output=${written}` },
      { base: c.initial, head: `--output=${written}` },
      { base: '-h' }
    ]
    for (const inputs of refs) {
      const r = await changed({}, inputs)
      expect(r.code).toBe(1)
      expect(failure(r)).toMatch(/^changed-jobs: (base|head) '-[^']*' is not a commit$/)
    }
    expect(existsSync(written)).toBe(false)
  })

  it('leaves out, with a warning, a job folder whose path is not UTF-8', async () => {
    const odd = join(tmp, 'odd')
    mkdirSync(odd)
    git(odd, 'init', '-q', '-b', 'main')
    const first = commit({ 'jobs/fine-job/config.ini': ini() }, 'initial', odd)
    const folder = Buffer.concat([
      Buffer.from(`${odd}/jobs/caf`),
      Buffer.from([0xe9]),
      Buffer.from('-job')
    ])
    mkdirSync(folder, { recursive: true })
    writeFileSync(Buffer.concat([folder, Buffer.from('/config.ini')]), ini())
    const second = commit({ 'jobs/fine-job/a.sql': 'select 1\n' }, 'a folder named in latin-1', odd)
    const r = await changed({}, { base: first, head: second }, odd)
    expect(r.code).toBe(0)
    expect(jobsOf(r)).toEqual([{ path: 'jobs/fine-job', name: 'fine-job', team: '' }])
    expect(r.annotations.filter(a => a.level === 'warning').map(a => a.message)).toEqual([
      "the job folder 'jobs/caf\uFFFD-job' is left out: its path is not UTF-8 text"
    ])
  })
})
