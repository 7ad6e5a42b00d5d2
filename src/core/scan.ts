// The files of a job folder to upload, after the ignore rules, with every refusal found before
// any request (the ignore rules themselves: ignorerules.ts). Only the upload bundles import this.
import { constants, type Stats } from 'node:fs'
import { accessSync, lstatSync, readdirSync, realpathSync, statSync } from 'node:fs'
import { realpath } from 'node:fs/promises'
import { join, sep } from 'node:path'
import type { FileProblem } from './errors.js'
import { IGNORE_FILE, ignoreRules, type Ignore } from './ignorerules.js'
import { CONFIG_INI, fsReason, leadsNowhere, locateJobFile, specialKind, under } from './jobdir.js'
import { relativeToWorkspace } from './inputs.js'
import { keptEntry, type JobEntry } from './scanentry.js'

export type { JobEntry } from './scanentry.js'

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
 * Walks the job folder `jobDir`: what goes into the archive (sorted), what the ignore rules left out, and
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
export async function scanJob(jobDir: string, within: string = jobDir): Promise<JobScan> {
  let root: string
  try {
    root = await realpath(jobDir)
  } catch (e) {
    const problem = { file: jobDir, message: `a folder that cannot be read (${fsReason(e)})` }
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
  const walk = new JobWalk(jobDir, root, boundary)
  walk.walk(root, '', [root])
  return walk.result()
}

/**
 * One walk of a job folder: what it kept, left out and refused so far. It uses the synchronous
 * calls: nothing else runs while a job folder is scanned, and a thread-pool round trip per lstat
 * and access made a 20,000-file scan take seconds.
 */
class JobWalk {
  readonly entries: JobEntry[] = []
  readonly ignored: string[] = []
  readonly nested: string[] = []
  readonly problems: FileProblem[] = []
  private readonly rules: Ignore
  /** config.ini is matched by a .vdkignore pattern (and kept all the same). */
  private configKept = false
  /** Where actions/checkout leaves the token it fetched with (persist-credentials). */
  private readonly gitDir: string
  // bounded whatever the folder holds (a job-path of '/' walks the machine): the walk stops once it
  // has kept or refused more names than an upload can hold (or seen ten times as many, ignored
  // ones included), and at most MAX_REFUSALS are said one by one
  private seen = 0
  private refusals = 0
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true })

  /**
   * `root` is the job folder's real path, `boundary` the real path links may lead anywhere inside
   * (the repository checkout, or the job folder itself).
   */
  constructor(
    private readonly jobDir: string,
    private readonly root: string,
    private readonly boundary: string
  ) {
    this.gitDir = join(boundary, '.git')
    const { rules, problem } = ignoreRules(jobDir)
    this.rules = rules
    if (problem) this.problems.push(problem)
  }

  private full(): boolean {
    return this.entries.length + this.refusals > MAX_ENTRIES || this.seen > 10 * MAX_ENTRIES
  }

  private refuse(rel: string, message: string): void {
    const file = rel ? join(this.jobDir, ...rel.split('/')) : this.jobDir
    if (++this.refusals <= MAX_REFUSALS) this.problems.push({ file, message })
  }

  /** The job folder itself may lie outside the checkout (a job-path under RUNNER_TEMP). */
  private inside(path: string): boolean {
    return under(this.boundary, path) || under(this.root, path)
  }

  walk(absDir: string, relDir: string, ancestors: string[]): void {
    const names = this.names(absDir, relDir)
    for (const name of names) {
      this.seen++
      if (this.full()) return
      this.visit(absDir, relDir, name, ancestors)
    }
  }

  /** The names in a folder, sorted; a name that is not UTF-8 is left out or refused here. */
  private names(absDir: string, relDir: string): string[] {
    let raw: Buffer[]
    try {
      // as bytes: a name that is not UTF-8 would come back as a string naming no file
      raw = readdirSync(absDir, { encoding: 'buffer' })
    } catch (e) {
      this.refuse(relDir, `a folder that cannot be read (${fsReason(e)})`)
      return []
    }
    const names: string[] = []
    for (const bytes of raw) {
      try {
        names.push(this.utf8.decode(bytes))
      } catch {
        this.notUtf8(absDir, relDir, bytes)
      }
    }
    return names.sort()
  }

  private notUtf8(absDir: string, relDir: string, bytes: Buffer): void {
    const rel = relDir ? `${relDir}/${escapedName(bytes)}` : escapedName(bytes)
    const lossy = relDir ? `${relDir}/${bytes.toString('utf8')}` : bytes.toString('utf8')
    let isDir = false
    try {
      isDir = lstatSync(Buffer.concat([Buffer.from(`${absDir}${sep}`), bytes])).isDirectory()
    } catch {
      // gone meanwhile: refused below all the same
    }
    if (this.rules.ignores(isDir ? `${lossy}/` : lossy)) this.ignored.push(isDir ? `${rel}/` : rel)
    else
      this.refuse(
        rel,
        'a file name that is not UTF-8 (shown here with its bytes as \\xNN): the names of an upload are UTF-8, as the Control Service reads them; rename it, or leave it out with .vdkignore'
      )
  }

  /** One name of a folder: left out, refused, or kept (a folder is walked in turn). */
  private visit(absDir: string, relDir: string, name: string, ancestors: string[]): void {
    const rel = relDir ? `${relDir}/${name}` : name
    const abs = join(absDir, name)
    let link: Stats
    try {
      link = lstatSync(abs)
    } catch (e) {
      return this.refuse(rel, `cannot be read (${fsReason(e)})`)
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
    if (this.leftOut(relDir, name, isDir)) return
    if (relDir === '' && (name === CONFIG_INI || name === IGNORE_FILE)) {
      // refused, if at all, by its reader (readJobConfig, or the .vdkignore read by ignoreRules)
      const at = locateJobFile(this.jobDir, name)
      if ('path' in at) this.entries.push(this.kept(rel, at.path, false, at.size, 0o644))
      return
    }
    if (KEYTAB.test(name))
      return this.refuse(
        rel,
        'a keytab file must not be uploaded (the official CLI refuses it too): remove it from the job folder'
      )
    const followed = link.isSymbolicLink()
      ? this.follow(rel, abs, target)
      : { source: abs, st: link }
    if (!followed) return
    const { source, st } = followed
    // also what a linked folder holds: `repo -> ../..` must not carry the checkout's .git
    if (under(this.gitDir, source))
      return this.refuse(
        rel,
        `inside the repository's .git folder (${source}), which may hold the checkout's credentials`
      )
    if (isDir) this.folder(rel, source, ancestors)
    else this.file(rel, source, st)
  }

  /**
   * Whether the ignore rules leave `name` out (then it is listed as ignored). config.ini at the top
   * is never left out: whether a pattern matches it is noted in `configKept`.
   */
  private leftOut(relDir: string, name: string, isDir: boolean): boolean {
    const rel = relDir ? `${relDir}/${name}` : name
    if (relDir === '' && name === CONFIG_INI) {
      this.configKept = this.rules.ignores(name)
      return false
    }
    if (!this.rules.ignores(isDir ? `${rel}/` : rel)) return false
    this.ignored.push(isDir ? `${rel}/` : rel)
    return true
  }

  /** Where a symbolic link leads, refused as the file itself would be; undefined when refused. */
  private follow(
    rel: string,
    abs: string,
    target: Stats | undefined
  ): { source: string; st: Stats } | undefined {
    let source: string
    try {
      source = realpathSync(abs)
    } catch (e) {
      this.refuse(rel, leadsNowhere(e))
      return undefined
    }
    const refusal = !this.inside(source)
      ? `a symbolic link that leads outside the ${this.boundary === this.root ? 'job folder' : 'repository checkout'} (to ${source})`
      : under(this.gitDir, source)
        ? `a symbolic link into the repository's .git folder (to ${source}), which may hold the checkout's credentials`
        : KEYTAB.test(source)
          ? `a symbolic link to a keytab file (${source}): a keytab must not be uploaded (the official CLI refuses it too)`
          : undefined
    if (refusal === undefined && target) return { source, st: target }
    this.refuse(rel, refusal ?? 'a symbolic link whose target cannot be read')
    return undefined
  }

  private folder(rel: string, source: string, ancestors: string[]): void {
    if (ancestors.includes(source))
      return this.refuse(rel, 'a symbolic link to a folder that contains it (a loop)')
    if (holdsConfig(source)) {
      this.nested.push(`${rel}/`)
      return
    }
    this.entries.push(this.kept(rel, source, true, 0, 0o755))
    this.walk(source, rel, [...ancestors, source])
  }

  private file(rel: string, source: string, st: Stats): void {
    if (!st.isFile())
      return this.refuse(
        rel,
        `a special file (${specialKind(st)}) cannot be uploaded: remove it, or leave it out with ${IGNORE_FILE}`
      )
    try {
      accessSync(source, constants.R_OK)
    } catch (e) {
      return this.refuse(rel, `cannot be read (${fsReason(e)})`)
    }
    this.entries.push(this.kept(rel, source, false, st.size, st.mode & 0o111 ? 0o755 : 0o644))
  }

  /** An entry kept; `source` is stored only when it is not where `rel` lies in the job folder. */
  private kept(rel: string, source: string, dir: boolean, size: number, mode: number): JobEntry {
    return keptEntry(rel, this.root, source === join(this.root, rel) ? undefined : source, {
      dir,
      size,
      mode
    })
  }

  /** What the walk found, with the problems of the whole: limits, and nothing left to upload. */
  result(): JobScan {
    const { entries, ignored, nested, problems, jobDir } = this
    if (this.refusals > MAX_REFUSALS)
      problems.push({
        file: jobDir,
        message: `${this.refusals - MAX_REFUSALS} more file(s) refused as the ones above (only the first ${MAX_REFUSALS} are named)`
      })
    entries.sort(byPath)
    const files = entries.filter(e => !e.dir)
    const bytes = files.reduce((n, e) => n + e.size, 0)
    if (this.full())
      problems.push({
        file: jobDir,
        message: `holds more than the ${MAX_ENTRIES} files and folders an upload can hold (the scan stopped there): leave some out with ${IGNORE_FILE}, or check job-path`
      })
    if (bytes > MAX_BYTES)
      problems.push({
        file: jobDir,
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
        file: jobDir,
        message: `nothing to upload but config.ini (${why.join('; ')}): a data job needs at least one step, a .py or .sql file; check ${IGNORE_FILE}`
      })
    }
    const configKept = this.configKept
    return { entries, files: files.length, bytes, ignored, nested, configKept, problems }
  }
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
export function scanNotes(scan: JobScan, jobDir: string): string[] {
  const lines = scan.nested.map(
    rel =>
      `left out ${relativeToWorkspace(join(jobDir, rel))}: a data job of its own (it holds a config.ini); upload or validate it as its own job`
  )
  if (scan.configKept)
    lines.push(
      `${relativeToWorkspace(join(jobDir, CONFIG_INI))} is uploaded although a ${IGNORE_FILE} pattern matches it: a data job always carries its config.ini`
    )
  return lines
}
