// The local Control Service's executions over loopback (src/emulator/api/executions.ts): start,
// the phases on the service's clock, logs, cancel, list, scripted outcomes, GraphQL. Calls are
// contract-checked (see jobs.test.ts).
import type { ServiceClock } from '../../src/emulator/clock.js'
import type { ExecutionRecord } from '../../src/emulator/model.js'
import type { Emulator } from '../../src/emulator/server.js'
import { QUERIES } from '../../src/core/queries.js'
import type { Api } from '../helpers/api.js'
import {
  admin,
  closeServices,
  describeIfSpec,
  executionRecord,
  frozenClock,
  gql,
  liveJob,
  service,
  TEAM
} from '../helpers/emulator-api.js'
import {
  createJob,
  enc,
  jobPath,
  readExecution,
  startExecution,
  waitEnd
} from '../helpers/fixtures.js'

describeIfSpec('local Control Service, official API', () => {
  let emu: Emulator
  let api: Api
  beforeAll(async () => {
    ;({ emu, api } = await service())
  })
  afterAll(closeServices)
  const frozen = (fn: (clock: ServiceClock) => Promise<void>): Promise<void> => frozenClock(emu, fn)
  const execution = (job: string, id: string): ExecutionRecord => executionRecord(emu, job, id)

  describe('executions', () => {
    test('start answers 202 with the id in Location; it goes submitted → running → succeeded; a second start is a 409', async () => {
      const version = await liveJob(api, 'run-me-job')
      await frozen(async clock => {
        const id = await startExecution(api, TEAM, 'run-me-job', {
          started_by: 'manual/vdk-actions',
          args: { day: '2026-11-23' }
        })
        expect(id).toMatch(/^run-me-job-\d+/)
        const first = await readExecution(api, TEAM, 'run-me-job', id)
        expect(first).toMatchObject({
          status: 'submitted',
          type: 'manual',
          started_by: 'manual/vdk-actions/anonymousUser',
          deployment: { job_version: version }
        })
        const conflict = await api.call(
          'POST',
          `${jobPath(TEAM, 'run-me-job')}/deployments/production/executions`,
          { json: { started_by: 'manual/x' }, deviations: ['error-body'] }
        )
        expect(conflict.status).toBe(409)
        expect(conflict.json).toMatchObject({
          what: expect.stringContaining('already running'),
          why: expect.stringContaining(id)
        })
        // submitted for 0.15 s, then running for 0.6 s (FAST), on the service's clock
        clock.advance(149)
        expect((await readExecution(api, TEAM, 'run-me-job', id)).status).toBe('submitted')
        clock.advance(1)
        expect((await readExecution(api, TEAM, 'run-me-job', id)).status).toBe('running')
        clock.advance(599)
        expect((await readExecution(api, TEAM, 'run-me-job', id)).status).toBe('running')
        clock.advance(1)
        const done = await readExecution(api, TEAM, 'run-me-job', id)
        expect(done).toMatchObject({
          status: 'succeeded',
          end_time: new Date(execution('run-me-job', id).end_at).toISOString(),
          message: expect.any(String)
        })
        // a new start is fine once it ended
        const next = await startExecution(api, TEAM, 'run-me-job')
        expect((await readExecution(api, TEAM, 'run-me-job', next)).status).toBe('submitted')
      })
    })

    test('logs grow line by line while it runs (503 before), honour tail_lines, go with the Job an hour after the end, and logs_url keeps them', async () => {
      await liveJob(api, 'log-lines-job')
      const lines = Array.from({ length: 8 }, (_, i) => `line ${i + 1}`)
      await admin(emu, 'POST', `jobs/${enc(TEAM)}/log-lines-job/next-execution`, {
        status: 'succeeded',
        seconds: 1.6,
        logs: lines,
        // bare lines here; kubelet timestamps are logs.test.ts's
        timestamps: false
      })
      let id = ''
      await frozen(async clock => {
        id = await startExecution(api, TEAM, 'log-lines-job')
        const path = `${jobPath(TEAM, 'log-lines-job')}/executions/${enc(id)}/logs`
        const read = async (query = '') =>
          ((await api.call('GET', `${path}${query}`)).json as { logs: string }).logs
        // 503 while submitted (the container has not started: logs.test.ts); then one more line
        // every 1.6 s / 8 = 0.2 s of its running time
        const starting = await api.call('GET', path, { deviations: ['logs-not-started-503'] })
        expect(starting.status).toBe(503)
        const e = execution('log-lines-job', id)
        for (let k = 0; k < 8; k++) {
          clock.advanceTo(e.running_at + k * 200)
          expect(await read()).toBe(lines.slice(0, k + 1).join('\n'))
          expect(await read('?tail_lines=2')).toBe(
            lines.slice(Math.max(0, k - 1), k + 1).join('\n')
          )
        }
        clock.advanceTo(e.end_at + 3_599_999)
        expect(await read()).toBe(lines.join('\n'))
        clock.advance(1)
      })
      const logsPath = `${jobPath(TEAM, 'log-lines-job')}/executions/${enc(id)}/logs`
      const after = (await api.call('GET', logsPath)).json
      expect(after).toEqual({ logs: '' })
      const e = await readExecution(api, TEAM, 'log-lines-job', id)
      expect(e.logs_url).toBe(`${emu.url}/_emulator/logs/${enc(TEAM)}/log-lines-job/${enc(id)}`)
      expect(await (await fetch(e.logs_url as string)).text()).toBe(`${lines.join('\n')}\n`)
    })

    test.each([
      ['user_error', {}],
      ['platform_error', {}],
      ['skipped', {}]
    ])('a scripted %s ends with that status and its message', async (status, extra) => {
      const job = `scripted-${status.replace('_', '-')}-job`
      await liveJob(api, job)
      await admin(emu, 'POST', `jobs/${enc(TEAM)}/${job}/next-execution`, {
        status,
        seconds: 0.2,
        ...extra
      })
      const done = await waitEnd(api, TEAM, job, await startExecution(api, TEAM, job))
      expect(done.status).toBe(status)
      expect(done.message).toEqual(expect.any(String))
    })

    test('a platform error can later turn into a success, as the real service may overwrite it', async () => {
      await liveJob(api, 'flaky-platform-job')
      await frozen(async clock => {
        await admin(emu, 'POST', `jobs/${enc(TEAM)}/flaky-platform-job/next-execution`, {
          status: 'platform_error',
          seconds: 0.2,
          becomes: 'succeeded',
          becomesAfterSeconds: 0.4
        })
        const id = await startExecution(api, TEAM, 'flaky-platform-job')
        clock.advanceTo(execution('flaky-platform-job', id).end_at)
        expect((await readExecution(api, TEAM, 'flaky-platform-job', id)).status).toBe(
          'platform_error'
        )
        clock.advance(399)
        expect((await readExecution(api, TEAM, 'flaky-platform-job', id)).status).toBe(
          'platform_error'
        )
        clock.advance(1)
        expect((await readExecution(api, TEAM, 'flaky-platform-job', id)).status).toBe('succeeded')
      })
    })

    test('…or once its final status was read n times (becomesAfterReads)', async () => {
      const job = 'reads-platform-job'
      await liveJob(api, job)
      await admin(emu, 'POST', `jobs/${enc(TEAM)}/${job}/next-execution`, {
        status: 'platform_error',
        seconds: 0.2,
        becomes: 'succeeded',
        becomesAfterReads: 2
      })
      const id = await startExecution(api, TEAM, job)
      // the read that sees the end is the first; the second sees the same; the third the new one
      expect((await waitEnd(api, TEAM, job, id)).status).toBe('platform_error')
      expect((await readExecution(api, TEAM, job, id)).status).toBe('platform_error')
      expect((await readExecution(api, TEAM, job, id)).status).toBe('succeeded')
      expect((await readExecution(api, TEAM, job, id)).status).toBe('succeeded')
      const bad = await fetch(`${emu.url}/_emulator/jobs/${enc(TEAM)}/${job}/next-execution`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ becomes: 'succeeded', becomesAfterReads: 0 })
      })
      expect(bad.status).toBe(400)
    })

    test('cancel stops a running execution (200); a finished one cannot be cancelled (400)', async () => {
      await liveJob(api, 'cancel-me-job')
      await admin(emu, 'POST', `jobs/${enc(TEAM)}/cancel-me-job/next-execution`, { seconds: 30 })
      const id = await startExecution(api, TEAM, 'cancel-me-job')
      const path = `${jobPath(TEAM, 'cancel-me-job')}/executions/${enc(id)}`
      expect((await api.call('DELETE', path)).status).toBe(200)
      expect(await readExecution(api, TEAM, 'cancel-me-job', id)).toMatchObject({
        status: 'cancelled',
        message: 'Job execution cancelled by user.',
        end_time: expect.any(String)
      })
      const again = await api.call('DELETE', path, { deviations: ['not-running-400'] })
      expect(again.status).toBe(400)
      expect(again.json).toMatchObject({ why: expect.stringContaining('cancelled') })
    })

    test('list filters by lowercase status; an unknown status is a 404', async () => {
      await liveJob(api, 'list-runs-job')
      await waitEnd(api, TEAM, 'list-runs-job', await startExecution(api, TEAM, 'list-runs-job'))
      await admin(emu, 'POST', `jobs/${enc(TEAM)}/list-runs-job/next-execution`, { seconds: 30 })
      const active = await startExecution(api, TEAM, 'list-runs-job')
      const all = (await api.call('GET', `${jobPath(TEAM, 'list-runs-job')}/executions`))
        .json as Array<{ id: string }>
      expect(all).toHaveLength(2)
      const runningOnly = (
        await api.call(
          'GET',
          `${jobPath(TEAM, 'list-runs-job')}/executions?execution_status=submitted&execution_status=running`
        )
      ).json
      expect(runningOnly).toEqual([expect.objectContaining({ id: active })])
      const viaDeployment = (
        await api.call(
          'GET',
          `${jobPath(TEAM, 'list-runs-job')}/deployments/production/executions?execution_status=succeeded`
        )
      ).json
      expect(viaDeployment).toEqual([expect.objectContaining({ status: 'succeeded' })])
      const bad = await api.call(
        'GET',
        `${jobPath(TEAM, 'list-runs-job')}/executions?execution_status=RUNNING`,
        { deviations: ['status-404'] }
      )
      expect(bad.status).toBe(404)
      expect(bad.json).toMatchObject({ what: expect.stringContaining('RUNNING') })
      await api.call('DELETE', `${jobPath(TEAM, 'list-runs-job')}/executions/${enc(active)}`)
    })

    test('GraphQL shows the latest executions with UPPERCASE statuses', async () => {
      await liveJob(api, 'graphql-runs-job')
      const id = await startExecution(api, TEAM, 'graphql-runs-job')
      await waitEnd(api, TEAM, 'graphql-runs-job', id)
      const res = await gql(api, QUERIES.LatestExecutions, {
        job: 'graphql-runs-job',
        team: TEAM,
        size: 5
      })
      expect(res.json).toMatchObject({
        data: {
          totalItems: 1,
          content: [
            { id, status: 'SUCCEEDED', type: 'MANUAL', logsUrl: expect.stringContaining(id) }
          ]
        }
      })
    })

    test('starting a job that is not deployed, reading an unknown execution: 404 with a body a person can act on', async () => {
      await createJob(api, TEAM, 'never-deployed-job')
      const start = await api.call(
        'POST',
        `${jobPath(TEAM, 'never-deployed-job')}/deployments/production/executions`,
        { json: {}, deviations: ['start-404'] }
      )
      expect(start.status).toBe(404)
      expect(start.json).toMatchObject({
        what: expect.stringContaining('not deployed'),
        countermeasures: expect.stringContaining('Deploy')
      })
      const read = await api.call(
        'GET',
        `${jobPath(TEAM, 'never-deployed-job')}/executions/nope-1`,
        { deviations: ['error-body'] }
      )
      expect(read.status).toBe(404)
      expect(read.json).toMatchObject({ what: expect.stringContaining('nope-1') })
      const unknownJob = await api.call(
        'GET',
        `${jobPath(TEAM, 'no-such-job-at-all')}/executions`,
        { deviations: ['error-body'] }
      )
      expect(unknownJob.status).toBe(404)
      expect(unknownJob.json).toMatchObject({
        countermeasures: expect.stringContaining('spelling')
      })
    })
  })
})
