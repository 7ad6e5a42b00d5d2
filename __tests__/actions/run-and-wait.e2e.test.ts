// run-and-wait, end to end: the committed bundle runs as the runner runs it (main and post phases),
// under Node 24, against the local Control Service in this process; what the service saw is read
// from its journal and its state. The service's clock is frozen: an execution stays submitted
// until the test moves the clock on (LocalService.drive and act), so what the action sees — each
// status, each batch of log lines — is what the test chose, whatever the machine's speed.
import type { ChildProcess } from 'node:child_process'

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator, type Emulator } from '../../src/emulator/server.js'
import { LocalService } from '../helpers/local-service.js'
import { runAction, type ActionRun, type RunOptions, parseGroups } from '../helpers/runner.js'

const TOKEN = 'e2e-run-token-3b8e1f0a'
const TEAM = 'run team'
const RUN_URL = 'acme/data-jobs/actions/runs/4242'
const enc = encodeURIComponent

let emu: Emulator
let root: string

let svc: LocalService

const conn = (service: LocalService = svc): Record<string, string> => ({
  'control-service-url': service.emu.url,
  'access-token': TOKEN
})

/** Shown anywhere a person or a later step could read it: the token must not be. */
function expectNoToken(run: ActionRun): void {
  const shown = run.stdout
    .split('\n')
    .filter(l => !l.startsWith('::add-mask::'))
    .join('\n')
  expect(
    shown + JSON.stringify(run.outputs) + JSON.stringify(run.state) + run.summary
  ).not.toContain(TOKEN)
}

/** Runs the action against `service` (default the shared one) with short timings. */
async function run(
  inputs: Record<string, string>,
  o: RunOptions = {},
  service: LocalService = svc
): Promise<ActionRun> {
  const result = await runAction(
    'run-and-wait',
    { ...conn(service), team: TEAM, 'poll-interval-seconds': '0.2', ...inputs },
    { workspace: root, timeoutMs: 20_000, ...o }
  )
  expectNoToken(result)
  return result
}

/** The post phase, as the runner runs it after the main step, with the main step's state. */
const post = (job: string, state: Record<string, string>, service: LocalService = svc) =>
  run({ 'job-name': job }, { phase: 'post', state: { isPost: 'true', ...state } }, service)

/** The `::error::` lines (the reason of a failed step). */
const errors = (r: ActionRun): string[] => r.stdout.split('\n').filter(l => l.startsWith('::error'))

const grouped = parseGroups

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'vdk-run-e2e-'))
  emu = await startEmulator({
    submitSeconds: 0.1,
    executionSeconds: 0.5,
    deploymentSeconds: 0.2,
    tokens: [TOKEN],
    frozenClock: true,
    // these tests are about how today's client follows and prints lines: bare lines, and logs gone
    // at the end as the logs_url fallback tests need (the service's faithful defaults, kubelet
    // times and an hour of retention, are __tests__/emulator/logs.test.ts's)
    logTimestamps: false,
    logsRetentionSeconds: 0
  })
  svc = new LocalService(emu, TEAM, TOKEN)
})
afterAll(async () => {
  await emu.close()
  rmSync(root, { recursive: true, force: true })
})
beforeEach(async () => {
  await svc.admin('faults', undefined, 'DELETE')
  await svc.admin('journal', undefined, 'DELETE')
})

