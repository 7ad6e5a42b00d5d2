// changed-jobs: the data job folders (folders holding a config.ini) under jobs-root that a push or
// a pull request changed, by comparing, job by job, the files of the event's base and head commits
// with git in the checked-out repository; as JSON ready for `strategy.matrix`, and the jobs whose
// name the head no longer has. Talks to no Control Service.
import { execFile } from 'node:child_process'
import { readFileSync, realpathSync, statSync } from 'node:fs'
import { basename, isAbsolute, posix, relative, resolve, sep } from 'node:path'
import { promisify } from 'node:util'
import { iniGet, parseIni } from '../core/configini.js'
import type { InputSource, Problems } from '../core/inputs.js'
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

/** A git command that failed: one line, its first line of stderr. */
class GitError extends ActionFailure {
  constructor(
    readonly args: string[],
    readonly code: number | string | undefined,
    readonly stderr: string
  ) {
    const first = stderr.trim().split('\n')[0] ?? ''
    super(`git ${args.join(' ')} failed${first ? `: ${first}` : ` (exit code ${String(code)})`}`)
  }
}

/**
 * Runs git (never through a shell) in `cwd`; stdout as text. Pathspecs are literal (a jobs-root
 * named `[a]` or `:x` is that folder). 'latin1' keeps every byte of a path (one character each).
 */
async function git(
  cwd: string,
  args: string[],
  encoding: 'utf8' | 'latin1' = 'utf8'
): Promise<string> {
  try {
    const { stdout } = await run('git', args, {
      cwd,
      encoding,
      maxBuffer: 512 * 1024 * 1024,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_LITERAL_PATHSPECS: '1', LC_ALL: 'C' }
    })
    return stdout
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string; code?: number | string }
    if (err.code === 'ENOENT') throw new ActionFailure('git is not installed on this runner')
    throw new GitError(args, err.code, err.stderr ?? err.message)
  }
}

/** git's refusal of a repository another user owns (git 2.35.2 and later), and the path it names. */
const DUBIOUS = /detected dubious ownership in repository at '([^'\n]*)'/

/** The config of a workspace without a repository: never run, the runtime stops on its problem. */
const unchecked = (workspace: string): ChangedJobsConfig => ({
  workspace,
  top: '',
  root: '',
  source: '',
  head: 'HEAD',
  mergeBase: false,
  newBranch: false
})

