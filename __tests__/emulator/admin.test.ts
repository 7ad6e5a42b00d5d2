// The admin API of the local Control Service (src/emulator/admin.ts, faults.ts, journal.ts):
// scripted faults before and after a handler, the journal of requests, 404 and 405 for what no
// route answers. Calls are contract-checked (see jobs.test.ts).
import type { Emulator } from '../../src/emulator/server.js'
import type { Api } from '../helpers/api.js'
import {
  admin,
  closeServices,
  describeIfSpec,
  liveJob,
  service,
  TEAM
} from '../helpers/emulator-api.js'
import { jobPath, teamPath } from '../helpers/fixtures.js'

describeIfSpec('local Control Service, official API', () => {
  afterAll(closeServices)

  describe('faults and journal (admin API)', () => {
    let f: { emu: Emulator; api: Api }
    beforeEach(async () => {
      f ??= await service()
      await admin(f.emu, 'DELETE', 'faults')
      await admin(f.emu, 'DELETE', 'journal')
    })
    const info = `${teamPath(TEAM)}/info`

    test('a 503 burst with Retry-After in seconds, then the real answer; the journal shows each', async () => {
      expect(
        (
          await admin(f.emu, 'POST', 'faults', {
            method: 'GET',
            path: '/info$',
            status: 503,
            times: 2,
            retryAfter: 3
          })
        ).status
      ).toBe(201)
      for (let i = 0; i < 2; i++) {
        const res = await f.api.call('GET', info, { deviations: ['injected-fault'] })
        expect(res.status).toBe(503)
        expect(res.headers.get('retry-after')).toBe('3')
      }
      expect((await f.api.call('GET', info)).status).toBe(200)
      const journal = (await admin(f.emu, 'GET', 'journal')).json as Array<{
        method: string
        path: string
        status: number
        fault?: string
      }>
      expect(journal.map(j => [j.method, j.path, j.status, j.fault])).toEqual([
        ['GET', info, 503, 'status 503'],
        ['GET', info, 503, 'status 503'],
        ['GET', info, 200, undefined]
      ])
    })

    test('a 429 with Retry-After as an HTTP date', async () => {
      await admin(f.emu, 'POST', 'faults', {
        path: '/info$',
        status: 429,
        retryAfter: 5,
        retryAfterAsDate: true
      })
      // the service's clock stands at a known moment: the date is exactly 5 s after it
      f.emu.clock.freeze()
      try {
        const res = await f.api.call('GET', info, { deviations: ['injected-fault'] })
        expect(res.status).toBe(429)
        expect(res.headers.get('retry-after')).toBe(
          new Date(f.emu.clock.now() + 5000).toUTCString()
        )
      } finally {
        f.emu.clock.resume()
      }
    })

    test('a dropped connection before the service sees the request', async () => {
      await admin(f.emu, 'POST', 'faults', { path: '/info$', reset: true })
      await expect(fetch(`${f.emu.url}${info}`)).rejects.toThrow()
      expect((await admin(f.emu, 'GET', 'journal')).json).toEqual([
        expect.objectContaining({ status: null, fault: 'reset' })
      ])
    })

    test('a lost response (when: "after"): the execution was started although the client saw the connection drop', async () => {
      await liveJob(f.api, 'lost-response-job')
      await admin(f.emu, 'POST', 'faults', {
        method: 'POST',
        path: '/executions$',
        reset: true,
        when: 'after'
      })
      await expect(
        fetch(
          `${f.emu.url}${jobPath(TEAM, 'lost-response-job')}/deployments/production/executions`,
          { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' }
        )
      ).rejects.toThrow()
      const list = (await f.api.call('GET', `${jobPath(TEAM, 'lost-response-job')}/executions`))
        .json as Array<{ status: string }>
      expect(list).toHaveLength(1)
    })

    test('a slow answer (delayMs), a corrupt body, and a fault that lets the first requests through (skip)', async () => {
      await admin(f.emu, 'POST', 'faults', { path: '/info$', delayMs: 300 })
      const t0 = Date.now()
      expect((await f.api.call('GET', info)).status).toBe(200)
      expect(Date.now() - t0).toBeGreaterThanOrEqual(290)
      await admin(f.emu, 'POST', 'faults', {
        path: '/info$',
        status: 200,
        body: '{"api_version": "1',
        contentType: 'application/json'
      })
      const corrupt = await fetch(`${f.emu.url}${info}`)
      await expect(corrupt.json()).rejects.toThrow()
      await admin(f.emu, 'POST', 'faults', { path: '/info$', status: 500, skip: 1 })
      expect((await f.api.call('GET', info)).status).toBe(200)
      expect((await f.api.call('GET', info, { deviations: ['injected-fault'] })).status).toBe(500)
      expect((await f.api.call('GET', info)).status).toBe(200)
    })

    test('the journal counts the bytes of each answer body as sent: JSON, a 404, a log, a fault, a dropped connection', async () => {
      await liveJob(f.api, 'bytes-job')
      // multi-byte characters: bytes, not characters, are counted
      const lines = ['démarrage → étape 1', 'ligne ✓', 'fin']
      await admin(f.emu, 'POST', `jobs/${encodeURIComponent(TEAM)}/bytes-job/next-execution`, {
        seconds: 3600,
        submitSeconds: 0,
        logs: lines
      })
      await admin(f.emu, 'DELETE', 'journal')
      const get = async (path: string) => {
        const res = await fetch(`${f.emu.url}${path}`)
        return { path, status: res.status, bytes: Buffer.byteLength(await res.text()) }
      }
      const starts = `${jobPath(TEAM, 'bytes-job')}/deployments/production/executions`
      const start = await fetch(`${f.emu.url}${starts}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{}'
      })
      expect(start.status).toBe(202)
      expect(await start.text()).toBe('')
      const execution = start.headers.get('location') as string
      const answers = [
        await get(info),
        await get('/data-jobs/nowhere'),
        await get(execution),
        await get(`${execution}/logs`)
      ]
      expect(answers.map(a => a.status)).toEqual([200, 404, 200, 200])
      await admin(f.emu, 'POST', 'faults', { path: '/info$', status: 503 })
      answers.push(await get(info))
      await admin(f.emu, 'POST', 'faults', { path: '/info$', reset: true })
      await expect(fetch(`${f.emu.url}${info}`)).rejects.toThrow()
      const journal = (await admin(f.emu, 'GET', 'journal')).json as Array<{
        path: string
        status: number | null
        response_bytes: number | null
      }>
      expect(journal.map(j => [j.path, j.status, j.response_bytes])).toEqual([
        [starts, 202, 0],
        ...answers.map(a => [a.path, a.status, a.bytes]),
        [info, null, 0]
      ])
      // the log answer held at least the first line, with its multi-byte characters
      expect(answers[3].bytes).toBeGreaterThanOrEqual(Buffer.byteLength(`{"logs":"${lines[0]}"}`))
    })

    test('faults are listed and cleared; bad fault scripts are refused with a reason', async () => {
      await admin(f.emu, 'POST', 'faults', { path: 'x', status: 503, times: 0 })
      expect((await admin(f.emu, 'GET', 'faults')).json).toEqual([
        expect.objectContaining({ path: 'x', status: 503, times: 0 })
      ])
      expect((await admin(f.emu, 'DELETE', 'faults')).status).toBe(204)
      expect((await admin(f.emu, 'GET', 'faults')).json).toEqual([])
      for (const [body, message] of [
        [{ status: 503 }, 'path'],
        [{ path: '(' }, 'regular expression'],
        [{ path: 'x' }, 'at least one of'],
        [{ path: 'x', status: 99 }, 'HTTP status'],
        [{ path: 'x', reset: true, when: 'later' }, 'when']
      ] as const) {
        const res = await admin(f.emu, 'POST', 'faults', body)
        expect(res.status).toBe(400)
        expect(res.json).toEqual({ error: expect.stringContaining(message) })
      }
      const script = await admin(f.emu, 'POST', `jobs/t/some-job-name/next-execution`, {
        status: 'exploded'
      })
      expect(script).toEqual({
        status: 400,
        json: { error: expect.stringContaining('succeeded, user_error, platform_error, skipped') }
      })
    })

    test('admin requests stay out of the journal; unknown paths are a 404 and wrong methods a 405', async () => {
      await admin(f.emu, 'GET', 'config')
      expect((await admin(f.emu, 'GET', 'journal')).json).toEqual([])
      const unknown = await f.api.call('GET', '/data-jobs/nowhere', {
        invalidRequest: 'no such path in the spec',
        deviations: ['unknown-path-404']
      })
      expect(unknown.status).toBe(404)
      const method = await f.api.call('PATCH', `${teamPath(TEAM)}/info`, {
        invalidRequest: 'info has no PATCH',
        deviations: ['method-405']
      })
      expect(method.status).toBe(405)
    })
  })
})
