// The files of a job folder to upload, after the ignore rules, with every refusal found before
// any request. Only the upload bundles import this (with the `ignore` matcher).
import { constants, type Stats } from 'node:fs'
import { accessSync, lstatSync, readdirSync, realpathSync, statSync } from 'node:fs'
import { realpath } from 'node:fs/promises'
import { join, sep } from 'node:path'
import ignore from 'ignore'
import type { FileProblem } from './errors.js'
import {
  CONFIG_INI,
  fsReason,
  leadsNowhere,
  locateJobFile,
  readJobFile,
  specialKind,
  under
} from './jobdir.js'
import { relativeToWorkspace } from './inputs.js'

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
  /** Sub-folders holding a config.ini: data jobs of their own, left out (paths as `ignored`). */
  nested: string[]
  /** A .vdkignore pattern matches config.ini, which is uploaded all the same. */
  configKept: boolean
  problems: FileProblem[]
}

/**
 * What one upload can hold: the zip is written without ZIP64, so at most 65,535 entries (the top
 * folder is one) and offsets below 4 GiB; the file data is kept well below that, leaving room for
 * the headers and for what deflate adds to a file it cannot shrink.
 */
export const MAX_ENTRIES = 0xffff - 2 // with the top folder, one below 0xffff: ZIP64's marker
/** Refused files named one by one (each an annotation); the rest are counted in one line. */
export const MAX_REFUSALS = 50
export const MAX_BYTES = 4_000_000_000

/** A keytab file, which is never uploaded (the official CLI refuses it too). */
const KEYTAB = /\.keytab$/i

const byPath = (a: JobEntry, b: JobEntry): number =>
  a.path < b.path ? -1 : a.path > b.path ? 1 : 0

/** A file name that is not UTF-8, printable: ASCII as it is, every other byte as `\xNN`. */
const escapedName = (raw: Buffer): string =>
  [...raw]
    .map(b =>
      b >= 0x20 && b < 0x7f && b !== 0x5c
        ? String.fromCharCode(b)
        : `\\x${b.toString(16).padStart(2, '0')}`
    )
    .join('')

/**
 * Walks the job folder: what goes into the archive (sorted), what the ignore rules left out, and
 * every refusal. The ignore rules come first: what they leave out is neither read nor refused.
 * Then refused: a *.keytab anywhere (as the official CLI), a symlink leading outside `within`
 * (the repository checkout; by default the job folder) or nowhere, a special file (device,
 * socket, pipe: the official CLI's zip skips them without a word), an unreadable file or folder,
 * a file name that is not UTF-8. A symlink that stays inside `within` is followed and its target's
 * content archived, as the official CLI's zip (shutil.make_archive) stores a linked file's
 * content: a job may share `requirements.txt -> ../common/requirements.txt` with others.
 *
 * config.ini and .vdkignore at the top are the job folder's own files: read only as
 * jobdir.ts readJobFile allows (which says why not), and config.ini is uploaded even when a
 * .vdkignore pattern matches it (a data job always carries it; `configKept` says so). A
 * sub-folder holding a config.ini is a data job of its own: left out, and listed in `nested`.
 * When these rules leave nothing but config.ini (and .vdkignore), the upload is refused: VDK fails
 * a job without steps (vdk-core builtin_plugins/run/data_job.py, "Data Job has no steps").
 *
 * The official CLI has no ignore file and no such rules: it zips the whole folder
 * (vdk-control-cli job/job_archive.py, shutil.make_archive), nested jobs included.
 */
