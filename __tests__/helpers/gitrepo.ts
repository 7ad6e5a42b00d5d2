// Real git repositories for the tests: git run with a fixed author and committer and no machine
// or user config (so the machine's settings change nothing), and commits made from a table of files.
import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

export const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.com',
  GIT_COMMITTER_NAME: 'Test Committer',
  GIT_COMMITTER_EMAIL: 'committer@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null'
}

/** Runs git in `cwd`; its output, trimmed. */
export const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', args, {
    cwd,
    env: { ...process.env, ...GIT_ENV },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe']
  }).trim()

/** Writes (or, for null, removes) files in `repo`, commits them all, and returns the commit. */
export function commitFiles(
  repo: string,
  files: Record<string, string | null>,
  message: string
): string {
  for (const [path, text] of Object.entries(files)) {
    const abs = join(repo, path)
    if (text === null) rmSync(abs, { recursive: true, force: true })
    else {
      mkdirSync(dirname(abs), { recursive: true })
      writeFileSync(abs, text)
    }
  }
  git(repo, 'add', '-A')
  git(repo, 'commit', '-q', '-m', message)
  return git(repo, 'rev-parse', 'HEAD')
}
