// upload-sources and deploy, end to end: the committed bundles run as the runner runs them, under
// Node 24, against the local Control Service; what the service stored is checked by download.
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator, type Emulator } from '../../src/emulator/server.js'
import { sourcesOf, writeJobFolder } from '../helpers/fixtures.js'
import { runAction, type ActionRun } from '../helpers/runner.js'

let emu: Emulator
let root: string
const TOKEN = 'e2e-access-token-5f3a9c'

function makeJob(
  name: string,
  files: Record<string, string>,
  config = '[owner]\nteam = data team\n\n[job]\nschedule_cron = 0 6 * * *\n'
): string {
  return writeJobFolder(root, name, files, config)
}

const conn = (): Record<string, string> => ({
  'control-service-url': emu.url,
  'access-token': TOKEN
})
const upload = (inputs: Record<string, string>): Promise<ActionRun> =>
  runAction('upload-sources', { ...conn(), ...inputs }, { workspace: root })
const deploy = (inputs: Record<string, string>): Promise<ActionRun> =>
  runAction('deploy', { ...conn(), 'poll-interval-seconds': '0.2', ...inputs }, { workspace: root })
const admin = async (path: string, body?: unknown, method = 'POST') => {
  const res = await fetch(`${emu.url}/_emulator/${path}`, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  expect(res.status).toBeLessThan(300)
}
const api = async (path: string): Promise<Response> =>
  fetch(`${emu.url}${path}`, { headers: { Authorization: `Bearer ${TOKEN}` } })

const storedFiles = (team: string, job: string): Promise<Record<string, string>> =>
  sourcesOf(emu.url, TOKEN, team, job)

/** A failure that is one line, with exit code 1, and sent nothing. */
function expectRefusedBeforeAnyRequest(run: ActionRun, message: string | RegExp): void {
  expect(run.code).toBe(1)
  const errors = run.stdout.split('\n').filter(l => l.startsWith('::error::'))
  expect(errors).toHaveLength(1)
  expect(errors[0]).toMatch(message)
  expect(run.log).not.toMatch(/\n\s+at /)
  expect(emu.journal).toEqual([])
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'vdk-e2e-'))
  emu = await startEmulator({
    deploymentSeconds: 0.3,
    executionSeconds: 0.5,
    submitSeconds: 0.1,
    tokens: [TOKEN]
  })
})
afterAll(async () => {
  await emu.close()
  rmSync(root, { recursive: true, force: true })
})
beforeEach(async () => {
  await admin('journal', undefined, 'DELETE')
})

