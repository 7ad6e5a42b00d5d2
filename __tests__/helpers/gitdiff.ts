// git's own diff of two commits (renames and copies found), in the shape of the `files` of GitHub's
// "Compare two commits" (diff entries): what GitHub's compare API answers for the same history. The
// changed-jobs tests give it to the GitHub test server, and to the rebuilding of a base's files.
import type { ComparedFile } from '../../src/core/basefiles.js'
import { git } from './gitrepo.js'

/** git's status letters as GitHub's diff-entry statuses (T, a type change, is "changed"). */
const STATUSES: Record<string, ComparedFile['status']> = {
  A: 'added',
  D: 'removed',
  M: 'modified',
  T: 'changed',
  R: 'renamed',
  C: 'copied'
}

/** The files that changed from `base` to `head` (two dots: `base` itself, not a merge base). */
export function diffEntries(cwd: string, base: string, head: string): ComparedFile[] {
  const out = git(cwd, 'diff', '--name-status', '-z', '-M', '-C', base, head).split('\0')
  const entries: ComparedFile[] = []
  for (let i = 0; i < out.length && out[i];) {
    const letter = out[i][0]
    if (letter === 'R' || letter === 'C') {
      entries.push({ status: STATUSES[letter], previous: out[i + 1], path: out[i + 2] })
      i += 3
    } else {
      entries.push({ status: STATUSES[letter], path: out[i + 1] })
      i += 2
    }
  }
  return entries
}

/** The same as GitHub's diff entries name their fields (filename, previous_filename). */
export const asDiffEntries = (
  files: ComparedFile[]
): Array<{ filename: string; status: ComparedFile['status']; previous_filename?: string }> =>
  files.map(f => ({
    filename: f.path,
    status: f.status,
    ...(f.previous !== undefined ? { previous_filename: f.previous } : {})
  }))
