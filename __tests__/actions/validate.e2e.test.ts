// validate, end to end: the committed bundle runs as the runner runs it, under Node 24, against
// the local Control Service; every problem is an annotation on its file and line, and the journal
// shows that nothing but GET .../info was ever sent.
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator, type Emulator } from '../../src/emulator/server.js'
import { writeJobFolder } from '../helpers/fixtures.js'
import { runAction, type ActionRun } from '../helpers/runner.js'

let emu: Emulator
let root: string
const TOKEN = 'e2e-access-token-validate'

const GOOD_INI =
  '[owner]\nteam = data team\n\n[job]\nschedule_cron = 0 6 * * 1-5\npython_version = 3.11\n\n[contacts]\nnotified_on_job_failure_user_error = ops@example.com, data@example.org\n'

function makeJob(name: string, files: Record<string, string>, config = GOOD_INI): string {
  return writeJobFolder(root, name, files, config)
}

const conn = (): Record<string, string> => ({
  'control-service-url': emu.url,
  'access-token': TOKEN
})
const validate = (inputs: Record<string, string>, withService = true): Promise<ActionRun> =>
  runAction('validate', { ...(withService ? conn() : {}), ...inputs }, { workspace: root })

/** Nothing but reads: the action must never change anything on the service. */
function expectOnlyInfo(count: number): void {
  expect(emu.journal.filter(j => j.method !== 'GET')).toEqual([])
  expect(emu.journal.map(j => `${j.method} ${j.path}`)).toEqual(
    Array<string>(count).fill('GET /data-jobs/for-team/data%20team/info')
  )
}

const errorLines = (run: ActionRun): string[] =>
  run.stdout.split('\n').filter(l => l.startsWith('::error::'))

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'vdk-validate-'))
  emu = await startEmulator({ tokens: [TOKEN] })
  writeFileSync(join(root, 'plain-file.txt'), 'not a folder')
})
afterAll(async () => {
  await emu.close()
  rmSync(root, { recursive: true, force: true })
})
beforeEach(async () => {
  const res = await fetch(`${emu.url}/_emulator/journal`, {
    method: 'DELETE',
    headers: { Authorization: `Bearer ${TOKEN}` }
  })
  expect(res.status).toBeLessThan(300)
})

test('a valid job passes with a summary, and only GET info is sent', async () => {
  makeJob('valid-job', {
    '10_load.py': 'def run(job_input):\n    pass\n',
    'secrets/.gitkeep': '',
    '__pycache__/x.cpython-311.pyc': 'bytecode',
    'inside.txt': 'x'
  })
  symlinkSync(join(root, 'valid-job', 'inside.txt'), join(root, 'valid-job', 'link.txt'))
  const run = await validate({ 'job-path': 'valid-job' })
  expect(run.code).toBe(0)
  expect(run.outputs).toEqual({ problems: '0', valid: 'true' })
  expect(run.annotations).toEqual([])
  expect(run.summary).toContain('VDK data job valid-job is valid')
  expect(run.summary).toContain('<td>Python version</td><td>3.11 (supported)</td>')
  expect(run.summary).toContain('<td>Schedule</td><td>0 6 * * 1-5</td>')
  expect(run.summary).toContain('<td>Contacts</td><td>2 e-mail address(es)</td>')
  expect(run.summary).toContain('<td>Archive</td><td>5 file(s)')
  expectOnlyInfo(1)
})

test('one problem of each kind: each annotated on its file and line, exit 1, one summary line', async () => {
  const ini = [
    '[owner]', // 1
    'team = data team', // 2
    'this line is not ini', // 3
    '[job]', // 4
    'schedule_cron = 61 * * * *', // 5
    'python_version = 2.7', // 6
    '[contacts]', // 7
    'notified_on_job_success = ops@example.com, not-an-address', // 8
    ''
  ].join('\n')
  const dir = makeJob('Bad_Job', { 'a.py': '', 'secrets/service.keytab': 'KEY' }, ini)
  const elsewhere = mkdtempSync(join(tmpdir(), 'not-the-checkout-'))
  writeFileSync(join(elsewhere, 'outside.txt'), 'secret')
  symlinkSync(join(elsewhere, 'outside.txt'), join(dir, 'link.txt'))

  const run = await validate({ 'job-path': 'Bad_Job' })
  expect(run.code).toBe(1)
  expect(run.outputs).toEqual({ problems: '7', valid: 'false' })
  expect(errorLines(run)).toEqual(['::error::validate: 7 problem(s) in Bad_Job'])
  const found = run.annotations
    .filter(a => a.level === 'error' && a.file)
    .map(a => ({ file: a.file, line: a.line, message: a.message }))
  expect(found).toEqual(
    expect.arrayContaining([
      {
        file: 'Bad_Job/config.ini',
        line: 3,
        message: "column 1: expected 'key = value', '[section]' or a comment"
      },
      {
        file: 'Bad_Job/config.ini',
        line: 5,
        message: expect.stringMatching(/schedule_cron '61 \* \* \* \*'.*minute 61 is out of range/)
      },
      {
        file: 'Bad_Job/config.ini',
        line: 6,
        message: expect.stringContaining('python_version 2.7 is not supported')
      },
      {
        file: 'Bad_Job/config.ini',
        line: 8,
        message: "notified_on_job_success: 'not-an-address' is not an e-mail address"
      },
      {
        file: 'Bad_Job/config.ini',
        line: undefined,
        message: expect.stringContaining("the job folder's name 'Bad_Job' is not a valid job name")
      },
      {
        file: 'Bad_Job/secrets/service.keytab',
        line: undefined,
        message: expect.stringContaining('a keytab file must not be uploaded')
      },
      {
        file: 'Bad_Job/link.txt',
        line: undefined,
        message: expect.stringContaining(
          'a symbolic link that leads outside the repository checkout'
        )
      }
    ])
  )
  expect(found).toHaveLength(7)
  expect(run.summary).toBe('')
  expect(run.log).not.toMatch(/\n\s+at /)
  expectOnlyInfo(1)
})