/** Why the workspace cannot be compared: git missing, refused, or no repository there. */
function noRepository(rawWorkspace: string, workspace: string, e: unknown): string {
  if (e instanceof ActionFailure && !(e instanceof GitError)) return e.message
  const refused = e instanceof GitError ? DUBIOUS.exec(e.stderr) : null
  if (refused) {
    // a container job's container runs as another user than the one owning the workspace; and
    // actions/checkout's set-safe-directory writes safe.directory to a temporary global config
    // that it removes when it ends (src/git-source-provider.ts of actions/checkout: "Adding
    // repository directory to the temporary git global config", then removeGlobalConfig())
    const path = refused[1] === workspace ? '"$GITHUB_WORKSPACE"' : `'${refused[1]}'`
    return `git refuses the repository at '${refused[1]}': it belongs to another user than the one running this step ("detected dubious ownership", common in container: jobs); mark it safe in a step before this one: git config --global --add safe.directory ${path}`
  }
  return `the workspace '${rawWorkspace}' is not a git repository; check the repository out first (actions/checkout with fetch-depth: 0)`
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

/** The nearest folder at or above `file`'s folder, up to `root`, that is in `jobs`. */
function nearestJob(file: string, root: string, jobs: ReadonlySet<string>): string | undefined {
  let dir = posix.dirname(file)
  if (dir === '.') dir = ''
  for (;;) {
    if (!(root === '' || dir === root || dir.startsWith(`${root}/`))) return undefined
    if (jobs.has(dir)) return dir
    if (dir === root || dir === '') return undefined
    const up = posix.dirname(dir)
    dir = up === '.' ? '' : up
  }
}

/** One job folder in a commit: its files (path inside the folder → mode and object id). */
interface JobTree {
  files: Map<string, string>
  /** The object id of its config.ini when that is a regular file. */
  ini?: string
}

/**
 * The job folders under `root` in `tree` (none for no tree), each with the files it owns: a file
 * belongs to the innermost folder above it holding a config.ini, so a job folder nested inside
 * another is its own job and its files are not the outer job's (the upload leaves them out too).
 * The folders' paths are byte strings (latin1: every byte one character, whatever the encoding).
 */
async function jobTrees(
  cwd: string,
  tree: string | undefined,
  rootText: string
): Promise<Map<string, JobTree>> {
  const jobs = new Map<string, JobTree>()
  if (tree === undefined) return jobs
  const args = ['ls-tree', '-r', '-z', '--full-tree', tree]
  if (rootText) args.push('--', `${rootText}/`)
  const root = Buffer.from(rootText, 'utf8').toString('latin1')
  const entries: Array<[path: string, object: string]> = []
  for (const line of (await git(cwd, args, 'latin1')).split('\0')) {
    // <mode> SP <type> SP <object> TAB <path>
    const tab = line.indexOf('\t')
    if (tab < 0) continue
    const [mode, , id] = line.slice(0, tab).split(' ')
    const path = line.slice(tab + 1)
    entries.push([path, `${mode} ${id}`])
    if (path === 'config.ini' || path.endsWith('/config.ini'))
      jobs.set(path.slice(0, -'config.ini'.length).replace(/\/$/, ''), {
        files: new Map(),
        ini: /^100(644|755)$/.test(mode) ? id : undefined
      })
  }
  const folders = new Set(jobs.keys())
  for (const [path, object] of entries) {
    const dir = nearestJob(path, root, folders)
    if (dir !== undefined) jobs.get(dir)?.files.set(dir ? path.slice(dir.length + 1) : path, object)
  }
  return jobs
}

const sameFiles = (a: Map<string, string>, b: Map<string, string>): boolean =>
  a.size === b.size && [...a].every(([path, object]) => b.get(path) === object)

/** The largest config.ini read for its team (a real one is a few hundred bytes). */
const MAX_INI_BYTES = 1024 * 1024

/** The `[owner] team` of a config.ini blob; '' when it sets none or is no small text file. */
async function teamOf(cwd: string, blob: string | undefined): Promise<string> {
  if (blob === undefined) return ''
  if (Number((await git(cwd, ['cat-file', '-s', blob])).trim()) > MAX_INI_BYTES) return ''
  const ini = await git(cwd, ['cat-file', 'blob', blob])
  return iniGet(parseIni(ini), 'owner', 'team')?.value ?? ''
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
    } catch (e) {
      problems.add(noRepository(rawWorkspace, workspace, e))
      // without a repository nothing else can be checked: the runtime says why
      return unchecked(workspace)
    }

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

  async run(c, ctx) {
    const cwd = c.top
    const head = await commitOf(cwd, c.head)
    if (!head)
      throw new ActionFailure(
        `the head commit ${short(c.head)} is not in this checkout; ${TOO_SHALLOW}`
      )
    /** The commit compared from; undefined for nothing (a first commit: every job is new). */
    let base: string | undefined
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
        base = undefined
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

    // a job is a folder with a config.ini, and what it holds is the files no nested job owns; it
    // changed when those differ between base and head (a moved folder is new where it is now)
    const atHead = await jobTrees(cwd, head, c.root)
    const atBase = await jobTrees(cwd, base, c.root)
    const changed = new Set<string>()
    for (const [dir, job] of atHead) {
      const before = atBase.get(dir)
      if (!before || !sameFiles(before.files, job.files)) changed.add(dir)
    }

    // paths as text: a folder whose path is not UTF-8 cannot be named in the outputs
    const text = new Map<string, string>()
    for (const dir of new Set([...atHead.keys(), ...atBase.keys()])) {
      try {
        text.set(dir, new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(dir, 'latin1')))
      } catch {
        const shown = Buffer.from(dir, 'latin1').toString('utf8')
        ctx.warning(`the job folder '${shown}' is left out: its path is not UTF-8 text`)
      }
    }
    // the job name VDK uses is the folder's name (the CLI's deploy takes
    // os.path.basename(job_path): projects/vdk-control-cli/src/vdk/internal/control/
    // command_groups/job/deploy_cli.py), and the Control Service knows a job by its name alone,
    // whatever its team (`@Id private String name` in projects/control-service/projects/
    // pipelines_control_service/src/main/java/com/vmware/taurus/service/model/DataJob.java)
    const nameOf = (dir: string): string => basename(resolve(c.top, text.get(dir) ?? ''))
    const toWorkspace = (dir: string): string =>
      relative(c.workspace, resolve(c.top, text.get(dir) ?? ''))
        .split(sep)
        .join('/') || '.'
    const headByName = new Map<string, string[]>()
    for (const dir of atHead.keys()) {
      if (!text.has(dir)) continue
      const folders = headByName.get(nameOf(dir)) ?? []
      headByName.set(nameOf(dir), [...folders, dir])
    }
    // a folder gone from the head is a deleted job only when no folder at head has its name: a
    // job moved (git's rename, or a delete and an add) is deployed from where it is now, and the
    // folders left with its name now hold the job: they are listed as changed
    const deleted: string[] = []
    for (const dir of atBase.keys()) {
      if (atHead.has(dir) || !text.has(dir)) continue
      const still = headByName.get(nameOf(dir))
      if (!still) {
        deleted.push(dir)
        continue
      }
      for (const other of still) changed.add(other)
      ctx.info(
        `${toWorkspace(dir)} is gone, but a job folder named ${nameOf(dir)} is at ${still.map(toWorkspace).join(', ')}: not deleted`
      )
    }

    const jobs: ChangedJob[] = []
    const warned = new Set<string>()
    for (const dir of [...changed].filter(d => text.has(d)).sort()) {
      const name = nameOf(dir)
      const same = headByName.get(name) ?? []
      if (same.length > 1 && !warned.has(name)) {
        warned.add(name)
        ctx.warning(
          `the job folders ${same.map(toWorkspace).join(', ')} are all named ${name}: on the Control Service they are one data job, whichever is deployed last`
        )
      }
      jobs.push({ path: toWorkspace(dir), name, team: await teamOf(cwd, atHead.get(dir)?.ini) })
    }
    // one entry a name: a clean-up step deletes a job once
    const gone: DeletedJob[] = []
    for (const dir of deleted.sort())
      if (!gone.some(g => g.name === nameOf(dir)))
        gone.push({ path: toWorkspace(dir), name: nameOf(dir) })

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
        heading: `Changed data jobs: ${base ? short(base) : 'nothing'}..${short(head)}`,
        columns: ['job', 'path', 'team', 'change'],
        rows: [
          ...jobs.map(j => [j.name, j.path, j.team, 'changed']),
          ...gone.map(j => [j.name, j.path, '', 'deleted'])
        ]
      }
    }
  }
}
