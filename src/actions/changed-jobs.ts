// changed-jobs: the data job folders (folders holding a config.ini) under jobs-root that a push or
// a pull request changed, by comparing the event's base and head with git in the checked-out
// repository; as JSON ready for `strategy.matrix`. Talks to no Control Service.
import { execFile, spawn } from 'node:child_process'
import { readFileSync, realpathSync, statSync } from 'node:fs'
import { basename, isAbsolute, posix, relative, resolve, sep } from 'node:path'
import { promisify } from 'node:util'
import { iniGet, parseIni } from '../core/configini.js'
import type { ConnectionConfig, InputSource, Problems } from '../core/connection.js'
import { ActionFailure } from '../core/errors.js'
import type { ActionDefinition } from './runtime.js'

const run = promisify(execFile)

const ZERO_SHA = /^0+$/

export interface ChangedJobsConfig {
  /** The git working tree (GITHUB_WORKSPACE), real path. */
  workspace: string
  /** The repository's top level, real path. */
  top: string
  /** jobs-root relative to `top`, '/' separators, '' for the top itself. */
  root: string
  /** Where base and head come from, for the log. */
  source: string
  /** The base commit as given (the merge base is taken later for pull requests). */
  base?: string
  head: string
  /** Compare the merge base of base and head, not base itself (pull requests). */
  mergeBase: boolean
  /** A push that created a branch: compare against head's first parent. */
  newBranch: boolean
}

export interface ChangedJob {
  path: string
  name: string
  team: string
}

export interface DeletedJob {
  path: string
  name: string
}

class GitError extends Error {
  constructor(
    readonly args: string[],
    readonly code: number | string | undefined,
    readonly stderr: string
  ) {
    const first = stderr.trim().split('\n')[0] ?? ''
    super(`git ${args.join(' ')} failed${first ? `: ${first}` : ` (exit code ${String(code)})`}`)
  }
}

/** Runs git (never through a shell) in `cwd`; stdout as text. */
async function git(cwd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run('git', args, {
      cwd,
      encoding: 'utf8',
      maxBuffer: 512 * 1024 * 1024,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' }
    })
    return stdout
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string; code?: number | string }
    if (err.code === 'ENOENT') throw new ActionFailure('git is not installed on this runner')
    throw new GitError(args, err.code, err.stderr ?? err.message)
  }
}

/** The id of the empty tree in this repository's hash (SHA-1 or SHA-256). */
function emptyTree(cwd: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('git', ['hash-object', '-t', 'tree', '--stdin'], {
      cwd,
      stdio: ['pipe', 'pipe', 'pipe']
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr.on('data', (c: Buffer) => (err += c.toString()))
    child.on('error', reject)
    child.on('close', code =>
      code === 0
        ? resolvePromise(out.trim())
        : reject(new GitError(['hash-object', '-t', 'tree', '--stdin'], code ?? undefined, err))
    )
    child.stdin.end()
  })
}

