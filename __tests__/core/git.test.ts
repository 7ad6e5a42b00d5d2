// The git seam (src/core/git.ts) and the job folders of a commit (src/core/jobtrees.ts), in
// process, against real git on repositories made here in a temporary folder: the commit a ref
// names (never an option), merge bases, shallow clones, the repository's top, a tree's files
// (literal pathspecs, paths of any bytes), blobs, and which files each job folder owns.
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ActionFailure } from '../../src/core/errors.js'
import {
  blobText,
  commitOf,
  git,
  GitError,
  isShallow,
  mergeBase,
  repositoryProblem,
  repositoryTop,
  treeFiles
} from '../../src/core/git.js'
import { jobTrees, nearestJob, sameFiles, teamOf } from '../../src/core/jobtrees.js'
import { commitFiles, git as sh, GIT_ENV } from '../helpers/gitrepo.js'

const savedEnv = { ...process.env }

let tmp: string
let repo: string

const commit = (files: Record<string, string | null>, message: string): string =>
  commitFiles(repo, files, message)

const c: Record<string, string> = {}

beforeAll(() => {
  // the seam runs git with the process's environment: no machine or user config may change it
  Object.assign(process.env, GIT_ENV)
  tmp = realpathSync(mkdtempSync(join(tmpdir(), 'git-test-')))
  repo = join(tmp, 'repo')
  mkdirSync(repo)
  sh(repo, 'init', '-q', '-b', 'main')
  c.first = commit(
    {
      'README.md': '# jobs\n',
      'jobs/alpha/config.ini': '[owner]\nteam = team-a\n',
      'jobs/alpha/run.py': 'pass\n',
      'jobs/alpha/inner/config.ini': '[job]\n',
      'jobs/alpha/inner/step.sql': 'select 1\n',
      'jobs/alpha/lib/util.py': 'x = 1\n',
      'jobs/notes.md': 'notes\n',
      'lit[ab]/bracket/config.ini': '[owner]\nteam = b\n',
      'lita/plain/config.ini': '[owner]\nteam = p\n'
    },
    'first'
  )
  c.second = commit({ 'jobs/alpha/inner/step.sql': 'select 2\n' }, 'second')
  sh(repo, 'checkout', '-q', '-b', 'side', c.first)
  c.side = commit({ 'jobs/notes.md': 'side\n' }, 'side')
  sh(repo, 'checkout', '-q', 'main')
  // an unrelated history: no merge base with main
  sh(repo, 'checkout', '-q', '--orphan', 'lone')
  c.lone = commit({ 'lone.txt': 'alone\n' }, 'lone')
  sh(repo, 'checkout', '-q', 'main')
})

afterAll(() => {
  process.env = savedEnv
  rmSync(tmp, { recursive: true, force: true })
})

describe('git', () => {
  it('runs git in a folder and gives its output', async () => {
    expect((await git(repo, ['rev-parse', 'HEAD'])).trim()).toBe(c.second)
  })

  it('throws a GitError of one line: the command and the first line of what git said', async () => {
    const e = await git(repo, ['cat-file', '-p', 'no-such-object']).catch((err: unknown) => err)
    expect(e).toBeInstanceOf(GitError)
    expect(e).toBeInstanceOf(ActionFailure)
    const message = (e as GitError).message
    expect(message).toMatch(/^git cat-file -p no-such-object failed: fatal: /)
    expect(message).not.toContain('\n')
    expect((e as GitError).code).toBe(128)
  })
})

describe('commitOf', () => {
  it('gives the commit a ref, a short id or an expression names', async () => {
    expect(await commitOf(repo, 'HEAD')).toBe(c.second)
    expect(await commitOf(repo, 'main~1')).toBe(c.first)
    expect(await commitOf(repo, 'side')).toBe(c.side)
    expect(await commitOf(repo, c.first.slice(0, 10))).toBe(c.first)
  })

  it('gives undefined for what names no commit: a missing ref or id, a tree, a blob', async () => {
    expect(await commitOf(repo, 'no-such-branch')).toBeUndefined()
    expect(await commitOf(repo, 'f'.repeat(40))).toBeUndefined()
    expect(await commitOf(repo, `${c.first}^1`)).toBeUndefined()
    const tree = sh(repo, 'rev-parse', 'HEAD^{tree}')
    const blob = sh(repo, 'rev-parse', 'HEAD:README.md')
    expect(await commitOf(repo, tree)).toBeUndefined()
    expect(await commitOf(repo, blob)).toBeUndefined()
  })

  it('takes a rev that starts with a dash as a rev, never as an option', async () => {
    const written = join(tmp, 'written-by-git')
    for (const rev of [`--output=${written}`, '-h', '--all'])
      expect(await commitOf(repo, rev)).toBeUndefined()
    expect(existsSync(written)).toBe(false)
  })
})