test.each([
  ['every day', 'expected 5 fields'],
  ['0 6 * *', 'expected 5 fields'],
  ['0 6 * * * *', 'expected 5 fields'],
  ['0 24 * * *', 'hour 24 is out of range'],
  ['0 6 0 * *', 'day of month 0 is out of range'],
  ['0 6 * 13 *', 'month 13 is out of range'],
  ['0 6 * * 8', 'day of week 8 is out of range'],
  ['*/0 * * * *', "minute '*/0' is not valid"],
  ['5-1 * * * *', 'minute range 5-1 goes backwards'],
  ['@daily', 'expected 5 fields']
])('schedule %j is refused on its line (%s)', async (cron, why) => {
  makeJob('cron-job', {}, `[owner]\nteam = data team\n\n[job]\nschedule_cron = ${cron}\n`)
  const run = await validate({ 'job-path': 'cron-job' })
  expect(run.code).toBe(1)
  expect(run.annotations).toContainEqual({
    level: 'error',
    file: 'cron-job/config.ini',
    line: 5,
    message: expect.stringContaining(why) as string
  })
  expect(errorLines(run)).toEqual(['::error::validate: 1 problem(s) in cron-job'])
  // no python_version: nothing to ask the service
  expect(emu.journal).toEqual([])
})

test.each(['*/15 0-6,22 1,15 JAN-MAR mon-fri', '0 0 * * 7', '30 2 */2 * SUN', '0 6 * * *'])(
  'schedule %j is accepted',
  async cron => {
    makeJob('cron-good-job', {}, `[owner]\nteam = data team\n\n[job]\nschedule_cron = ${cron}\n`)
    const run = await validate({ 'job-path': 'cron-good-job' })
    expect(run.annotations).toEqual([])
    expect(run.code).toBe(0)
  }
)

test('without control-service-url: the python check is skipped with a notice, the rest still works', async () => {
  makeJob(
    'offline-job',
    { 'x.keytab': 'KEY' },
    '[owner]\nteam = data team\n\n[job]\nschedule_cron = every day\npython_version = 2.7\n'
  )
  const run = await validate({ 'job-path': 'offline-job' }, false)
  expect(run.code).toBe(1)
  expect(run.annotations.filter(a => a.level === 'notice')).toEqual([
    {
      level: 'notice',
      file: undefined,
      line: undefined,
      message: expect.stringContaining('the python version is not checked') as string
    }
  ])
  expect(run.annotations.filter(a => a.level === 'error' && a.file).map(a => a.file)).toEqual([
    'offline-job/config.ini',
    'offline-job/x.keytab'
  ])
  expect(errorLines(run)).toEqual(['::error::validate: 2 problem(s) in offline-job'])
  expect(emu.journal).toEqual([])

  // and a valid job passes offline
  makeJob('offline-good-job', { 'a.py': '' })
  const good = await validate({ 'job-path': 'offline-good-job' }, false)
  expect(good.code).toBe(0)
  expect(good.outputs).toEqual({ problems: '0', valid: 'true' })
  expect(good.summary).toContain('3.11 (not checked: no control-service-url)')
  expect(emu.journal).toEqual([])
})

test('a job without config.ini is one problem, named on its config.ini', async () => {
  makeJob('no-config-job', { 'a.py': '' }, '')
  const run = await validate({ 'job-path': 'no-config-job' })
  expect(run.code).toBe(1)
  expect(run.annotations).toContainEqual({
    level: 'error',
    file: 'no-config-job/config.ini',
    line: undefined,
    message: expect.stringContaining('a data job folder needs a config.ini') as string
  })
  expect(errorLines(run)).toEqual(['::error::validate: 1 problem(s) in no-config-job'])
  expect(emu.journal).toEqual([])
})

test.each([
  [{}, /^::error::validate: job-path is required/],
  [
    { 'job-path': 'no-such-folder' },
    /^::error::validate: job-path 'no-such-folder' does not exist/
  ],
  [{ 'job-path': 'plain-file.txt' }, /is a file, not the job's folder/]
])('bad job-path %j fails in one line before any request', async (inputs, message) => {
  const run = await validate(inputs)
  expect(run.code).toBe(1)
  const errors = errorLines(run)
  expect(errors).toHaveLength(1)
  expect(errors[0]).toMatch(message)
  expect(run.outputs).toEqual({})
  expect(run.log).not.toMatch(/\n\s+at /)
  expect(emu.journal).toEqual([])
})

test('a service that refuses the token: the step fails saying so, and the job problems are still annotated', async () => {
  makeJob(
    'refused-token-job',
    {},
    '[owner]\nteam = data team\n\n[job]\nschedule_cron = 61 * * * *\npython_version = 3.11\n'
  )
  const run = await validate({ 'job-path': 'refused-token-job', 'access-token': 'wrong-token' })
  expect(run.code).toBe(1)
  expect(run.outputs).toEqual({ problems: '1', valid: 'false' })
  const errors = errorLines(run)
  expect(errors).toHaveLength(1)
  expect(errors[0]).toMatch(
    /^::error::validate: 1 problem\(s\) in refused-token-job; the python version could not be checked: .*HTTP 401/
  )
  expect(run.annotations).toContainEqual(
    expect.objectContaining({ file: 'refused-token-job/config.ini', line: 5 })
  )
  expect(run.log).not.toContain('wrong-token')
  expect(emu.journal.every(j => j.method === 'GET' && j.path.endsWith('/info'))).toBe(true)
})
