// The local Control Service's properties and secrets over loopback
// (src/emulator/api/properties.ts). Calls are contract-checked (see jobs.test.ts).
import type { Api } from '../helpers/api.js'
import { closeServices, describeIfSpec, service, TEAM } from '../helpers/emulator-api.js'
import { createJob, jobPath } from '../helpers/fixtures.js'

describeIfSpec('local Control Service, official API', () => {
  let api: Api
  beforeAll(async () => {
    ;({ api } = await service())
  })
  afterAll(closeServices)

  describe('properties and secrets', () => {
    test('PUT replaces the whole map (204), keeping types; GET reads it back', async () => {
      await createJob(api, TEAM, 'props-job')
      const path = `${jobPath(TEAM, 'props-job')}/deployments/TODO/properties`
      expect((await api.call('GET', path)).json).toEqual({})
      const map = { n: 1, f: 1.5, b: true, s: 'x', nested: { a: [1, 'two'] }, nothing: null }
      expect((await api.call('PUT', path, { json: map })).status).toBe(204)
      expect((await api.call('GET', path)).json).toEqual(map)
      await api.call('PUT', path, { json: { only: 'this' } })
      expect((await api.call('GET', path)).json).toEqual({ only: 'this' })
      const list = await api.call('PUT', path, {
        json: [1, 2],
        invalidRequest: 'properties are a mapping',
        deviations: ['body-400']
      })
      expect(list.status).toBe(400)
    })

    test('properties are keyed by job name only and the job is not checked, as on the real service', async () => {
      const path = `${jobPath('any team', 'not-a-job-at-all')}/deployments/whatever/properties`
      expect((await api.call('PUT', path, { json: { k: 'v' } })).status).toBe(204)
      expect(
        (
          await api.call(
            'GET',
            `${jobPath('another team', 'not-a-job-at-all')}/deployments/TODO/properties`
          )
        ).json
      ).toEqual({ k: 'v' })
    })

    test('secrets: PUT replaces, GET reads; too large is a 413; without a vault the service answers 501', async () => {
      const path = `${jobPath(TEAM, 'secret-job')}/deployments/TODO/secrets`
      // 202, as DataJobsSecretsController answers (the spec allows 202 and 204)
      expect((await api.call('PUT', path, { json: { password: 's3cr3t' } })).status).toBe(202)
      expect((await api.call('GET', path)).json).toEqual({ password: 's3cr3t' })
      // keyed team/job, as in the real service's Vault: another team's path reads nothing
      expect(
        (await api.call('GET', `${jobPath('another team', 'secret-job')}/deployments/TODO/secrets`))
          .json
      ).toEqual({})
      const big = await api.call('PUT', path, {
        json: { blob: 'x'.repeat(1024 * 1024 + 10) },
        deviations: ['too-large-413']
      })
      expect(big.status).toBe(413)
      const novault = await service({ secrets: false })
      const off = await novault.api.call('GET', path, { deviations: ['no-secrets-501'] })
      expect(off.status).toBe(501)
      expect(off.json).toMatchObject({
        countermeasures: expect.stringContaining('secrets backend')
      })
    })
  })
})