describe('mergeBase and isShallow', () => {
  it('gives the best common ancestor, or undefined for unrelated histories', async () => {
    expect(await mergeBase(repo, c.second, c.side)).toBe(c.first)
    expect(await mergeBase(repo, c.second, c.first)).toBe(c.first)
    expect(await mergeBase(repo, c.second, c.lone)).toBeUndefined()
  })

  it('says whether a checkout is shallow', async () => {
    const shallow = join(tmp, 'shallow')
    sh(tmp, 'clone', '-q', '--depth', '1', '--branch', 'main', `file://${repo}`, shallow)
    expect(await isShallow(repo)).toBe(false)
    expect(await isShallow(shallow)).toBe(true)
    // the first parent of a shallow clone's only commit is not there
    expect(await commitOf(shallow, 'HEAD^1')).toBeUndefined()
  })
})

describe('repositoryTop and repositoryProblem', () => {
  it('gives the real path of the top folder from any folder inside it', async () => {
    expect(await repositoryTop(repo)).toBe(repo)
    expect(await repositoryTop(join(repo, 'jobs', 'alpha'))).toBe(repo)
  })

  it('says a folder outside any repository is not one, and how to check it out', async () => {
    const plain = join(tmp, 'plain')
    mkdirSync(plain)
    // git looks upwards for a repository: this one must not find any above the temporary folder
    process.env.GIT_CEILING_DIRECTORIES = tmp
    try {
      const e = await repositoryTop(plain).catch((err: unknown) => err)
      expect(e).toBeInstanceOf(GitError)
      expect(repositoryProblem('ws', plain, e)).toBe(
        "the workspace 'ws' is not a git repository; check the repository out first (actions/checkout with fetch-depth: 0)"
      )
    } finally {
      delete process.env.GIT_CEILING_DIRECTORIES
    }
  })

  it("names git's refusal of a repository another user owns, and the setting that trusts it", () => {
    const stderr = `fatal: detected dubious ownership in repository at '${repo}'\nTo add an exception…`
    const refused = new GitError(['rev-parse', '--show-toplevel'], 128, stderr)
    expect(repositoryProblem(repo, repo, refused)).toMatch(
      /^git refuses the repository at '.*': it belongs to another user .* git config --global --add safe\.directory "\$GITHUB_WORKSPACE"$/
    )
    // a repository above the workspace is named by its path
    expect(repositoryProblem(join(repo, 'jobs'), join(repo, 'jobs'), refused)).toMatch(
      new RegExp(`safe\\.directory '${repo}'$`)
    )
    // git missing is said as it is
    const missing = new ActionFailure('git is not installed on this runner')
    expect(repositoryProblem(repo, repo, missing)).toBe('git is not installed on this runner')
  })
})

describe('treeFiles and blobText', () => {
  it("lists a commit's files, all or under one folder, with their modes and objects", async () => {
    const all = await treeFiles(repo, c.first, '')
    expect(all.map(f => f.path)).toContain('README.md')
    expect(all).toHaveLength(9)
    const alpha = await treeFiles(repo, c.first, 'jobs/alpha')
    expect(alpha.map(f => f.path).sort()).toEqual([
      'jobs/alpha/config.ini',
      'jobs/alpha/inner/config.ini',
      'jobs/alpha/inner/step.sql',
      'jobs/alpha/lib/util.py',
      'jobs/alpha/run.py'
    ])
    const ini = alpha.find(f => f.path === 'jobs/alpha/config.ini')
    expect(ini).toEqual({
      path: 'jobs/alpha/config.ini',
      mode: '100644',
      object: sh(repo, 'rev-parse', `${c.first}:jobs/alpha/config.ini`)
    })
  })

  it('takes a folder named like a pattern as that folder only', async () => {
    const files = await treeFiles(repo, c.first, 'lit[ab]')
    expect(files.map(f => f.path)).toEqual(['lit[ab]/bracket/config.ini'])
  })

  it('keeps every byte of a path that is not UTF-8 (one character a byte)', async () => {
    const odd = join(tmp, 'odd')
    mkdirSync(odd)
    sh(odd, 'init', '-q', '-b', 'main')
    const name = Buffer.from([0x6a, 0xe9, 0x6f, 0x62]) // 'j', 0xe9 (latin-1 é), 'o', 'b'
    mkdirSync(Buffer.concat([Buffer.from(`${odd}/`), name]))
    writeFileSync(Buffer.concat([Buffer.from(`${odd}/`), name, Buffer.from('/config.ini')]), '')
    sh(odd, 'add', '-A')
    sh(odd, 'commit', '-q', '-m', 'odd')
    const [file] = await treeFiles(odd, 'HEAD', '')
    expect(Buffer.from(file.path, 'latin1')).toEqual(
      Buffer.concat([name, Buffer.from('/config.ini')])
    )
  })

  it("gives a blob's text, or nothing for a blob larger than asked", async () => {
    const blob = sh(repo, 'rev-parse', `${c.first}:jobs/alpha/config.ini`)
    expect(await blobText(repo, blob, 1024)).toBe('[owner]\nteam = team-a\n')
    expect(await blobText(repo, blob, 5)).toBeUndefined()
  })
})

