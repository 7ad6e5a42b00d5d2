// changed-jobs in process (no build): the job folders a commit changed, in a git repository made
// for the test; it talks to no Control Service.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeJobFolder } from '../helpers/fixtures.js'
import { runInProcess } from '../helpers/inprocess.js'

const INI = '[owner]\nteam = data team\n'
let root: string

const git = (...args: string[]): string =>
  execFileSync('git', args, {
    cwd: root,
    env: {
      ...process.env,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: 'Test',
      GIT_AUTHOR_EMAIL: 'test@example.com',
      GIT_COMMITTER_NAME: 'Test',
      GIT_COMMITTER_EMAIL: 'test@example.com'
    },
    encoding: 'utf8'
  }).trim()

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'inprocess-changed-'))
  git('init', '-q', '-b', 'main')
  writeJobFolder(join(root, 'jobs'), 'kept-job', { 'a.py': '1\n' }, INI)
  writeJobFolder(join(root, 'jobs'), 'edited-job', { 'a.py': '1\n' }, INI)
  writeJobFolder(join(root, 'jobs'), 'removed-job', { 'a.py': '1\n' }, INI)
  git('add', '.')
  git('commit', '-q', '-m', 'base')
  writeFileSync(join(root, 'jobs', 'edited-job', 'a.py'), '2\n')
  git('rm', '-q', '-r', 'jobs/removed-job')
  git('commit', '-q', '-am', 'change')
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

test('names the changed and the deleted job folders between base and head', async () => {
  const r = await runInProcess('changed-jobs', { base: 'HEAD~1' }, { workspace: root })
  expect(r.failure).toBeUndefined()
  expect(r.outputs.count).toBe('1')
  expect(JSON.stringify(r.outputs.jobs)).toContain('edited-job')
  expect(r.outputs.jobs).not.toContain('kept-job')
  expect(r.outputs.deleted).toContain('removed-job')
})

test('a bad input is refused in one line', async () => {
  const r = await runInProcess(
    'changed-jobs',
    { base: 'HEAD~1', 'jobs-root': 'pipelines' },
    { workspace: root }
  )
  expect(r.reason).toBe("jobs-root 'pipelines' does not exist")
  expect(r.outputs).toEqual({})
})
