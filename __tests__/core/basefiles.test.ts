// The base's job folders rebuilt from the head's tree and a list of changed files (what changed-jobs
// does with GitHub's compare API on a shallow checkout), checked against git itself: over every
// pair of commits of a real history (renames, nested jobs made and unmade, deletions, a type
// change, files outside jobs-root), the rebuilt base has the same job folders as git's, and each
// job folder changed or not as git says. The list of changed files is git's own diff with renames,
// in the shape of GitHub's diff entries.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { baseFiles, type ComparedFile } from '../../src/core/basefiles.js'
import { namedParents, treeFiles } from '../../src/core/git.js'
import { jobTrees, jobTreesOf, sameFiles, type JobTree } from '../../src/core/jobtrees.js'
import { diffEntries } from '../helpers/gitdiff.js'
import { commitFiles, git } from '../helpers/gitrepo.js'

let tmp: string
let repo: string
const commits: string[] = []

const ini = (team: string): string => `[owner]\nteam = ${team}\n`

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'basefiles-'))
  repo = join(tmp, 'repo')
  mkdirSync(repo)
  git(repo, 'init', '-q', '-b', 'main')
  const steps: Array<Record<string, string | null> | (() => void)> = [
    {
      'README.md': 'top\n',
      'jobs/a/config.ini': ini('a'),
      'jobs/a/run.py': '1\n',
      'jobs/a/sub/x.sql': 'select 1\n',
      'jobs/b/config.ini': ini('b'),
      'jobs/b/q.sql': 'select 2\n',
      'jobs/notes.md': 'n\n',
      'other/c/config.ini': ini('c'),
      'other/c/c.py': 'c\n'
    },
    // a nested job over files that were there: they leave the outer job
    { 'jobs/a/sub/config.ini': ini('sub') },
    // a change inside the nested job only
    { 'jobs/a/sub/x.sql': 'select 11\n' },
    // a job folder renamed (git's rename), and a file outside any job
    () => git(repo, 'mv', 'jobs/b', 'jobs/b2'),
    { 'jobs/notes.md': 'n2\n', 'README.md': 'top 2\n' },
    // the nested job unmade: its files go back to the outer job
    { 'jobs/a/sub/config.ini': null },
    // a file moved from one job to another, a job deleted, a new job
    () => git(repo, 'mv', 'jobs/a/run.py', 'jobs/b2/run.py'),
    { 'other/c': null, 'jobs/d/config.ini': ini('d'), 'jobs/d/d.py': 'd\n' },
    // a config.ini copied into a new folder, a type change (a file becomes a link)
    { 'jobs/e/config.ini': ini('d'), 'jobs/e/e.py': 'e\n' },
    () => {
      rmSync(join(repo, 'jobs/d/d.py'))
      symlinkSync('../e/e.py', join(repo, 'jobs/d/d.py'))
    },
    // a job moved under a new folder with the same name, and one renamed to another name
    () => {
      mkdirSync(join(repo, 'jobs/team'))
      git(repo, 'mv', 'jobs/d', 'jobs/team/d')
      git(repo, 'mv', 'jobs/e', 'jobs/f')
    }
  ]
  for (const [i, step] of steps.entries()) {
    if (typeof step === 'function') {
      step()
      git(repo, 'add', '-A')
      git(repo, 'commit', '-q', '-m', `step ${i}`)
      commits.push(git(repo, 'rev-parse', 'HEAD'))
    } else commits.push(commitFiles(repo, step, `step ${i}`))
  }
})
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

/** The job folders that differ between two commits' job folders, as changed-jobs tells them. */
const changedDirs = (atBase: Map<string, JobTree>, atHead: Map<string, JobTree>): string[] =>
  [...atHead]
    .filter(([dir, job]) => {
      const before = atBase.get(dir)
      return !before || !sameFiles(before, job)
    })
    .map(([dir]) => dir)
    .sort()

describe('the base rebuilt from the head and the changed files', () => {
  for (const root of ['', 'jobs'])
    it(`has git's job folders, changed as git says, over every pair of commits (jobs-root '${root}')`, async () => {
      let pairs = 0
      let withChanges = 0
      for (let i = 0; i < commits.length; i++)
        for (let j = i + 1; j < commits.length; j++) {
          const [base, head] = [commits[i], commits[j]]
          const byGit = await jobTrees(repo, base, root)
          const atHead = await jobTrees(repo, head, root)
          const headFiles = await treeFiles(repo, head, root)
          const rebuilt = jobTreesOf(
            baseFiles(headFiles, diffEntries(repo, base, head), root),
            root
          )
          const pair = `${i}..${j}`
          expect([pair, [...rebuilt.keys()].sort()]).toEqual([pair, [...byGit.keys()].sort()])
          const changed = changedDirs(byGit, atHead)
          expect([pair, changedDirs(rebuilt, atHead)]).toEqual([pair, changed])
          pairs++
          if (changed.length) withChanges++
        }
      expect(pairs).toBe((commits.length * (commits.length - 1)) / 2)
      // only 3..4 (a file outside any job, and one outside jobs-root) changes no job
      expect(withChanges).toBe(pairs - 1)
    })

  it('lists a renamed job folder at its old path in the base and its new one in the head', () => {
    const head: Parameters<typeof baseFiles>[0] = [
      { path: 'jobs/new/config.ini', mode: '100644', object: 'i' },
      { path: 'jobs/new/run.py', mode: '100644', object: 'r' }
    ]
    const changes: ComparedFile[] = [
      { status: 'renamed', previous: 'jobs/old/config.ini', path: 'jobs/new/config.ini' },
      { status: 'renamed', previous: 'jobs/old/run.py', path: 'jobs/new/run.py' },
      { status: 'removed', path: 'elsewhere/config.ini' }
    ]
    const base = baseFiles(head, changes, 'jobs')
    expect(base.map(f => f.path).sort()).toEqual(['jobs/old/config.ini', 'jobs/old/run.py'])
    // what the base held there is not known: no mode, so never read as a config.ini's team
    expect(jobTreesOf(base, 'jobs').get('jobs/old')?.ini).toBeUndefined()
  })

  it('keeps a path as bytes: a name in UTF-8 from GitHub meets the tree’s latin1 byte string', () => {
    const bytes = Buffer.from('jobs/café/config.ini', 'utf8').toString('latin1')
    const head = [{ path: bytes, mode: '100644', object: 'i' }]
    const base = baseFiles(head, [{ status: 'added', path: 'jobs/café/config.ini' }], '')
    expect(base).toEqual([])
  })
})

describe('the parents a commit names', () => {
  it('are read from a shallow clone that does not hold them', async () => {
    const shallow = join(tmp, 'shallow')
    git(tmp, 'clone', '-q', '--depth', '1', '--branch', 'main', `file://${repo}`, shallow)
    const head = git(shallow, 'rev-parse', 'HEAD')
    expect(await namedParents(shallow, head)).toEqual([commits[commits.length - 2]])
    expect(await namedParents(repo, commits[0])).toEqual([])
  })
})