describe('upload-sources', () => {
  test('creates a new job from config.ini, uploads, and the service stores exactly the files expected', async () => {
    const dir = makeJob('new-upload-job', {
      '10_load.py': 'def run(job_input):\n    pass\n',
      'lib/util.py': 'x = 1\n',
      'data/keep.csv': 'a,b\n',
      'data/skip.tmp': 'temporary',
      '__pycache__/util.cpython-311.pyc': 'bytecode',
      'lib/old.pyc': 'bytecode',
      '.git/HEAD': 'ref: refs/heads/main',
      '.venv/bin/python': 'binary',
      '.DS_Store': 'litter',
      'notes/draft.md': 'draft',
      'notes/keep-me.md': 'kept',
      '.vdkignore': '# project rules\n*.tmp\nnotes/*\n!notes/keep-me.md\n'
    })
    const run = await upload({ 'job-path': 'new-upload-job' })
    expect(run.code).toBe(0)
    expect(run.outputs).toMatchObject({
      'job-name': 'new-upload-job',
      team: 'data team',
      'file-count': '6'
    })
    expect(run.outputs['job-version']).toMatch(/^[0-9a-f]{40}$/)
    expect(Number(run.outputs['archive-bytes'])).toBeGreaterThan(100)
    expect(run.log).toContain("created data job 'new-upload-job' in team 'data team'")
    expect(run.summary).toContain('<td>new-upload-job</td><td>data team</td>')
    expect(run.summary).toContain('href="https://github.com/acme/data-jobs/actions/runs/4242"')
    expect(Object.keys(await storedFiles('data team', 'new-upload-job')).sort()).toEqual(
      [
        '.vdkignore',
        '10_load.py',
        'config.ini',
        'data/keep.csv',
        'lib/util.py',
        'notes/keep-me.md'
      ].map(f => `new-upload-job/${f}`)
    )
    // the job was created with config.ini's schedule, and the default reason names the run
    const job = (await (
      await api('/data-jobs/for-team/data%20team/jobs/new-upload-job')
    ).json()) as { config: { schedule: { schedule_cron: string } } }
    expect(job.config.schedule.schedule_cron).toBe('0 6 * * *')
    expect(emu.journal.find(j => j.path.endsWith('/sources'))?.query.reason).toBe(
      "workflow 'deploy data jobs', run https://github.com/acme/data-jobs/actions/runs/4242, commit 0123456789ab"
    )
    expect(dir).toBeTruthy()
  })

  test('an unchanged tree gives the same bytes and the same version', async () => {
    makeJob('same-tree-job', { 'a.py': 'a = 1\n', 'b/c.sql': 'select 1;\n' })
    const first = await upload({ 'job-path': 'same-tree-job' })
    const second = await upload({ 'job-path': 'same-tree-job', reason: 'again' })
    expect(second.outputs['job-version']).toBe(first.outputs['job-version'])
    expect(second.outputs['archive-bytes']).toBe(first.outputs['archive-bytes'])
  })

  test('a team name with spaces and non-ASCII file names', async () => {
    makeJob(
      'unicode-files-job',
      { 'données/résumé.sql': 'select 1;\n', '日本語.py': 'x = "ü"\n' },
      '[owner]\nteam = équipe données\n'
    )
    const run = await upload({ 'job-path': 'unicode-files-job' })
    expect(run.code).toBe(0)
    expect(run.outputs.team).toBe('équipe données')
    expect(await storedFiles('équipe données', 'unicode-files-job')).toEqual({
      'unicode-files-job/config.ini': '[owner]\nteam = équipe données\n',
      'unicode-files-job/données/résumé.sql': 'select 1;\n',
      'unicode-files-job/日本語.py': 'x = "ü"\n'
    })
  })

  test('an explicit job-name wins over the folder name; a team equal to config.ini is fine', async () => {
    makeJob('folder_with_bad_name', { 'a.py': '' }, '[owner]\nteam = ini team\n')
    const run = await upload({
      'job-path': 'folder_with_bad_name',
      'job-name': 'explicit-name-job',
      team: 'ini team'
    })
    expect(run.code).toBe(0)
    expect(run.outputs).toMatchObject({ 'job-name': 'explicit-name-job', team: 'ini team' })
  })

  test('a config.ini continuation line under team is refused, not printed as a command nor sent as a team', async () => {
    makeJob(
      'continued-team-job',
      { 'a.py': '' },
      '[owner]\nteam = analytics\n  ::error file=README.md::spoofed\n'
    )
    await admin('journal', undefined, 'DELETE')
    const run = await upload({ 'job-path': 'continued-team-job' })
    expectRefusedBeforeAnyRequest(
      run,
      /^::error::upload-sources: continued-team-job\/config\.ini:2: \[owner\] team must be one line: the line after it is indented/
    )
    // the team's text is not repeated, not even escaped
    expect(run.stdout).not.toContain('spoofed')
    expect(run.stdout.split('\n').filter(l => l.startsWith('::error file=README.md'))).toEqual([])
  })

  test.each(['.', '..'])('a team input %j is refused before any request', async team => {
    await admin('journal', undefined, 'DELETE')
    const run = await runAction(
      'run-and-wait',
      { ...conn(), 'job-name': 'some-data-job', team },
      { workspace: root }
    )
    expectRefusedBeforeAnyRequest(
      run,
      new RegExp(`team '${team.replace(/\./g, '\\.')}' is not a team name$`)
    )
  })

  test.each(['..', '../../etc/passwd', 'x\n::warning::y'])(
    'fetch-logs: an execution-id %j is refused before any request',
    async id => {
      await admin('journal', undefined, 'DELETE')
      const run = await runAction(
        'fetch-logs',
        { ...conn(), 'job-name': 'some-data-job', team: 'data team', 'execution-id': id },
        { workspace: root }
      )
      expectRefusedBeforeAnyRequest(
        run,
        /^::error::fetch-logs: execution-id ".*" is not valid \(an execution id is letters, digits, '\.', '_' and '-', a letter or digit first\)$/
      )
    }
  )

  test.each(['upload-sources', 'deploy'])(
    '%s: a team input that differs from [owner] team in config.ini is refused before any request, as the CLI does',
    async action => {
      makeJob('team-mismatch-job', { 'a.py': '' }, '[owner]\nteam = ini team\n')
      await admin('journal', undefined, 'DELETE')
      const run = await runAction(
        action,
        { ...conn(), 'job-path': 'team-mismatch-job', team: 'input team' },
        { workspace: root }
      )
      expectRefusedBeforeAnyRequest(
        run,
        /^::error::[a-z-]+: team 'input team' \(the team input\) and \[owner\] team 'ini team' in team-mismatch-job\/config\.ini line 2 do not match: leave the team input empty to take config\.ini's, or make them the same$/
      )
    }
  )

  test('without create-if-missing, a missing job fails with what to do', async () => {
    makeJob('not-created-job', { 'a.py': '' })
    const run = await upload({ 'job-path': 'not-created-job', 'create-if-missing': 'false' })
    expect(run.code).toBe(1)
    expect(run.stdout).toContain(
      "::error::upload-sources: data job 'not-created-job' does not exist in team 'data team': create it, or set create-if-missing: true"
    )
  })

  describe('refusals, before any request, naming the path', () => {
    test('a keytab', async () => {
      makeJob('keytab-job', { 'secrets/service.keytab': 'KEY' })
      expectRefusedBeforeAnyRequest(
        await upload({ 'job-path': 'keytab-job' }),
        /keytab-job\/secrets\/service\.keytab: a keytab file must not be uploaded/
      )
    })

    test('a symlink leading outside the repository checkout, and one leading nowhere', async () => {
      const dir = makeJob('symlink-job', { 'a.py': '' })
      const elsewhere = mkdtempSync(join(tmpdir(), 'not-the-checkout-'))
      writeFileSync(join(elsewhere, 'id_ed25519'), 'secret')
      symlinkSync(join(elsewhere, 'id_ed25519'), join(dir, 'link.txt'))
      symlinkSync(join(dir, 'missing.txt'), join(dir, 'dangling.txt'))
      const run = await upload({ 'job-path': 'symlink-job' })
      expectRefusedBeforeAnyRequest(
        run,
        /symlink-job\/dangling\.txt: a symbolic link that leads nowhere; .*symlink-job\/link\.txt: a symbolic link that leads outside the repository checkout \(to .*not-the-checkout-.*id_ed25519\)/
      )
      expect(run.annotations.map(a => a.file)).toEqual([
        'symlink-job/dangling.txt',
        'symlink-job/link.txt'
      ])
    })

    test('a symlink to a file of the checkout outside the job (../common/requirements.txt) is archived with its content', async () => {
      writeJobFolder(root, 'common', { 'requirements.txt': 'pandas==2.2.3\n' }, '')
      const dir = makeJob('shared-reqs-job', { 'a.py': '' })
      symlinkSync('../common/requirements.txt', join(dir, 'requirements.txt'))
      const run = await upload({ 'job-path': 'shared-reqs-job' })
      expect(run.code).toBe(0)
      expect(await storedFiles('data team', 'shared-reqs-job')).toEqual({
        'shared-reqs-job/a.py': '',
        'shared-reqs-job/config.ini':
          '[owner]\nteam = data team\n\n[job]\nschedule_cron = 0 6 * * *\n',
        'shared-reqs-job/requirements.txt': 'pandas==2.2.3\n'
      })
    })

    test("a symlink to the checkout's .git folder or to a keytab is refused as the file itself would be", async () => {
      writeJobFolder(
        root,
        '.git',
        { config: '[http]\n\textraheader = AUTHORIZATION: basic x\n' },
        ''
      )
      writeJobFolder(root, 'keys', { 'svc.keytab': 'KEY' }, '')
      const dir = makeJob('sneaky-link-job', { 'a.py': '' })
      symlinkSync('../.git/config', join(dir, 'settings.cfg'))
      symlinkSync('../keys/svc.keytab', join(dir, 'creds'))
      const run = await upload({ 'job-path': 'sneaky-link-job' })
      expectRefusedBeforeAnyRequest(
        run,
        /sneaky-link-job\/creds: a symbolic link to a keytab file .*; .*sneaky-link-job\/settings\.cfg: a symbolic link into the repository's \.git folder/
      )
    })

    test('a symlink inside the folder is uploaded as the file it points to', async () => {
      const dir = makeJob('inner-link-job', { 'real.py': 'r = 1\n' })
      symlinkSync(join(dir, 'real.py'), join(dir, 'alias.py'))
      expect((await upload({ 'job-path': 'inner-link-job' })).code).toBe(0)
      expect(await storedFiles('data team', 'inner-link-job')).toMatchObject({
        'inner-link-job/alias.py': 'r = 1\n'
      })
    })

    test('a special file (a named pipe)', async () => {
      const dir = makeJob('fifo-job', { 'a.py': '' })
      execFileSync('mkfifo', [join(dir, 'pipe')])
      expectRefusedBeforeAnyRequest(
        await upload({ 'job-path': 'fifo-job' }),
        /fifo-job\/pipe: a special file/
      )
    })

    test('a missing config.ini', async () => {
      makeJob('no-config-job', { 'a.py': '' }, '')
      expectRefusedBeforeAnyRequest(
        await upload({ 'job-path': 'no-config-job' }),
        /no-config-job\/config\.ini: a data job folder needs a config\.ini/
      )
    })

    const root0 = process.getuid?.() === 0
    ;(root0 ? test.skip : test)(
      'an unreadable file (skipped when the tests run as root, who reads everything)',
      async () => {
        const dir = makeJob('unreadable-job', { 'secret.py': 'x' })
        chmodSync(join(dir, 'secret.py'), 0)
        expectRefusedBeforeAnyRequest(
          await upload({ 'job-path': 'unreadable-job' }),
          /unreadable-job\/secret\.py: cannot be read/
        )
      }
    )
  })
})

