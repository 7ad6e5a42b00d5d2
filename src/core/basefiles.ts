// The files of a base commit that a shallow checkout does not hold, rebuilt from the head's files
// (which it holds) and the list of changed files GitHub's compare API gives: every path of the
// base under jobs-root, with the object of each file the comparison left unchanged. changed-jobs
// then finds the job folders of both commits, and which of them changed, with the same code as
// when git compares the two trees (core/jobtrees.ts jobTreesOf, sameFiles).
import type { TreeFile } from './git.js'

/**
 * One file of a comparison as GitHub lists it (the `files` of "Compare two commits", a diff-entry
 * in GitHub's OpenAPI description): `path` is its path at head (`filename`), `previous` its path
 * at the base for a rename or a copy (`previous_filename`), `status` one of added, removed,
 * modified, renamed, copied, changed, unchanged.
 */
export interface ComparedFile {
  path: string
  previous?: string
  status: string
}

/** A path as GitHub gives it (text) as the byte string the tree's paths are (latin1). */
const asBytes = (path: string): string => Buffer.from(path, 'utf8').toString('latin1')

/**
 * What a file at the base holds when it differs from the head (or is not there): nothing git
 * could name. Its mode is unknown too, so that no code takes it for a readable config.ini.
 */
const unknownAt = (path: string): TreeFile => ({ path, mode: '', object: `(base) ${path}` })

/**
 * The files under `root` (a path from the top, UTF-8, '' for the top) of the base of a comparison:
 * `headFiles` (the head's files under root, as treeFiles lists them), less those the comparison
 * added, plus those it removed or renamed; a file it changed is there with an unknown object.
 * Paths are byte strings, as in TreeFile.
 */
export function baseFiles(
  headFiles: TreeFile[],
  changes: ComparedFile[],
  root: string
): TreeFile[] {
  const rootBytes = asBytes(root)
  const underRoot = (path: string): boolean => rootBytes === '' || path.startsWith(`${rootBytes}/`)
  const files = new Map(headFiles.map(f => [f.path, f]))
  // first what the head has that the base had not (a path may be removed and added again)
  for (const change of changes)
    if (['added', 'renamed', 'copied'].includes(change.status)) files.delete(asBytes(change.path))
  // then what the base had, with contents other than the head's
  for (const change of changes) {
    const atBase: string[] = []
    if (['removed', 'modified', 'changed'].includes(change.status)) atBase.push(change.path)
    if (change.status === 'renamed' && change.previous) atBase.push(change.previous)
    for (const path of atBase.map(asBytes)) if (underRoot(path)) files.set(path, unknownAt(path))
  }
  return [...files.values()]
}