describe('nearestJob', () => {
  const jobs = new Set(['jobs/a', 'jobs/a/inner', 'top-job', ''])

  it('gives the innermost job folder at or above a file', () => {
    expect(nearestJob('jobs/a/run.py', 'jobs', jobs)).toBe('jobs/a')
    expect(nearestJob('jobs/a/lib/deep/x.py', 'jobs', jobs)).toBe('jobs/a')
    expect(nearestJob('jobs/a/inner/step.sql', 'jobs', jobs)).toBe('jobs/a/inner')
    expect(nearestJob('jobs/a/config.ini', 'jobs', jobs)).toBe('jobs/a')
  })

  it('looks no higher than the root, and gives nothing for a file outside it', () => {
    expect(nearestJob('jobs/notes.md', 'jobs', jobs)).toBeUndefined()
    expect(nearestJob('top-job/x.py', 'jobs', jobs)).toBeUndefined()
    // a folder whose name only starts like the root is outside it
    expect(nearestJob('jobsx/a/run.py', 'jobs', new Set(['jobsx/a']))).toBeUndefined()
  })

  it('takes the top folder as the root when the root is empty', () => {
    expect(nearestJob('top-job/x.py', '', jobs)).toBe('top-job')
    // a job folder at the top itself (a config.ini there) owns what no other job owns
    expect(nearestJob('README.md', '', jobs)).toBe('')
    expect(nearestJob('other/file.txt', '', jobs)).toBe('')
    expect(nearestJob('README.md', '', new Set(['top-job']))).toBeUndefined()
  })

  it('takes the root itself as a job folder when it is one', () => {
    expect(nearestJob('jobs/a/run.py', 'jobs/a', jobs)).toBe('jobs/a')
    expect(nearestJob('jobs/a/inner/s.sql', 'jobs/a/inner', jobs)).toBe('jobs/a/inner')
  })
})

describe('jobTrees, sameFiles and teamOf', () => {
  it("gives each job folder the files it owns, not a nested job's", async () => {
    const jobs = await jobTrees(repo, c.first, 'jobs')
    expect([...jobs.keys()].sort()).toEqual(['jobs/alpha', 'jobs/alpha/inner'])
    expect([...(jobs.get('jobs/alpha')?.files.keys() ?? [])].sort()).toEqual([
      'config.ini',
      'lib/util.py',
      'run.py'
    ])
    expect([...(jobs.get('jobs/alpha/inner')?.files.keys() ?? [])].sort()).toEqual([
      'config.ini',
      'step.sql'
    ])
    expect(await jobTrees(repo, undefined, 'jobs')).toEqual(new Map())
  })

  it('says which job folders hold the same files in two commits', async () => {
    const before = await jobTrees(repo, c.first, '')
    const after = await jobTrees(repo, c.second, '')
    const same = (dir: string): boolean => {
      const a = before.get(dir)
      const b = after.get(dir)
      if (!a || !b) throw new Error(`no job folder ${dir}`)
      return sameFiles(a, b)
    }
    expect(same('jobs/alpha')).toBe(true)
    expect(same('jobs/alpha/inner')).toBe(false)
    expect(same('lit[ab]/bracket')).toBe(true)
  })

  it("reads a job's team from its config.ini at that commit", async () => {
    const jobs = await jobTrees(repo, c.first, '')
    expect(await teamOf(repo, jobs.get('jobs/alpha'))).toBe('team-a')
    expect(await teamOf(repo, jobs.get('jobs/alpha/inner'))).toBe('')
    expect(await teamOf(repo, undefined)).toBe('')
  })
})
