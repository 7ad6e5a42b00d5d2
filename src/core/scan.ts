// The files of a job folder to upload, after the ignore rules, with every refusal found before
// any request. Only the upload bundles import this (with the `ignore` matcher).
import { constants, type Stats } from 'node:fs'
import { accessSync, lstatSync, readdirSync, realpathSync, statSync } from 'node:fs'
import { readFile, realpath } from 'node:fs/promises'
import { join, sep } from 'node:path'
import ignore from 'ignore'
import type { FileProblem } from './errors.js'

/** Left out of every upload; a `.vdkignore` in the job folder adds to them, `!pattern` re-includes. */
export const DEFAULT_IGNORES = [
  '.git/',
  '.hg/',
  '.svn/',
  '__pycache__/',
  '*.pyc',
  '*.pyo',
  '.venv/',
  'venv/',
  '.virtualenv/',
  '.tox/',
  '.nox/',
  '.pytest_cache/',
  '.mypy_cache/',
  '.ruff_cache/',
  '.ipynb_checkpoints/',
  '.idea/',
  '.vscode/',
  '.DS_Store',
  'Thumbs.db',
  'desktop.ini',
  '*.swp',
  '*~'
]

export const IGNORE_FILE = '.vdkignore'

export interface JobEntry {
  /** Path inside the job folder, with '/' separators. */
  path: string
  /** Where to read it from (a symlink's target). */
  source: string
  dir: boolean
  size: number
  mode: number
}

export interface JobScan {
  entries: JobEntry[]
  files: number
  bytes: number
  ignored: string[]
  problems: FileProblem[]
}

/**
 * What one upload can hold: the zip is written without ZIP64, so at most 65,535 entries (the top
 * folder is one) and offsets below 4 GiB; the file data is kept well below that, leaving room for
 * the headers and for what deflate adds to a file it cannot shrink.
 */
export const MAX_ENTRIES = 0xffff - 2 // with the top folder, one below 0xffff: ZIP64's marker
export const MAX_BYTES = 4_000_000_000

/** A keytab file, which is never uploaded (the official CLI refuses it too). */
const KEYTAB = /\.keytab$/i

const byPath = (a: JobEntry, b: JobEntry): number =>
  a.path < b.path ? -1 : a.path > b.path ? 1 : 0

/**
 * Walks the job folder: what goes into the archive (sorted), what the ignore rules left out, and
 * every refusal: a *.keytab anywhere (as the official CLI), a symlink leading outside `within`
 * (the repository checkout; by default the job folder) or nowhere, a special file, an unreadable
 * file. A symlink that stays inside `within` is followed and its target's content archived, as
 * the official CLI's zip (shutil.make_archive) stores a linked file's content: a job may share
 * `requirements.txt -> ../common/requirements.txt` with others.
 */
export async function scanJob(dir: string, within: string = dir): Promise<JobScan> {
  const root = await realpath(dir)
  let boundary = root
  try {
    boundary = await realpath(within)
  } catch {
    // a checkout that cannot be resolved: links may lead only inside the job folder
  }
  const under = (dir: string, path: string): boolean =>
    path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep)
  // the job folder itself may lie outside the checkout (a job-path under RUNNER_TEMP)
  const inside = (path: string): boolean => under(boundary, path) || under(root, path)
  // where actions/checkout leaves the token it fetched with (persist-credentials)
  const gitDir = join(boundary, '.git')
  const rules = ignore().add(DEFAULT_IGNORES)
  const problems: FileProblem[] = []
  try {
    rules.add(await readFile(join(root, IGNORE_FILE), 'utf8'))
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      problems.push({
        file: join(dir, IGNORE_FILE),
        message: `cannot be read (${(e as Error).message})`
      })
  }
  const entries: JobEntry[] = []
  const ignored: string[] = []
  const show = (rel: string): string => join(dir, ...rel.split('/'))

  // The walk uses the synchronous calls: nothing else runs while a job folder is scanned, and a
  // thread-pool round trip per lstat and access made a 20,000-file scan take seconds.
  const walk = (absDir: string, relDir: string, ancestors: string[]): void => {
    const names = readdirSync(absDir).sort()
    for (const name of names) {
      const rel = relDir ? `${relDir}/${name}` : name
      const abs = join(absDir, name)
      const link = lstatSync(abs)
      let st: Stats = link
      let source = abs
      if (KEYTAB.test(name)) {
        problems.push({
          file: show(rel),
          message:
            'a keytab file must not be uploaded (the official CLI refuses it too): remove it from the job folder'
        })
        continue
      }
      if (link.isSymbolicLink()) {
        try {
          source = realpathSync(abs)
          st = statSync(source)
        } catch {
          problems.push({ file: show(rel), message: 'a symbolic link that leads nowhere' })
          continue
        }
        if (!inside(source)) {
          problems.push({
            file: show(rel),
            message: `a symbolic link that leads outside the ${boundary === root ? 'job folder' : 'repository checkout'} (to ${source})`
          })
          continue
        }
        // what a link leads to is refused as the file itself would be
        if (under(gitDir, source)) {
          problems.push({
            file: show(rel),
            message: `a symbolic link into the repository's .git folder (to ${source}), which may hold the checkout's credentials`
          })
          continue
        }
        if (KEYTAB.test(source)) {
          problems.push({
            file: show(rel),
            message: `a symbolic link to a keytab file (${source}): a keytab must not be uploaded (the official CLI refuses it too)`
          })
          continue
        }
      }
      const isDir = st.isDirectory()
      if (rules.ignores(isDir ? `${rel}/` : rel)) {
        ignored.push(isDir ? `${rel}/` : rel)
        continue
      }
      if (isDir) {
        if (ancestors.includes(source)) {
          problems.push({
            file: show(rel),
            message: 'a symbolic link to a folder that contains it (a loop)'
          })
          continue
        }
        entries.push({ path: rel, source, dir: true, size: 0, mode: 0o755 })
        walk(source, rel, [...ancestors, source])
        continue
      }
      if (!st.isFile()) {
        problems.push({
          file: show(rel),
          message: 'a special file (device, socket or pipe) cannot be uploaded'
        })
        continue
      }
      try {
        accessSync(source, constants.R_OK)
      } catch {
        problems.push({ file: show(rel), message: 'cannot be read (permission denied)' })
        continue
      }
      entries.push({
        path: rel,
        source,
        dir: false,
        size: st.size,
        mode: st.mode & 0o111 ? 0o755 : 0o644
      })
    }
  }
  walk(root, '', [root])
  entries.sort(byPath)
  const files = entries.filter(e => !e.dir)
  const bytes = files.reduce((n, e) => n + e.size, 0)
  if (entries.length > MAX_ENTRIES)
    problems.push({
      file: dir,
      message: `holds ${entries.length} files and folders, more than the ${MAX_ENTRIES} an upload can hold: leave some out with ${IGNORE_FILE}`
    })
  if (bytes > MAX_BYTES)
    problems.push({
      file: dir,
      message: `holds ${bytes} bytes of files, more than the ${MAX_BYTES} an upload can hold: leave large files out with ${IGNORE_FILE}`
    })
  return { entries, files: files.length, bytes, ignored, problems }
}
