// The ignore rules of an upload: what every upload leaves out, and a job folder's own
// `.vdkignore` (gitignore syntax) adding to them. The rules are matched by the `ignore` package,
// so only the upload bundles (through scan.ts) import this.
import ignore from 'ignore'
import type { FileProblem } from './errors.js'
import { readJobFile } from './jobdir.js'

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

/** The ignore rules of a job folder: the defaults, then its .vdkignore (or why it is not read). */
export function ignoreRules(jobDir: string): { rules: Ignore; problem?: FileProblem } {
  const rules = ignore().add(DEFAULT_IGNORES)
  const read = readJobFile(jobDir, IGNORE_FILE)
  if ('text' in read) rules.add(read.text)
  return { rules, problem: 'problem' in read ? read.problem : undefined }
}

export type Ignore = ReturnType<typeof ignore>
