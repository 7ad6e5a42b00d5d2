// The data job folders of a commit, read with git (changed-jobs compares them between two commits):
// a job folder is a folder holding a config.ini, and it owns the files below it that no job folder
// nested inside it owns. Also the team its config.ini names.
import { posix } from 'node:path'
import { iniGet, parseIni } from './configini.js'
import { blobText, treeFiles, type TreeFile } from './git.js'
import { CONFIG_INI } from './jobdir.js'

/**
 * The job folder that owns `file` (a path from the top, '/' separators): the nearest folder at or
 * above the file's folder, up to `root` ('' for the top), that is in `jobDirs`; undefined when
 * none is, or when the file is not under `root`.
 */
export function nearestJob(
  file: string,
  root: string,
  jobDirs: ReadonlySet<string>
): string | undefined {
  let dir = posix.dirname(file)
  if (dir === '.') dir = ''
  for (;;) {
    if (!(root === '' || dir === root || dir.startsWith(`${root}/`))) return undefined
    if (jobDirs.has(dir)) return dir
    if (dir === root || dir === '') return undefined
    const up = posix.dirname(dir)
    dir = up === '.' ? '' : up
  }
}

/** One job folder in a commit: its files (path inside the folder → mode and object id). */
export interface JobTree {
  files: Map<string, string>
  /** The object id of its config.ini when that is a regular file. */
  ini?: string
}

/**
 * The job folders under `root` (a path from the top, UTF-8, '' for the top) in `commit` (none for
 * no commit), each with the files it owns: a job folder nested inside another is its own job and
 * its files are not the outer job's (the upload leaves them out too). The folders' paths are byte
 * strings (latin1: every byte one character, whatever the encoding).
 */
export async function jobTrees(
  cwd: string,
  commit: string | undefined,
  root: string
): Promise<Map<string, JobTree>> {
  if (commit === undefined) return new Map<string, JobTree>()
  return jobTreesOf(await treeFiles(cwd, commit, root), root)
}

/**
 * The job folders of a list of files under `root` (as treeFiles lists them), each with the files
 * it owns; a config.ini whose mode is not a regular file's names no team (`ini` unset).
 */
export function jobTreesOf(files: TreeFile[], root: string): Map<string, JobTree> {
  const jobs = new Map<string, JobTree>()
  for (const { path, mode, object } of files)
    if (path === CONFIG_INI || path.endsWith(`/${CONFIG_INI}`))
      jobs.set(path.slice(0, -CONFIG_INI.length).replace(/\/$/, ''), {
        files: new Map(),
        ini: /^100(644|755)$/.test(mode) ? object : undefined
      })
  const jobDirs = new Set(jobs.keys())
  const rootBytes = Buffer.from(root, 'utf8').toString('latin1')
  for (const { path, mode, object } of files) {
    const jobDir = nearestJob(path, rootBytes, jobDirs)
    if (jobDir !== undefined)
      jobs
        .get(jobDir)
        ?.files.set(jobDir ? path.slice(jobDir.length + 1) : path, `${mode} ${object}`)
  }
  return jobs
}

/** Whether a job folder holds the same files (paths, modes and contents) in two commits. */
export const sameFiles = (a: JobTree, b: JobTree): boolean =>
  a.files.size === b.files.size && [...a.files].every(([path, id]) => b.files.get(path) === id)

/** The largest config.ini read for its team (a real one is a few hundred bytes). */
const MAX_INI_BYTES = 1024 * 1024

/** The `[owner] team` of a job's config.ini; '' when it sets none or is no small text file. */
export async function teamOf(cwd: string, job: JobTree | undefined): Promise<string> {
  if (job?.ini === undefined) return ''
  const text = await blobText(cwd, job.ini, MAX_INI_BYTES)
  if (text === undefined) return ''
  return iniGet(parseIni(text), 'owner', 'team')?.value ?? ''
}