const posts = (suffix: string) =>
  emu.journal.filter(j => j.method === 'POST' && j.path.endsWith(suffix))
const puts = () => emu.journal.filter(j => j.method === 'PUT')
/** The job's description and config changed on the service behind the repository's back. */
const putJob = async (job: string, description: string, config: object): Promise<void> => {
  const res = await fetch(`${emu.url}/data-jobs/for-team/data%20team/jobs/${job}`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ job_name: job, team: 'data team', description, config })
  })
  expect(res.status).toBe(200)
}
const liveOf = async (team: string, job: string) =>
  (
    (await (
      await api(`/data-jobs/for-team/${encodeURIComponent(team)}/jobs/${job}/deployments`)
    ).json()) as Array<{ job_version: string; python_version: string; last_deployed_date: string }>
  )[0]

describe('deploy', () => {
  test('a brand-new job deploys and reports live; the same sources and config again are unchanged and send nothing', async () => {
    makeJob(
      'deploy-new-job',
      { '10_step.py': 'def run(job_input):\n    pass\n' },
      '[owner]\nteam = deploy team\n\n[job]\nschedule_cron = 5 4 * * *\npython_version = 3.11\n\n[contacts]\nnotified_on_job_deploy = a@example.com; b@example.com\n'
    )
    const run = await deploy({ 'job-path': 'deploy-new-job' })
    expect(run.code).toBe(0)
    expect(run.outputs).toMatchObject({
      'deployment-status': 'live',
      skipped: 'false',
      'deployment-id': 'production'
    })
    expect(run.log).toContain(`version ${run.outputs['job-version']} is live (deployed `)
    expect(run.summary).toContain('<td>deploy-new-job</td><td>deploy team</td>')
    expect(await liveOf('deploy team', 'deploy-new-job')).toMatchObject({
      job_version: run.outputs['job-version'],
      python_version: '3.11'
    })

    await admin('journal', undefined, 'DELETE')
    const again = await deploy({ 'job-path': 'deploy-new-job' })
    expect(again.code).toBe(0)
    expect(again.outputs).toMatchObject({
      skipped: 'true',
      'job-version': run.outputs['job-version'],
      'deployment-status': 'unchanged'
    })
    expect(posts('/deployments')).toEqual([])
    expect(puts()).toEqual([])
  })

  test('the same sources while the job on the service has another schedule_cron: the job is updated and a new deployment sent, which takes the schedule', async () => {
    // config.ini is part of the sources, so a changed config.ini is a new version anyway; the
    // same version with another schedule is a job whose config was changed on the service
    makeJob('reschedule-job', { 'a.py': '' })
    const first = await deploy({ 'job-path': 'reschedule-job' })
    expect(first.outputs['deployment-status']).toBe('live')
    const before = await liveOf('data team', 'reschedule-job')
    const path = '/data-jobs/for-team/data%20team/jobs/reschedule-job'
    await putJob('reschedule-job', 'changed by hand', {
      schedule: { schedule_cron: '30 7 * * 1-5' }
    })
    await admin('journal', undefined, 'DELETE')
    const second = await deploy({ 'job-path': 'reschedule-job' })
    expect(second.code).toBe(0)
    expect(second.outputs).toMatchObject({
      'job-version': first.outputs['job-version'],
      'deployment-status': 'live',
      skipped: 'false'
    })
    expect(puts().map(j => j.path)).toEqual([path])
    expect(posts('/deployments').map(j => j.status)).toEqual([202])
    // the same version, deployed anew: a later deployed date, and config.ini's schedule again
    const after = await liveOf('data team', 'reschedule-job')
    expect(after.job_version).toBe(before.job_version)
    expect(Date.parse(after.last_deployed_date)).toBeGreaterThan(
      Date.parse(before.last_deployed_date)
    )
    expect(emu.state.jobs['reschedule-job'].live?.schedule).toEqual({ schedule_cron: '0 6 * * *' })
  })

  test('config.ini owns schedule, contacts and notifications: what it no longer says is cleared or defaulted; what it cannot say is kept', async () => {
    makeJob('config-owned-job', { 'a.py': '' })
    expect((await upload({ 'job-path': 'config-owned-job' })).code).toBe(0)
    const path = '/data-jobs/for-team/data%20team/jobs/config-owned-job'
    await putJob('config-owned-job', 'kept', {
      db_default_type: 'trino',
      generate_keytab: false,
      schedule: { schedule_cron: '1 1 1 1 1' },
      contacts: { notified_on_job_success: ['old@example.com'] },
      enable_execution_notifications: false,
      notification_delay_period_minutes: 5
    })
    // no schedule_cron any more; one contact list; the delay set, enable_execution_notifications not
    makeJob(
      'config-owned-job',
      {},
      '[owner]\nteam = data team\n\n[contacts]\nnotified_on_job_failure_user_error = oncall@example.com\nnotification_delay_period_minutes = 15\n'
    )
    const run = await deploy({ 'job-path': 'config-owned-job' })
    expect(run.code).toBe(0)
    expect(run.annotations).toContainEqual(
      expect.objectContaining({
        level: 'warning',
        message:
          'config-owned-job/config.ini has no [job] schedule_cron: no schedule, so the job will never run on its own, only when an execution is started'
      })
    )
    const job = (await (await api(path)).json()) as { description: string; config: object }
    expect(job.description).toBe('kept')
    expect(job).toMatchObject({
      config: {
        db_default_type: 'trino',
        generate_keytab: false,
        schedule: { schedule_cron: '' },
        contacts: {
          notified_on_job_failure_user_error: ['oncall@example.com'],
          notified_on_job_failure_platform_error: [],
          notified_on_job_success: [],
          notified_on_job_deploy: []
        },
        enable_execution_notifications: true,
        notification_delay_period_minutes: 15
      }
    })
    expect(Object.keys(job.config).sort()).toEqual([
      'contacts',
      'db_default_type',
      'enable_execution_notifications',
      'generate_keytab',
      'notification_delay_period_minutes',
      'schedule'
    ])
  })

  test('disabling a deployed version is a PATCH, not a new deployment', async () => {
    makeJob('toggle-job', { 'a.py': '' })
    expect((await deploy({ 'job-path': 'toggle-job' })).code).toBe(0)
    await admin('journal', undefined, 'DELETE')
    const off = await deploy({ 'job-path': 'toggle-job', enabled: 'false' })
    expect(off.code).toBe(0)
    expect(off.outputs['deployment-status']).toBe('live')
    expect(off.log).toContain('disabled the deployment')
    expect(emu.journal.filter(j => j.method === 'PATCH')).toHaveLength(1)
    expect(posts('/deployments')).toEqual([])
    const d = (await (
      await api('/data-jobs/for-team/data%20team/jobs/toggle-job/deployments/production')
    ).json()) as { enabled: boolean }
    expect(d.enabled).toBe(false)
  })

  test('job-version deploys a version uploaded before (a rollback)', async () => {
    makeJob('rollback-job', { 'a.py': 'v = 1\n' })
    const v1 = (await upload({ 'job-path': 'rollback-job' })).outputs['job-version']
    makeJob('rollback-job', { 'a.py': 'v = 2\n' })
    const v2 = await deploy({ 'job-path': 'rollback-job' })
    expect(v2.outputs['job-version']).not.toBe(v1)
    const back = await deploy({ 'job-version': v1, 'job-name': 'rollback-job', team: 'data team' })
    expect(back.code).toBe(0)
    expect(back.outputs).toMatchObject({ 'job-version': v1, 'deployment-status': 'live' })
  })

  test('a build that fails is seen only as not live in time: the old version still runs, the message says so and where the outcome went, the e-mail is recorded', async () => {
    const config =
      '[owner]\nteam = data team\n\n[job]\nschedule_cron = 0 6 * * *\n\n[contacts]\nnotified_on_job_deploy = owner@example.com\n'
    makeJob('failing-build-job', { 'a.py': 'v = 1\n' }, config)
    const v1 = (await deploy({ 'job-path': 'failing-build-job' })).outputs['job-version']
    const before = await liveOf('data team', 'failing-build-job')
    await admin('notifications', undefined, 'DELETE')
    await admin(`jobs/${encodeURIComponent('data team')}/failing-build-job/next-deployment`, {
      status: 'USER_ERROR',
      seconds: 0.3
    })
    makeJob(
      'failing-build-job',
      { 'a.py': 'v = 2\n', 'requirements.txt': 'no-such-package\n' },
      config
    )
    const run = await deploy({ 'job-path': 'failing-build-job', 'timeout-seconds': '1.5' })
    expect(run.code).toBe(1)
    const v2 = run.outputs['job-version']
    expect(v2).not.toBe(v1)
    // outputs for an if: failure() step
    expect(run.outputs).toMatchObject({ 'deployment-status': 'not-live', skipped: 'false' })
    const errorLines = run.stdout.split('\n').filter(l => l.startsWith('::error'))
    expect(errorLines).toEqual([
      `::error::deploy: version ${v2} of 'failing-build-job' was not live after timeout-seconds 1.5: version ${v1} (deployed ${before.last_deployed_date}) still runs. The Control Service tells no client whether a build failed: if it failed, that deployment goes on running, the service e-mailed the outcome to owner@example.com (notified_on_job_deploy), and its operators see it in the service's metrics; if the build is only slow, it may still go live (raise timeout-seconds)`
    ])
    expect(await liveOf('data team', 'failing-build-job')).toEqual(before)
    const sent = (await (await api('/_emulator/notifications')).json()) as unknown[]
    expect(sent).toEqual([
      expect.objectContaining({
        job_name: 'failing-build-job',
        job_version: v2,
        outcome: 'USER_ERROR',
        recipients: ['owner@example.com'],
        live_version: v1
      })
    ])
  })

  test('a first deployment that never completes: not live, nothing runs, and the job has no deploy contacts', async () => {
    makeJob('stuck-deploy-job', { 'a.py': '' })
    await admin(`jobs/${encodeURIComponent('data team')}/stuck-deploy-job/next-deployment`, {
      status: 'SUCCESS',
      seconds: 600
    })
    // it would take 600 s: only the action's own limit can end the wait
    const run = await deploy({ 'job-path': 'stuck-deploy-job', 'timeout-seconds': '1.5' })
    expect(run.code).toBe(1)
    expect(run.outputs['deployment-status']).toBe('not-live')
    expect(run.stdout).toMatch(
      /::error::deploy: version [0-9a-f]{40} of 'stuck-deploy-job' was not live after timeout-seconds 1\.5: no version of it runs\. .* the service e-mails the outcome to the notified_on_job_deploy contacts, and the job has none: add \[contacts\] notified_on_job_deploy to config\.ini,/
    )
  })

  test('an unsupported python version in config.ini fails with an annotation on its line', async () => {
    makeJob(
      'old-python-job',
      { 'a.py': '' },
      '[owner]\nteam = data team\n\n[job]\npython_version = 3.7\n'
    )
    const run = await deploy({ 'job-path': 'old-python-job' })
    expect(run.code).toBe(1)
    expect(run.annotations.filter(a => a.file)).toEqual([
      expect.objectContaining({
        level: 'error',
        file: 'old-python-job/config.ini',
        line: 5,
        message: expect.stringContaining(
          'python version 3.7 (from old-python-job/config.ini line 5) is not supported'
        )
      })
    ])
    expect(emu.journal.filter(j => j.method !== 'GET')).toEqual([])
    // outputs for an if: failure() step, as far as known (nothing was uploaded)
    expect(run.outputs).toEqual({
      'job-version': '',
      'deployment-id': 'production',
      'deployment-status': 'not-live',
      // no GitHub deployment is recorded without a github-token (issue 17)
      'github-deployment-id': '',
      skipped: 'false',
      // nothing was live before (issue 18: what a workflow's own rollback deploys again)
      'previous-version': '',
      'previous-python-version': '',
      'previous-vdk-version': '',
      'previous-enabled': ''
    })
  })

  test('a failure after the upload (the deployment refused) still sets the outputs', async () => {
    makeJob('refused-deploy-job', { 'a.py': '' })
    await admin('faults', { method: 'POST', path: '/refused-deploy-job/deployments$', status: 400 })
    const run = await deploy({ 'job-path': 'refused-deploy-job' })
    expect(run.code).toBe(1)
    expect(run.stdout.split('\n').filter(l => l.startsWith('::error'))).toEqual([
      expect.stringMatching(
        /^::error::deploy: deploy version [0-9a-f]{40} of data job 'refused-deploy-job' of team 'data team' failed \(HTTP 400\)/
      )
    ])
    expect(run.outputs).toEqual({
      'job-version': expect.stringMatching(/^[0-9a-f]{40}$/),
      'deployment-id': 'production',
      'deployment-status': 'not-live',
      // no GitHub deployment is recorded without a github-token (issue 17)
      'github-deployment-id': '',
      skipped: 'false',
      // nothing was live before (issue 18: what a workflow's own rollback deploys again)
      'previous-version': '',
      'previous-python-version': '',
      'previous-vdk-version': '',
      'previous-enabled': ''
    })
  })

  test('without wait it returns once the deployment is started', async () => {
    makeJob('no-wait-job', { 'a.py': '' })
    const run = await deploy({ 'job-path': 'no-wait-job', wait: 'false' })
    expect(run.code).toBe(0)
    expect(run.outputs['deployment-status']).toBe('started')
    expect(run.summary).toContain('started (not waited for)')
  })

  test('a lost answer to the create of the job: found in its team, so it was created, and the deploy goes on', async () => {
    makeJob('lost-create-deploy-job', { 'a.py': '' })
    await admin('faults', { method: 'POST', path: '/jobs$', reset: true, when: 'after' })
    const run = await deploy({ 'job-path': 'lost-create-deploy-job' })
    expect(run.code).toBe(0)
    expect(run.log).toContain("created data job 'lost-create-deploy-job' in team 'data team'")
    expect(run.outputs['deployment-status']).toBe('live')
  })

  test('an upload refused for want of a Content-Length (411) is sent again from a file with one', async () => {
    makeJob('length-job', { 'a.py': 'x = 1\n', 'data/rows.csv': 'a,b\n1,2\n' })
    // a proxy that refuses chunked bodies, whatever the request
    await admin('faults', {
      method: 'POST',
      path: '/sources$',
      status: 411,
      times: 0,
      unlessContentLength: true
    })
    const temp = mkdtempSync(join(tmpdir(), 'runner-temp-'))
    try {
      const run = await runAction(
        'upload-sources',
        { ...conn(), 'job-path': 'length-job' },
        { workspace: root, env: { RUNNER_TEMP: temp } }
      )
      expect(run.code).toBe(0)
      // the spooled archive is gone afterwards
      expect(readdirSync(temp)).toEqual([])
      expect(run.log).toMatch(
        /refused the streamed upload \(HTTP 411: it wants a Content-Length\): uploading the archive again from a file of \d+ bytes in RUNNER_TEMP/
      )
      expect(posts('/length-job/sources').map(j => j.status)).toEqual([411, 200])
      expect(await storedFiles('data team', 'length-job')).toEqual({
        'length-job/a.py': 'x = 1\n',
        'length-job/config.ini': '[owner]\nteam = data team\n\n[job]\nschedule_cron = 0 6 * * *\n',
        'length-job/data/rows.csv': 'a,b\n1,2\n'
      })
    } finally {
      await admin('faults', undefined, 'DELETE')
    }
  })

  test('a 413 that is about the size, not the length, is not sent again', async () => {
    makeJob('too-big-job', { 'a.py': '' })
    await admin('faults', {
      method: 'POST',
      path: '/too-big-job/sources$',
      status: 413,
      body: '<html><body>413 Request Entity Too Large</body></html>',
      contentType: 'text/html'
    })
    const run = await upload({ 'job-path': 'too-big-job' })
    expect(run.code).toBe(1)
    expect(run.log).not.toContain('Content-Length')
    expect(posts('/too-big-job/sources').map(j => j.status)).toEqual([413])
  })
})