const commitOf = (cwd: string, rev: string): Promise<string | undefined> =>
  git(cwd, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`]).then(
    out => out.trim(),
    (e: unknown) => {
      if (e instanceof GitError) return undefined
      throw e
    }
  )

const TOO_SHALLOW =
  'check out with actions/checkout and fetch-depth: 0 (or a depth that reaches the base)'

const short = (sha: string): string => sha.slice(0, 12)

interface EventRefs {
  base?: string
  head?: string
  mergeBase: boolean
  newBranch: boolean
}

/** base and head from the event payload, or a problem. */
function eventRefs(src: InputSource, problems: Problems): EventRefs | undefined {
  const name = src.env.GITHUB_EVENT_NAME ?? ''
  const path = src.env.GITHUB_EVENT_PATH ?? ''
  const known = ['push', 'pull_request', 'pull_request_target']
  if (!known.includes(name)) {
    problems.add(
      `the ${name ? `'${name}'` : 'unknown'} event has no base and head to compare; set the base input (and head, default: HEAD), or run on push or pull_request`
    )
    return undefined
  }
  let payload: unknown
  try {
    payload = JSON.parse(readFileSync(path, 'utf8'))
  } catch (e) {
    problems.add(
      `the event payload at GITHUB_EVENT_PATH ('${path}') cannot be read: ${(e as Error).message.split('\n')[0]}; or set the base and head inputs`
    )
    return undefined
  }
  const p = payload as {
    before?: unknown
    after?: unknown
    pull_request?: { base?: { sha?: unknown }; head?: { sha?: unknown } }
  }
  const str = (v: unknown): string | undefined =>
    typeof v === 'string' && v !== '' ? v : undefined
  if (name === 'push') {
    const before = str(p.before)
    const after = str(p.after)
    if (!after || !before) {
      problems.add(
        `the push event payload has no before/after commits; set the base and head inputs`
      )
      return undefined
    }
    // a deleted branch: nothing to compare (after is all zeros)
    if (ZERO_SHA.test(after)) {
      problems.add(`the push deleted its branch (after is all zeros): there is no head to compare`)
      return undefined
    }
    return ZERO_SHA.test(before)
      ? { head: after, mergeBase: false, newBranch: true }
      : { base: before, head: after, mergeBase: false, newBranch: false }
  }
  const base = str(p.pull_request?.base?.sha)
  const head = str(p.pull_request?.head?.sha)
  if (!base || !head) {
    problems.add(
      `the ${name} event payload has no pull_request.base.sha/head.sha; set the base and head inputs`
    )
    return undefined
  }
  return { base, head, mergeBase: true, newBranch: false }
}

/** The nearest folder at or above `file`'s folder, up to `root`, whose config.ini is in `inis`. */
function nearestJob(file: string, root: string, inis: Set<string>): string | undefined {
  let dir = posix.dirname(file)
  if (dir === '.') dir = ''
  for (;;) {
    if (!(root === '' || dir === root || dir.startsWith(`${root}/`))) return undefined
    if (inis.has(dir)) return dir
    if (dir === root || dir === '') return undefined
    const up = posix.dirname(dir)
    dir = up === '.' ? '' : up
  }
}

/** The folders (relative to the top, '' for the top) holding a config.ini in `tree`. */
async function jobFolders(cwd: string, tree: string, root: string): Promise<Set<string>> {
  const args = ['ls-tree', '-r', '-z', '--name-only', '--full-tree', tree]
  if (root) args.push('--', `${root}/`)
  const out = await git(cwd, args)
  const folders = new Set<string>()
  for (const f of out.split('\0')) {
    if (f === 'config.ini') folders.add('')
    else if (f.endsWith('/config.ini')) folders.add(f.slice(0, -'/config.ini'.length))
  }
  return folders
}

/** The paths a diff touches: [old, new] for renames and copies, [path] otherwise. */
function diffPaths(out: string): { before: string[]; after: string[] } {
  const fields = out.split('\0').filter(f => f !== '')
  const before: string[] = []
  const after: string[] = []
  for (let i = 0; i < fields.length;) {
    const status = fields[i++]
    if (/^[RC]/.test(status)) {
      before.push(fields[i++])
      after.push(fields[i++])
    } else if (status.startsWith('D')) before.push(fields[i++])
    else if (status.startsWith('A')) after.push(fields[i++])
    else {
      // modified, type changed, unmerged: the same path on both sides
      before.push(fields[i])
      after.push(fields[i++])
    }
  }
  return { before, after }
}

export const changedJobs: ActionDefinition<ChangedJobsConfig> = {
  name: 'changed-jobs',

  async config(src: InputSource, problems: Problems): Promise<ChangedJobsConfig> {
    const rawWorkspace = src.env.GITHUB_WORKSPACE || process.cwd()
    let workspace = resolve(rawWorkspace)
    let top = ''
    try {
      workspace = realpathSync(workspace)
      top = (await git(workspace, ['rev-parse', '--show-toplevel'])).trim()
      top = realpathSync(top)
    } catch {
      problems.add(
        `the workspace '${rawWorkspace}' is not a git repository; check the repository out first (actions/checkout with fetch-depth: 0)`
      )
    }
    problems.check()

    const rawRoot = src.input('jobs-root')
    let root = ''
    if (rawRoot) {
      const abs = isAbsolute(rawRoot) ? rawRoot : resolve(workspace, rawRoot)
      let real: string | undefined
      try {
        if (statSync(abs).isDirectory()) real = realpathSync(abs)
        else problems.add(`jobs-root '${rawRoot}' is not a folder`)
      } catch {
        problems.add(`jobs-root '${rawRoot}' does not exist`)
      }
      if (real !== undefined) {
        const rel = relative(top, real)
        if (rel.startsWith('..') || isAbsolute(rel))
          problems.add(`jobs-root '${rawRoot}' is outside the git repository at ${top}`)
        else root = rel.split(sep).join('/')
      }
    } else {
      root = relative(top, workspace).split(sep).join('/')
    }

    const rawBase = src.input('base')
    const rawHead = src.input('head')
    let refs: EventRefs | undefined
    let source: string
    if (rawBase) {
      refs = { base: rawBase, head: rawHead || 'HEAD', mergeBase: false, newBranch: false }
      source = 'the base and head inputs'
    } else {
      refs = eventRefs(src, problems)
      source = `the ${src.env.GITHUB_EVENT_NAME} event`
      if (refs && rawHead) {
        refs.head = rawHead
        source += ' (head from the head input)'
      }
    }
    // an input that is no commit is a bad input; a commit named by the event that is missing
    // means the checkout is too shallow, which run() says
    const check = async (what: string, rev: string): Promise<string | undefined> => {
      const sha = await commitOf(top, rev)
      if (sha === undefined)
        problems.add(
          /^[0-9a-f]{7,64}$/i.test(rev)
            ? `${what} '${rev}' is not a commit in this checkout (a wrong commit, or a checkout too shallow: ${TOO_SHALLOW})`
            : `${what} '${rev}' is not a commit`
        )
      return sha
    }
    let base = refs?.base
    let head = refs?.head ?? 'HEAD'
    if (rawBase) base = await check('base', rawBase)
    if (rawHead) head = (await check('head', rawHead)) ?? head
    problems.check()
    return {
      workspace,
      top,
      root,
      source,
      base,
      head,
      mergeBase: refs?.mergeBase ?? false,
      newBranch: refs?.newBranch ?? false
    }
  },

  // changed-jobs talks to no Control Service: runAction still builds clients, lazily and without
  // sending anything, so a loopback address that is never used will do; ctx.client is never used.
  connection: (): ConnectionConfig => ({
    url: 'http://127.0.0.1',
    auth: { kind: 'none' },
    requestTimeoutMs: 60000,
    allowInsecureHttp: false
  }),

  async run(c, ctx) {
    const cwd = c.top
    const head = await commitOf(cwd, c.head)
    if (!head)
      throw new ActionFailure(
        `the head commit ${short(c.head)} is not in this checkout; ${TOO_SHALLOW}`
      )
    let base: string
    let described: string
    if (c.newBranch) {
      const parent = await commitOf(cwd, `${head}^1`)
      if (parent) {
        base = parent
        described = `a new branch: its head ${short(head)} against its first parent ${short(parent)}`
      } else if ((await git(cwd, ['rev-parse', '--is-shallow-repository'])).trim() === 'true') {
        throw new ActionFailure(
          `the first parent of the head commit ${short(head)} is not in this checkout (it is too shallow); ${TOO_SHALLOW}`
        )
      } else {
        base = await emptyTree(cwd)
        described = `a new branch whose head ${short(head)} has no parent: every job in it`
      }
    } else {
      const given = c.base as string
      // rev-parse --verify …^{commit} is `git cat-file -e …^{commit}`, and takes no option from it
      const found = await commitOf(cwd, given)
      if (!found)
        throw new ActionFailure(
          `the base commit ${short(given)} is not in this checkout (it is too shallow to compare); ${TOO_SHALLOW}`
        )
      base = found
      if (c.mergeBase) {
        const mb = await git(cwd, ['merge-base', base, head]).then(
          out => out.trim(),
          (e: unknown) => {
            if (e instanceof GitError) return ''
            throw e
          }
        )
        if (!mb)
          throw new ActionFailure(
            `the base ${short(base)} and head ${short(head)} have no merge base in this checkout (it is too shallow); ${TOO_SHALLOW}`
          )
        described = `${short(mb)} (merge base of ${short(base)} and ${short(head)}) to ${short(head)}`
        base = mb
      } else described = `${short(base)} to ${short(head)}`
    }
    ctx.info(`comparing ${described}, from ${c.source}`)

    const diff = await git(cwd, [
      'diff',
      '--name-status',
      '-z',
      '-M',
      '--no-ext-diff',
      '--no-textconv',
      base,
      head,
      '--'
    ])
    const { before, after } = diffPaths(diff)
    const atHead = await jobFolders(cwd, head, c.root)
    const atBase = await jobFolders(cwd, base, c.root)
    const changed = new Set<string>()
    const deleted = new Set<string>()
    for (const f of [...before, ...after]) {
      const job = nearestJob(f, c.root, atHead)
      if (job !== undefined) changed.add(job)
    }
    for (const f of before) {
      const job = nearestJob(f, c.root, atBase)
      if (job !== undefined && !atHead.has(job)) deleted.add(job)
    }

    const toWorkspace = (dir: string): string => {
      const rel = relative(c.workspace, resolve(c.top, dir)).split(sep).join('/')
      return rel || '.'
    }
    const nameOf = (dir: string): string => basename(resolve(c.top, dir))
    const jobs: ChangedJob[] = []
    for (const dir of [...changed].sort()) {
      const ini = await git(cwd, ['show', `${head}:${dir ? `${dir}/` : ''}config.ini`])
      const team = iniGet(parseIni(ini), 'owner', 'team')?.value ?? ''
      jobs.push({ path: toWorkspace(dir), name: nameOf(dir), team })
    }
    const gone: DeletedJob[] = [...deleted]
      .sort()
      .map(dir => ({ path: toWorkspace(dir), name: nameOf(dir) }))

    ctx.info(
      jobs.length
        ? `${jobs.length} changed data job(s): ${jobs.map(j => j.path).join(', ')}`
        : 'no data job changed'
    )
    if (gone.length)
      ctx.info(`${gone.length} deleted data job(s): ${gone.map(j => j.path).join(', ')}`)
    return {
      outputs: { jobs: JSON.stringify(jobs), deleted: JSON.stringify(gone), count: jobs.length },
      summary: {
        heading: `Changed data jobs: ${short(base)}..${short(head)}`,
        columns: ['job', 'path', 'team', 'change'],
        rows: [
          ...jobs.map(j => [j.name, j.path, j.team, 'changed']),
          ...gone.map(j => [j.name, j.path, '', 'deleted'])
        ]
      }
    }
  }
}
