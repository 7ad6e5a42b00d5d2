// The one git seam, beside http.ts for the Control Service: git run without a shell, with literal
// pathspecs, no prompt and C messages; one error type carrying git's first line of stderr; and the
// few questions changed-jobs asks a checkout (its top folder, a commit a ref names, a merge base,
// whether it is shallow, the parents a commit names, the files of a tree, a blob's text).
import { execFile } from 'node:child_process'
import { realpathSync } from 'node:fs'
import { promisify } from 'node:util'
import { ActionFailure } from './errors.js'

const execFileAsync = promisify(execFile)

/** A git command that failed: one line, its first line of stderr. */
export class GitError extends ActionFailure {
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
export async function git(
  cwd: string,
  args: string[],
  encoding: 'utf8' | 'latin1' = 'utf8'
): Promise<string> {
  try {
    const { stdout } = await execFileAsync('git', args, {
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

/** The same as `git`, with undefined where git refused (exit code not 0). */
const gitOrNothing = (cwd: string, args: string[]): Promise<string | undefined> =>
  git(cwd, args).then(
    out => out.trim(),
    (e: unknown) => {
      if (e instanceof GitError) return undefined
      throw e
    }
  )

/**
 * The commit `rev` names in the repository at `cwd`, or undefined. `--end-of-options` makes a rev
 * that starts with a dash a rev, never an option (`rev-parse --verify …^{commit}` is `git cat-file
 * -e …^{commit}`).
 */
export const commitOf = async (cwd: string, rev: string): Promise<string | undefined> =>
  (await gitOrNothing(cwd, [
    'rev-parse',
    '--verify',
    '--quiet',
    '--end-of-options',
    `${rev}^{commit}`
  ])) || undefined

/** The best common ancestor of two commits, or undefined when the checkout holds none. */
export const mergeBase = async (cwd: string, a: string, b: string): Promise<string | undefined> =>
  (await gitOrNothing(cwd, ['merge-base', a, b])) || undefined

/** Whether the checkout at `cwd` is shallow (its history cut at some depth). */
export const isShallow = async (cwd: string): Promise<boolean> =>
  (await git(cwd, ['rev-parse', '--is-shallow-repository'])).trim() === 'true'

/**
 * The parents a commit object names, also those a shallow checkout does not hold: `cat-file`
 * prints the object as it is, while `rev-parse <commit>^1` follows the history that the
 * checkout's shallow boundary cuts (a commit at the boundary has no parent there).
 */
export async function namedParents(cwd: string, commit: string): Promise<string[]> {
  const object = await git(cwd, ['cat-file', 'commit', commit])
  // the headers end at the first empty line; the message follows
  const end = object.indexOf('\n\n')
  return (end < 0 ? object : object.slice(0, end))
    .split('\n')
    .filter(line => line.startsWith('parent '))
    .map(line => line.slice('parent '.length))
}

/** The real path of the top folder of the working tree holding `dir` (throws GitError when none). */
export async function repositoryTop(dir: string): Promise<string> {
  return realpathSync((await git(dir, ['rev-parse', '--show-toplevel'])).trim())
}

/** git's refusal of a repository another user owns (git 2.35.2 and later), and the path it names. */
const DUBIOUS = /detected dubious ownership in repository at '([^'\n]*)'/

/**
 * Why the workspace cannot be compared, as one line saying what to do: git missing, git refusing
 * the repository, or no repository there. `rawWorkspace` is the workspace as given, `workspace`
 * its real path.
 */
export function repositoryProblem(rawWorkspace: string, workspace: string, e: unknown): string {
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

/** A file of a tree: its path from the top, its mode and object id as git lists them. */
export interface TreeFile {
  /** A byte string (latin1: every byte one character, whatever the encoding of the name). */
  path: string
  mode: string
  object: string
}

/**
 * Every file of `tree` (a commit or tree), recursively, or only those under the folder `under`
 * (a path from the top, '/' separators, UTF-8; '' for all).
 */
export async function treeFiles(cwd: string, tree: string, under: string): Promise<TreeFile[]> {
  const args = ['ls-tree', '-r', '-z', '--full-tree', tree]
  if (under) args.push('--', `${under}/`)
  const files: TreeFile[] = []
  for (const line of (await git(cwd, args, 'latin1')).split('\0')) {
    // <mode> SP <type> SP <object> TAB <path>
    const tab = line.indexOf('\t')
    if (tab < 0) continue
    const [mode, , object] = line.slice(0, tab).split(' ')
    files.push({ path: line.slice(tab + 1), mode, object })
  }
  return files
}

/** The text of a blob, or undefined when it is larger than `maxBytes` (it is then not read). */
export async function blobText(
  cwd: string,
  blob: string,
  maxBytes: number
): Promise<string | undefined> {
  if (Number((await git(cwd, ['cat-file', '-s', blob])).trim()) > maxBytes) return undefined
  return git(cwd, ['cat-file', 'blob', blob])
}

/** A file that changed between two commits: its path from the top, how, and where it came from. */
export interface ChangedFile {
  path: string
  /** added, modified, deleted, renamed (from `from`), type changed. */
  change: 'added' | 'modified' | 'deleted' | 'renamed' | 'type changed'
  from?: string
}

const CHANGE_OF: Record<string, ChangedFile['change']> = {
  A: 'added',
  C: 'added',
  M: 'modified',
  D: 'deleted',
  R: 'renamed',
  T: 'type changed'
}

/**
 * The files that differ between commits `base` and `head` under the folder `under` (a path from
 * the top, '/' separators; '' for all), renames found (`-M`), as UTF-8 text (`core.quotePath`
 * off and `-z`: names as they are, one NUL after each field).
 */
export async function changedFiles(
  cwd: string,
  base: string,
  head: string,
  under: string
): Promise<ChangedFile[]> {
  const args = ['-c', 'core.quotePath=false', 'diff', '--name-status', '-z', '-M', '--no-ext-diff']
  args.push('--end-of-options', base, head)
  if (under) args.push('--', `${under}/`)
  const fields = (await git(cwd, args)).split('\0')
  const files: ChangedFile[] = []
  for (let i = 0; i + 1 < fields.length;) {
    const status = fields[i++]
    const change = CHANGE_OF[status[0]] ?? 'modified'
    if (status[0] === 'R' || status[0] === 'C') {
      const from = fields[i++]
      files.push({ path: fields[i++], change, ...(status[0] === 'R' ? { from } : {}) })
    } else files.push({ path: fields[i++], change })
  }
  return files
}