describe('bad input is rejected with one line before any request', () => {
  beforeAll(() => {
    makeJob('valid-input-job', { 'a.py': '' })
    makeJob(
      'malformed-ini-job',
      { 'a.py': '' },
      '[owner]\nteam = data team\nthis line is not ini\n[contacts]\nenable_execution_notifications = perhaps\n'
    )
  })

  // the rows of bad single inputs are in the table of helpers/bad-inputs.ts

  test('a malformed config.ini: each problem an annotation on its file and line', async () => {
    const run = await upload({ 'job-path': 'malformed-ini-job' })
    expectRefusedBeforeAnyRequest(
      run,
      /::error::upload-sources: malformed-ini-job\/config\.ini:3: column 1: expected 'key = value', '\[section\]' or a comment; .*config\.ini:5: enable_execution_notifications must be true or false/
    )
    expect(run.stdout).not.toMatch(/this line is not ini|perhaps/)
    expect(run.annotations.filter(a => a.file)).toEqual([
      expect.objectContaining({ level: 'error', file: 'malformed-ini-job/config.ini', line: 3 }),
      expect.objectContaining({ level: 'error', file: 'malformed-ini-job/config.ini', line: 5 })
    ])
  })

  test('the access token appears in no log line, output or summary', async () => {
    const runs = [
      await upload({ 'job-path': 'valid-input-job' }),
      await deploy({ 'job-path': 'valid-input-job' })
    ]
    for (const run of runs) {
      expect(run.code).toBe(0)
      // the ::add-mask:: command is how the runner learns the secret; it never shows it
      const shown = run.stdout
        .split('\n')
        .filter(l => !l.startsWith('::add-mask::'))
        .join('\n')
      const everything = shown + JSON.stringify(run.outputs) + run.summary
      expect(everything).not.toContain(TOKEN)
      expect(run.stdout).toContain(`::add-mask::${TOKEN}`)
    }
  })
})