export async function scanJob(dir: string, within: string = dir): Promise<JobScan> {
  let root: string
  try {
    root = await realpath(dir)
  } catch (e) {
    const problem = { file: dir, message: `a folder that cannot be read (${fsReason(e)})` }
    return {
      entries: [],
      files: 0,
      bytes: 0,
      ignored: [],
      nested: [],
      configKept: false,
      problems: [problem]
    }
  }
  let boundary = root
  try {
    boundary = await realpath(within)
  } catch {
    // a checkout that cannot be resolved: links may lead only inside the job folder
  }
  // the job folder itself may lie outside the checkout (a job-path under RUNNER_TEMP)
  const inside = (path: string): boolean => under(boundary, path) || under(root, path)
  // where actions/checkout leaves the token it fetched with (persist-credentials)
  const gitDir = join(boundary, '.git')
  const rules = ignore().add(DEFAULT_IGNORES)
  const problems: FileProblem[] = []
  const read = readJobFile(dir, IGNORE_FILE)
  if ('text' in read) rules.add(read.text)
  else if ('problem' in read) problems.push(read.problem)
  const entries: JobEntry[] = []
  const ignored: string[] = []
  const nested: string[] = []
  let configKept = false
  const show = (rel: string): string => (rel ? join(dir, ...rel.split('/')) : dir)
  // bounded whatever the folder holds (a job-path of '/' walks the machine): the walk stops once it
  // has kept or refused more names than an upload can hold (or seen ten times as many, ignored
  // ones included), and at most MAX_REFUSALS are said one by one
  let seen = 0
  let refusals = 0
  const full = (): boolean => entries.length + refusals > MAX_ENTRIES || seen > 10 * MAX_ENTRIES
  const refuse = (rel: string, message: string): void => {
    if (++refusals <= MAX_REFUSALS) problems.push({ file: show(rel), message })
  }
  const utf8 = new TextDecoder('utf-8', { fatal: true })

  // The walk uses the synchronous calls: nothing else runs while a job folder is scanned, and a
  // thread-pool round trip per lstat and access made a 20,000-file scan take seconds.
  const walk = (absDir: string, relDir: string, ancestors: string[]): void => {
    let raw: Buffer[]
    try {
      // as bytes: a name that is not UTF-8 would come back as a string naming no file
      raw = readdirSync(absDir, { encoding: 'buffer' })
    } catch (e) {
      return refuse(relDir, `a folder that cannot be read (${fsReason(e)})`)
    }
    const names: string[] = []
    for (const bytes of raw) {
      try {
        names.push(utf8.decode(bytes))
      } catch {
        const rel = relDir ? `${relDir}/${escapedName(bytes)}` : escapedName(bytes)
        const lossy = relDir ? `${relDir}/${bytes.toString('utf8')}` : bytes.toString('utf8')
        let isDir = false
        try {
          isDir = lstatSync(Buffer.concat([Buffer.from(`${absDir}${sep}`), bytes])).isDirectory()
        } catch {
          // gone meanwhile: refused below all the same
        }
        if (rules.ignores(isDir ? `${lossy}/` : lossy)) ignored.push(isDir ? `${rel}/` : rel)
        else
          refuse(
            rel,
            'a file name that is not UTF-8 (shown here with its bytes as \\xNN): the names of an upload are UTF-8, as the Control Service reads them; rename it, or leave it out with .vdkignore'
          )
      }
    }
    names.sort()
    for (const name of names) {
      seen++
      if (full()) return
      const rel = relDir ? `${relDir}/${name}` : name
      const abs = join(absDir, name)
      let link: Stats
      try {
        link = lstatSync(abs)
      } catch (e) {
        refuse(rel, `cannot be read (${fsReason(e)})`)
        continue
      }
      // what a link leads to decides whether a folder pattern (`logs/`) applies
      let target: Stats | undefined = link
      if (link.isSymbolicLink()) {
        try {
          target = statSync(abs)
        } catch {
          target = undefined
        }
      }
      const isDir = target?.isDirectory() ?? false
      const own = relDir === '' && (name === CONFIG_INI || name === IGNORE_FILE)
      if (relDir === '' && name === CONFIG_INI) configKept = rules.ignores(name)
      else if (rules.ignores(isDir ? `${rel}/` : rel)) {
        ignored.push(isDir ? `${rel}/` : rel)
        continue
      }
      if (own) {
        // refused, if at all, by its reader (readJobConfig, or the .vdkignore read above)
        const at = locateJobFile(dir, name)
        if ('path' in at)
          entries.push({ path: rel, source: at.path, dir: false, size: at.size, mode: 0o644 })
        continue
      }
      if (KEYTAB.test(name)) {
        refuse(
          rel,
          'a keytab file must not be uploaded (the official CLI refuses it too): remove it from the job folder'
        )
        continue
      }
      let source = abs
      let st: Stats = link
      if (link.isSymbolicLink()) {
        try {
          source = realpathSync(abs)
        } catch (e) {
          refuse(rel, leadsNowhere(e))
          continue
        }
        if (!inside(source)) {
          refuse(
            rel,
            `a symbolic link that leads outside the ${boundary === root ? 'job folder' : 'repository checkout'} (to ${source})`
          )
          continue
        }
        // what a link leads to is refused as the file itself would be
        if (under(gitDir, source)) {
          refuse(
            rel,
            `a symbolic link into the repository's .git folder (to ${source}), which may hold the checkout's credentials`
          )
          continue
        }
        if (KEYTAB.test(source)) {
          refuse(
            rel,
            `a symbolic link to a keytab file (${source}): a keytab must not be uploaded (the official CLI refuses it too)`
          )
          continue
        }
        if (!target) {
          refuse(rel, 'a symbolic link whose target cannot be read')
          continue
        }
        st = target
      }
      // also what a linked folder holds: `repo -> ../..` must not carry the checkout's .git
      if (under(gitDir, source)) {
        refuse(
          rel,
          `inside the repository's .git folder (${source}), which may hold the checkout's credentials`
        )
        continue
      }
      if (isDir) {
        if (ancestors.includes(source)) {
          refuse(rel, 'a symbolic link to a folder that contains it (a loop)')
          continue
        }
        if (holdsConfig(source)) {
          nested.push(`${rel}/`)
          continue
        }
        entries.push({ path: rel, source, dir: true, size: 0, mode: 0o755 })
        walk(source, rel, [...ancestors, source])
        continue
      }
      if (!st.isFile()) {
        refuse(
          rel,
          `a special file (${specialKind(st)}) cannot be uploaded: remove it, or leave it out with ${IGNORE_FILE}`
        )
        continue
      }
      try {
        accessSync(source, constants.R_OK)
      } catch (e) {
        refuse(rel, `cannot be read (${fsReason(e)})`)
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
  if (refusals > MAX_REFUSALS)
    problems.push({
      file: dir,
      message: `${refusals - MAX_REFUSALS} more file(s) refused as the ones above (only the first ${MAX_REFUSALS} are named)`
    })
  entries.sort(byPath)
  const files = entries.filter(e => !e.dir)
  const bytes = files.reduce((n, e) => n + e.size, 0)
  if (full())
    problems.push({
      file: dir,
      message: `holds more than the ${MAX_ENTRIES} files and folders an upload can hold (the scan stopped there): leave some out with ${IGNORE_FILE}, or check job-path`
    })
  if (bytes > MAX_BYTES)
    problems.push({
      file: dir,
      message: `holds ${bytes} bytes of files, more than the ${MAX_BYTES} an upload can hold: leave large files out with ${IGNORE_FILE}`
    })
  // what the folder holds is uploaded as it is; but when the rules left out everything else, the
  // upload would only look like it succeeded
  const steps = files.filter(e => e.path !== CONFIG_INI && e.path !== IGNORE_FILE)
  if (!steps.length && (ignored.length || nested.length) && !problems.length) {
    const why = [
      ignored.length && `the ignore rules left out ${ignored.length} file(s) and folder(s)`,
      nested.length && `${nested.length} nested data job(s) are left out`
    ].filter(Boolean)
    problems.push({
      file: dir,
      message: `nothing to upload but config.ini (${why.join('; ')}): a data job needs at least one step, a .py or .sql file; check ${IGNORE_FILE}`
    })
  }
  return { entries, files: files.length, bytes, ignored, nested, configKept, problems }
}

/** Whether a folder holds a config.ini of any kind (a data job of its own). */
function holdsConfig(folder: string): boolean {
  try {
    lstatSync(join(folder, CONFIG_INI))
    return true
  } catch {
    return false
  }
}

/** What the scan left out or kept on its own, one line each, for the log. */
export function scanNotes(scan: JobScan, dir: string): string[] {
  const lines = scan.nested.map(
    rel =>
      `left out ${relativeToWorkspace(join(dir, rel))}: a data job of its own (it holds a config.ini); upload or validate it as its own job`
  )
  if (scan.configKept)
    lines.push(
      `${relativeToWorkspace(join(dir, CONFIG_INI))} is uploaded although a ${IGNORE_FILE} pattern matches it: a data job always carries its config.ini`
    )
  return lines
}