describe('run-and-wait', () => {
  test('success: outputs, summary row, status lines, started_by naming the workflow run, arguments', async () => {
    const job = 'run-success-job'
    await svc.deploy(job)
    // the job folder gives the name (its folder's) and the team ([owner] team); nothing is uploaded
    mkdirSync(join(root, job))
    writeFileSync(join(root, job, 'config.ini'), `[owner]\nteam = ${TEAM}\n`)
    await svc.admin('journal', undefined, 'DELETE')
    const { run: r } = await svc.drive(job, () =>
      run({ 'job-path': job, team: '', arguments: '{"day": "2026-11-23", "n": 3}' })
    )
    expect(r.code).toBe(0)
    expect(errors(r)).toEqual([])
    const id = r.outputs['execution-id']
    expect(id).toMatch(/^run-success-job-\d+$/)
    const e = await svc.read(job, id)
    expect(r.outputs).toEqual({
      'execution-id': id,
      status: 'succeeded',
      'logs-url': `${emu.url}/_emulator/logs/${enc(TEAM)}/${job}/${id}`,
      'started-at': e.start_time,
      'ended-at': e.end_time,
      'duration-seconds': String(
        Math.round((Date.parse(e.end_time as string) - Date.parse(e.start_time)) / 100) / 10
      )
    })
    // submitted 0.1 s, then running 0.5 s, on the service's clock
    expect(r.outputs['duration-seconds']).toBe('0.6')
    expect(r.log).toContain(`started execution ${id} of '${job}' (team '${TEAM}')`)
    // one line per status, each once, in order
    expect(r.log.match(/^status: .*$/gm)).toEqual([
      'status: submitted — Job execution submitted.',
      'status: running — Job execution is running.',
      'status: succeeded — Job execution succeeded.'
    ])
    expect(r.summary).toContain(
      `<tr><td>${job}</td><td>${id}</td><td>succeeded</td><td>${e.start_time}</td><td>${e.end_time}</td><td>${r.outputs['duration-seconds']} s</td>`
    )
    expect(r.summary).toContain(`<a href="${r.outputs['logs-url']}">logs</a>`)
    expect(r.summary).toContain(`href="https://github.com/${RUN_URL}"`)
    // who started it, as the service recorded it: the workflow run
    expect(e.started_by).toContain(RUN_URL)
    expect(svc.executions(job)[0].args).toEqual({ day: '2026-11-23', n: 3 })
    // exactly one execution was started; the state tells the post step that nothing is left
    expect(svc.requests('POST', `${svc.jobPath(job)}/deployments/production/executions`)).toEqual([
      expect.objectContaining({ status: 202 })
    ])
    expect(r.state).toMatchObject({ isPost: 'true', 'execution-id': id, settled: 'ended' })
  })

  test('a status message from the service that holds a line break and a command stays text', async () => {
    const job = 'run-hostile-message-job'
    await svc.deploy(job)
    const driven = svc.act(job, () => run({ 'job-name': job }))
    expect(await driven.started()).toBe(true)
    // the next look at the execution gets a message that would switch off every later command
    const path = svc.execPath(job, driven.id)
    await svc.fault({
      method: 'GET',
      path: `${path}$`,
      status: 200,
      contentType: 'application/json',
      body: JSON.stringify({
        id: driven.id,
        status: 'running',
        message: 'ok\n::stop-commands::pwned\n::warning::spoofed'
      })
    })
    expect(await driven.to('running')).toBe(true)
    const r = await driven.end()
    expect(r.code).toBe(0)
    const lines = r.stdout.split('\n')
    expect(lines.filter(l => /^\s*::(stop-commands::pwned|warning::spoofed)/.test(l))).toEqual([])
    expect(lines).toContain('status: running — ok\\n::stop-commands::pwned\\n::warning::spoofed')
    expect(r.annotations).toEqual([])
  })

  test("a repository named scheduled-jobs still starts a manual execution: started_by holds no 'scheduled'", async () => {
    const job = 'run-repo-name-job'
    await svc.deploy(job)
    const { run: r, id } = await svc.drive(job, () =>
      run({ 'job-name': job }, { env: { GITHUB_REPOSITORY: 'acme/scheduled-jobs' } })
    )
    expect(r.code).toBe(0)
    const e = await svc.read(job, id)
    // the real service takes any started_by holding "scheduled" (case-sensitive) for a schedule's
    expect(e.started_by).not.toContain('scheduled')
    expect(e.started_by).toBe(
      'manual/vdk-actions/acme/Scheduled-jobs/actions/runs/4242/emulator-user'
    )
    expect(e).toMatchObject({ type: 'manual' })
  })

  describe('a failing status exits 1 with its reason and the last log lines', () => {
    test.each([
      ['user_error', 'Job execution failed because of an error in the data job (user error).'],
      ['platform_error', 'Job execution failed because of a platform error.']
    ])('%s', async (status, message) => {
      const job = `run-${status.replace('_', '-')}-job`
      await svc.deploy(job)
      const logs = ['step one', 'step two', 'step three', 'step four', `the job failed (${status})`]
      await svc.script(job, { status, seconds: 0.3, logs: ['setting up', ...logs] })
      const { run: r } = await svc.drive(job, () => run({ 'job-name': job }))
      expect(r.code).toBe(1)
      expect(r.outputs.status).toBe(status)
      const id = r.outputs['execution-id']
      // the reason: the status, the service's message and the last 5 log lines
      expect(errors(r)).toEqual([
        `::error::run-and-wait: execution ${id} of '${job}' ended ${status}: ${message} — last log lines: ${logs.join(' | ')}`
      ])
      expect(r.summary).toContain(`<td>${id}</td><td>${status}</td>`)
    })

    test('very long log lines: the reason (an annotation) stays under 4 KB, the whole lines are in the log', async () => {
      const job = 'run-long-lines-job'
      await svc.deploy(job)
      // a traceback of two long lines made a 3 MB annotation; GitHub keeps 4,096 characters
      const logs = [
        'setting up',
        `Traceback ${'a'.repeat(200_000)}`,
        `Error: ${'b'.repeat(200_000)}`
      ]
      await svc.script(job, { status: 'user_error', seconds: 0.3, logs })
      const { run: r } = await svc.drive(job, () => run({ 'job-name': job }))
      expect(r.code).toBe(1)
      const id = r.outputs['execution-id']
      expect(errors(r)).toEqual([
        `::error::run-and-wait: execution ${id} of '${job}' ended user_error: Job execution failed because of an error in the data job (user error). — last log lines: setting up | Traceback ${'a'.repeat(290)}… | Error: ${'b'.repeat(293)}… (lines cut at 300 characters: the whole lines are in the log above)`
      ])
      expect(errors(r)[0].length).toBeLessThan(4096)
      expect(grouped(r.stdout).lines).toEqual(logs)
    })

    test('a platform_error that becomes succeeded is reported as succeeded (it is read again once)', async () => {
      const job = 'run-becomes-job'
      await svc.deploy(job)
      // once the action has read the platform_error, the service overwrites it (as its watcher
      // can): the second read of the ended execution says succeeded
      await svc.script(job, {
        status: 'platform_error',
        seconds: 0.3,
        becomes: 'succeeded',
        becomesAfterReads: 1
      })
      const driven = svc.act(job, () => run({ 'job-name': job, 'poll-interval-seconds': '1' }))
      expect(await driven.started()).toBe(true)
      expect(await driven.to('running')).toBe(true)
      // the requests from here on see it ended
      const mark = svc.mark()
      const r = await driven.end()
      expect(r.code).toBe(0)
      expect(r.outputs.status).toBe('succeeded')
      expect(r.log).toMatch(/status: platform_error[^\n]*\n(.*\n)*.*status: succeeded/)
      expect(errors(r)).toEqual([])
      // it looked once more after the platform_error, not again and again
      expect(
        svc.requests('GET', svc.execPath(job, driven.id)).filter(j => j.seq > mark)
      ).toHaveLength(2)
    })

    test('cancelled (through the API while the action waits)', async () => {
      const job = 'run-cancelled-job'
      await svc.deploy(job)
      await svc.script(job, { seconds: 60, logs: ['working', 'still working'] })
      const driven = svc.act(job, () => run({ 'job-name': job }))
      expect(await driven.started()).toBe(true)
      expect(await driven.to('running')).toBe(true)
      const id = driven.id
      expect(await svc.cancel(job, id)).toBe(200)
      const r = await driven.result
      expect(r.code).toBe(1)
      expect(r.outputs.status).toBe('cancelled')
      expect(errors(r)).toEqual([
        expect.stringMatching(
          new RegExp(
            `^::error::run-and-wait: execution ${id} of '${job}' ended cancelled: Job execution cancelled by user\\.`
          )
        )
      ])
      // the action did not cancel it again
      expect(svc.requests('DELETE', svc.execPath(job, id))).toHaveLength(1)
    })

    test('skipped passes with a warning by default, and fails with fail-on-skipped: true', async () => {
      const job = 'run-skipped-job'
      await svc.deploy(job)
      await svc.script(job, { status: 'skipped', seconds: 0.2 })
      const { run: passed } = await svc.drive(job, () => run({ 'job-name': job }))
      expect(passed.code).toBe(0)
      expect(passed.outputs.status).toBe('skipped')
      expect(errors(passed)).toEqual([])
      expect(passed.annotations).toEqual([
        expect.objectContaining({
          level: 'warning',
          message: expect.stringMatching(
            new RegExp(`^execution ${passed.outputs['execution-id']} was skipped by the service: `)
          )
        })
      ])

      await svc.script(job, { status: 'skipped', seconds: 0.2 })
      const { run: failed } = await svc.drive(job, () =>
        run({ 'job-name': job, 'fail-on-skipped': 'true' })
      )

      expect(failed.code).toBe(1)
      expect(failed.outputs.status).toBe('skipped')
      expect(errors(failed)).toEqual([
        expect.stringMatching(
          new RegExp(
            `^::error::run-and-wait: execution ${failed.outputs['execution-id']} of '${job}' ended skipped: `
          )
        )
      ])
    })
  })

  describe('timeouts', () => {
    test('the timeout cancels the execution remotely and names the limit and the last status', async () => {
      const job = 'run-timeout-job'
      await svc.deploy(job)
      // running from the start, and on the frozen clock it never ends: only the limit stops it
      await svc.script(job, { seconds: 60, submitSeconds: 0 })
      const r = await run({ 'job-name': job, 'timeout-seconds': '1.2' })
      expect(r.code).toBe(1)
      const id = svc.executions(job)[0].id
      // the step failed, yet a later step (if: failure()) gets the execution and its status
      expect(r.outputs).toMatchObject({ 'execution-id': id, status: 'cancelled', 'ended-at': '' })
      expect(errors(r)).toEqual([
        `::error::run-and-wait: execution ${id} did not end within timeout-seconds 1.2 (last status running); it was cancelled on the Control Service`
      ])
      expect(svc.requests('DELETE', svc.execPath(job, id))).toEqual([
        expect.objectContaining({ status: 200 })
      ])
      expect((await svc.read(job, id)).status).toBe('cancelled')
      expect(r.state.settled).toBe('cancelled')
    })

    test('with cancel-on-timeout: false it is left running (no DELETE)', async () => {
      const job = 'run-timeout-keep-job'
      await svc.deploy(job)
      await svc.script(job, { seconds: 60, submitSeconds: 0 })
      const r = await run({ 'job-name': job, 'timeout-seconds': '1', 'cancel-on-timeout': 'false' })
      expect(r.code).toBe(1)
      const id = svc.executions(job)[0].id
      expect(r.outputs).toMatchObject({ 'execution-id': id, status: 'running' })
      expect(errors(r)).toEqual([
        `::error::run-and-wait: execution ${id} did not end within timeout-seconds 1 (last status running); it goes on, as cancel-on-timeout is false`
      ])
      expect(emu.journal.filter(j => j.method === 'DELETE')).toEqual([])
      expect((await svc.read(job, id)).status).toBe('running')
      expect(r.state.settled).toBe('left running')
      await svc.cancel(job, id)
    })
  })

  describe('the workflow is cancelled: the runner signals the step', () => {
    test.each(['SIGINT', 'SIGTERM'] as const)(
      '%s during the pause between two looks cancels the execution at once, then the step fails',
      async signal => {
        const job = `run-${signal.toLowerCase()}-job`
        await svc.deploy(job)
        await svc.script(job, { seconds: 60 })
        // a pause of 120 s between looks (and up to 120 s before the first, which is spread
        // over one interval): only a signal that cuts it short lets the step end before the
        // runner's kill (the test's own, after 20 s, leaves no exit code)
        let step: ChildProcess | undefined
        const driven = svc.act(job, () =>
          run({ 'job-name': job, 'poll-interval-seconds': '120' }, { onSpawn: c => (step = c) })
        )
        expect(await driven.begun()).toBe(true)
        const id = driven.id
        step?.kill(signal)
        const r = await driven.result
        expect(r.code).not.toBe(0)
        expect(r.code).not.toBeNull()
        const deletes = svc.requests('DELETE', svc.execPath(job, id))
        expect(deletes).toEqual([expect.objectContaining({ status: 200 })])
        expect(r.annotations).toContainEqual(
          expect.objectContaining({
            level: 'warning',
            message: `run-and-wait: received ${signal}, stopping`
          })
        )
        expect(errors(r)).toEqual([
          `::error::run-and-wait: the workflow was cancelled while execution ${id} ran: it was cancelled on the Control Service`
        ])
        expect((await svc.read(job, id)).status).toBe('cancelled')
        expect(r.outputs).toMatchObject({ 'execution-id': id, status: 'cancelled' })
        // the post step has nothing left to do
        expect(r.state.settled).toBe('cancelled')
      }
    )
  })

  describe('the post step', () => {
    test('cancels an execution the main step left running (an orphan)', async () => {
      const job = 'run-orphan-job'
      await svc.deploy(job)
      await svc.script(job, { seconds: 60 })
      const id = await svc.start(job)
      await svc.admin('journal', undefined, 'DELETE')
      svc.toRunning(job, id)
      const r = await post(job, { 'execution-id': id, team: TEAM, job })
      expect(r.code).toBe(0)
      expect(svc.requests('DELETE', svc.execPath(job, id))).toEqual([
        expect.objectContaining({ status: 200 })
      ])
      expect(r.annotations).toEqual([
        expect.objectContaining({
          level: 'warning',
          message: `execution ${id} was still running after the step ended: cancelled it on the Control Service`
        })
      ])
      expect((await svc.read(job, id)).status).toBe('cancelled')
    })

    test.each(['ended', 'left running', 'cancelled'])(
      'sends no DELETE when the main step settled it (%s)',
      async settled => {
        const job = `run-settled-${settled.replace(' ', '-')}-job`
        await svc.deploy(job)
        await svc.script(job, { seconds: 60 })
        const id = await svc.start(job)
        await svc.admin('journal', undefined, 'DELETE')
        const r = await post(job, { 'execution-id': id, team: TEAM, job, settled })
        expect(r.code).toBe(0)
        expect(emu.journal).toEqual([])
        expect(svc.status(svc.executions(job)[0])).toBe('submitted')
        await svc.cancel(job, id)
      }
    )
  })

  describe('on-conflict, when an execution of the job is already running', () => {
    const executions = (job: string) => `${svc.jobPath(job)}/deployments/production/executions`

    test.each([
      ['running', 'is already running'],
      ['submitted', 'was already submitted (it is about to run)']
    ])('fail: exit 1 naming the %s execution and what to do', async (phase, wording) => {
      const job = `conflict-fail-${phase}-job`
      await svc.deploy(job)
      await svc.script(job, { seconds: 60 })
      const first = await svc.start(job)
      if (phase === 'running') svc.toRunning(job, first)
      await svc.admin('journal', undefined, 'DELETE')
      const r = await run({ 'job-name': job })
      expect(r.code).toBe(1)
      expect(errors(r)).toEqual([
        `::error::run-and-wait: execution ${first} of '${job}' ${wording}; set on-conflict: wait (start after it) or cancel (stop it first)`
      ])
      expect(svc.requests('POST', executions(job))).toEqual([
        expect.objectContaining({ status: 409 })
      ])
      expect(emu.journal.filter(j => j.method === 'DELETE')).toEqual([])
      expect(svc.executions(job)).toHaveLength(1)
      await svc.cancel(job, first)
    })

    test('wait: waits for the running one to end, then starts', async () => {
      const job = 'conflict-wait-job'
      await svc.deploy(job)
      await svc.script(job, { seconds: 1.5 })
      const first = await svc.start(job)
      svc.toRunning(job, first)
      await svc.admin('journal', undefined, 'DELETE')
      const mark = svc.mark()
      const driven = svc.act(job, () => run({ 'job-name': job, 'on-conflict': 'wait' }), { n: 2 })
      // the action waits for the first one: it ends only once the action has looked at it
      await svc.lookedAt(job, first, mark)
      expect(svc.executions(job)).toHaveLength(1)
      svc.clock.advanceTo(svc.record(job, first).end_at)
      expect(await driven.started()).toBe(true)
      expect(await driven.to('running')).toBe(true)
      const r = await driven.end()
      expect(r.code).toBe(0)
      const second = r.outputs['execution-id']
      expect(second).toBe(driven.id)
      expect(second).not.toBe(first)
      expect(r.outputs.status).toBe('succeeded')
      expect(r.log).toContain(
        `execution ${first} is already running: waiting for it to end (on-conflict: wait)`
      )
      expect(svc.requests('POST', executions(job)).map(j => j.status)).toEqual([409, 202])
      expect(emu.journal.filter(j => j.method === 'DELETE')).toEqual([])
      const a = await svc.read(job, first)
      const b = await svc.read(job, second)
      expect(a.status).toBe('succeeded')
      expect(Date.parse(a.end_time as string)).toBeLessThanOrEqual(Date.parse(b.start_time))
    })

    test('cancel: cancels the running one, then starts', async () => {
      const job = 'conflict-cancel-job'
      await svc.deploy(job)
      await svc.script(job, { seconds: 60 })
      const first = await svc.start(job)
      svc.toRunning(job, first)
      await svc.admin('journal', undefined, 'DELETE')
      const { run: r } = await svc.drive(
        job,
        () => run({ 'job-name': job, 'on-conflict': 'cancel' }),
        ['running'],
        { n: 2 }
      )
      expect(r.code).toBe(0)
      expect(r.log).toContain(
        `execution ${first} is already running: cancelling it (on-conflict: cancel)`
      )
      const second = r.outputs['execution-id']
      expect(r.outputs.status).toBe('succeeded')
      const posts = svc.requests('POST', executions(job))
      expect(posts.map(j => j.status)).toEqual([409, 202])
      const deletes = svc.requests('DELETE', svc.execPath(job, first))
      expect(deletes).toEqual([expect.objectContaining({ status: 200 })])
      const order = (j: object) => emu.journal.indexOf(j as (typeof emu.journal)[number])
      expect(order(deletes[0])).toBeGreaterThan(order(posts[0]))
      expect(order(deletes[0])).toBeLessThan(order(posts[1]))
      expect((await svc.read(job, first)).status).toBe('cancelled')
      expect(second).not.toBe(first)
    })

    test('a 409 while no execution is listed as running (it just ended): started again after a pause', async () => {
      const job = 'conflict-ghost-job'
      await svc.deploy(job)
      // two starts refused as "already running", while the list shows nothing running
      await svc.fault({ method: 'POST', path: '/executions$', status: 409, times: 2 })
      const { run: r, id } = await svc.drive(job, () => run({ 'job-name': job }))
      expect(r.code).toBe(0)
      expect(r.outputs).toMatchObject({ 'execution-id': id, status: 'succeeded' })
      const posts = svc.requests('POST', executions(job))
      expect(posts.map(j => j.status)).toEqual([409, 409, 202])
      // each refusal was followed by a look for the running one, not by a start at once
      const lists = svc.requests('GET', `${svc.jobPath(job)}/executions`)
      expect(lists).toHaveLength(2)
      expect(lists.map(j => j.seq > posts[0].seq && j.seq < posts[2].seq)).toEqual([true, true])
    })

    test('a 409 that never ends while nothing is listed as running: stops at timeout-seconds', async () => {
      const job = 'conflict-ghost-forever-job'
      await svc.deploy(job)
      await svc.fault({ method: 'POST', path: '/executions$', status: 409, times: 0 })
      const r = await run({ 'job-name': job, 'timeout-seconds': '1' })
      expect(r.code).toBe(1)
      expect(errors(r)).toEqual([
        `::error::run-and-wait: the Control Service refused to start '${job}' as already running (HTTP 409) until timeout-seconds 1, yet listed no running execution; nothing was started`
      ])
      // at most one start per poll interval (0.2 s) within the limit (1 s), plus the first and
      // one after a last shortened pause: never a tight loop, however fast the machine
      const posts = svc.requests('POST', executions(job))
      expect(posts.length).toBeGreaterThanOrEqual(1)
      expect(posts.length).toBeLessThanOrEqual(7)
      expect(r.outputs).toEqual({})
      expect(r.state.settled).toBeUndefined()
    })
  })

  describe('wait modes', () => {
    test('wait: false returns at once (submitted); the post step then leaves it running', async () => {
      const job = 'wait-false-job'
      await svc.deploy(job)
      // the clock stands still: the execution is submitted whenever the action reads it
      const r = await run({ 'job-name': job, wait: 'false' })
      expect(r.code).toBe(0)
      const id = r.outputs['execution-id']
      expect(r.outputs).toMatchObject({
        status: 'submitted',
        'ended-at': '',
        'duration-seconds': ''
      })
      expect(r.state).toMatchObject({ 'execution-id': id, settled: 'left running' })
      expect(r.summary).toContain(`<td>${id}</td><td>submitted</td>`)
      emu.journal.splice(0)
      const p = await post(job, r.state)
      expect(p.code).toBe(0)
      expect(emu.journal).toEqual([])
      expect((await svc.read(job, id)).status).toBe('submitted')
      await svc.cancel(job, id)
    })

    test('wait: running returns once it runs', async () => {
      const job = 'wait-running-job'
      await svc.deploy(job)
      await svc.script(job, { seconds: 60 })
      const driven = svc.act(job, () => run({ 'job-name': job, wait: 'running' }))
      expect(await driven.started()).toBe(true)
      // submitted: it goes on waiting
      expect(driven.finished).toBe(false)
      expect(await driven.to('running')).toBe(true)
      const r = await driven.result
      expect(r.code).toBe(0)
      const id = r.outputs['execution-id']
      expect(id).toBe(driven.id)
      expect(r.outputs).toMatchObject({ status: 'running', 'ended-at': '' })
      expect(r.log.match(/^status: .*$/gm)).toEqual([
        'status: submitted — Job execution submitted.',
        'status: running — Job execution is running.'
      ])

      expect(r.state.settled).toBe('left running')
      expect((await svc.read(job, id)).status).toBe('running')
      await svc.cancel(job, id)
    })
  })

  describe('logs', () => {
    const lines = (n: number) =>
      Array.from({ length: n }, (_, i) => `log line ${String(i + 1).padStart(2, '0')} of ${n}`)

    test('streamed lines arrive complete, in order, without duplicates', async () => {
      const job = 'logs-stream-job'
      await svc.deploy(job)
      const logs = lines(30)
      await svc.script(job, { seconds: 3, logs })
      // looks at its first moment (1 line), at 30 % (10 lines) and 60 % (19 lines), then the end
      const { run: r, id } = await svc.drive(
        job,
        () => run({ 'job-name': job, logs: 'stream' }),
        ['running', 0.3, 0.6],
        { look: 'logs' }
      )
      expect(r.code).toBe(0)
      const { lines: printed, groups } = grouped(r.stdout)
      expect(printed).toEqual(logs)
      // they came in one group per look that found new lines, each naming its lines; the last
      // line of a look waits for the next (it may be incomplete), so the first look shows none
      expect(groups).toEqual(
        ['1–9', '10–18', '19–30'].map(range => `logs of ${id}: lines ${range}`)
      )
    })

    test('when the logs endpoint fails mid-run, the run goes on and the rest comes from logs_url', async () => {
      const job = 'logs-fallback-job'
      await svc.deploy(job)
      const logs = lines(20)
      await svc.script(job, { seconds: 2, logs })
      const driven = svc.act(job, () => run({ 'job-name': job, logs: 'stream' }), { look: 'logs' })
      expect(await driven.started()).toBe(true)
      expect(await driven.to('running')).toBe(true)
      expect(await driven.to(0.5)).toBe(true)
      // some lines streamed; from now on the logs endpoint fails, and one more look meets it
      await svc.fault({ method: 'GET', path: '/logs$', status: 404, times: 0 })
      expect(await driven.to(0.75)).toBe(true)
      const r = await driven.end()
      expect(r.code).toBe(0)
      const { lines: printed } = grouped(r.stdout)
      expect(printed).toEqual(logs)
      expect(r.log).toContain('(logs unavailable for now: ')
      // the last group comes after the final status: read from logs_url
      expect(r.stdout.lastIndexOf('::group::')).toBeGreaterThan(
        r.stdout.indexOf('status: succeeded')
      )
    })

    test('logs: on-failure prints only the last lines, and only on failure', async () => {
      const job = 'logs-on-failure-job'
      await svc.deploy(job)
      const logs = lines(25)
      await svc.script(job, { status: 'user_error', seconds: 0.3, logs })
      const { run: r } = await svc.drive(job, () => run({ 'job-name': job, logs: 'on-failure' }), [
        'running',
        0.5
      ])
      expect(r.code).toBe(1)
      const { lines: printed, groups } = grouped(r.stdout)
      expect(groups).toEqual([`last log lines of ${r.outputs['execution-id']}`])
      expect(printed).toEqual(logs.slice(-20))
    })

    test('transient 503s while polling do not fail the run', async () => {
      const job = 'logs-503-job'
      await svc.deploy(job)
      await svc.script(job, { seconds: 2.5 })
      const driven = svc.act(job, () => run({ 'job-name': job }))
      expect(await driven.started()).toBe(true)
      expect(await driven.to('running')).toBe(true)
      const path = svc.execPath(job, driven.id)
      await svc.fault({ method: 'GET', path: `${path}$`, status: 503, times: 3 })
      const r = await driven.end()
      expect(r.code).toBe(0)
      expect(r.outputs.status).toBe('succeeded')
      expect(svc.requests('GET', path).filter(j => j.status === 503)).toHaveLength(3)
      expect(emu.journal.filter(j => j.fault === 'status 503')).toHaveLength(3)
    })
  })

  test('the access token appears in no log line, output or summary (and the runner is told to mask it)', async () => {
    const job = 'run-token-job'
    await svc.deploy(job)
    await svc.script(job, { status: 'user_error', seconds: 0.2, logs: ['one', 'two'] })
    const { run: failed } = await svc.drive(job, () => run({ 'job-name': job }))
    const { run: passed } = await svc.drive(job, () => run({ 'job-name': job }))

    expect([failed.code, passed.code]).toEqual([1, 0])
    for (const r of [failed, passed]) {
      expectNoToken(r)
      expect(r.stdout).toContain(`::add-mask::${TOKEN}`)
    }
  })
})

// the bad inputs of run-and-wait are rows of the table in helpers/bad-inputs.ts
