// The local Control Service's deployments over loopback (src/emulator/api/deployments.ts): a
// build that goes live on the service's clock, what it merges, PATCH, DELETE, the e-mails it would
// send. Calls are contract-checked (see jobs.test.ts).
import type { ServiceClock } from '../../src/emulator/clock.js'
import type { Emulator } from '../../src/emulator/server.js'
import type { Api } from '../helpers/api.js'
import {
  admin,
  closeServices,
  describeIfSpec,
  frozenClock,
  gql,
  liveJob,
  service,
  TEAM
} from '../helpers/emulator-api.js'
import {
  createJob,
  deployLive,
  enc,
  jobFiles,
  jobPath,
  upload,
  zipOf
} from '../helpers/fixtures.js'

describeIfSpec('local Control Service, official API', () => {
  let emu: Emulator
  let api: Api
  beforeAll(async () => {
    ;({ emu, api } = await service())
  })
  afterAll(closeServices)
  const frozen = (fn: (clock: ServiceClock) => Promise<void>): Promise<void> => frozenClock(emu, fn)

  describe('deployments', () => {
    /** The job's deployments as GraphQL lists them. */
    const gqlDeployments = async (job: string) =>
      (
        (
          await gql(
            api,
            '{ jobs(pageNumber: 1, filter: [{property: "jobName", pattern: "' +
              job +
              '"}]) { content { deployments { status jobVersion lastDeployedDate } } } }'
          )
        ).json as { data: { content: Array<{ deployments: unknown }> } }
      ).data.content[0].deployments

    test('POST answers 202; the version is listed only once the build is done; GraphQL lists no deployment before (null) and never a status', () =>
      frozen(async clock => {
        await createJob(api, TEAM, 'deploy-job')
        await api.call('PUT', jobPath(TEAM, 'deploy-job'), {
          json: {
            job_name: 'deploy-job',
            team: TEAM,
            description: 'deployed by a test',
            config: { contacts: { notified_on_job_deploy: ['owner@example.com'] } }
          },
          deviations: ['update-200']
        })
        await admin(emu, 'DELETE', 'notifications')
        await admin(emu, 'POST', `jobs/${enc(TEAM)}/deploy-job/next-deployment`, { seconds: 1 })
        const list = async (): Promise<unknown> =>
          (await api.call('GET', `${jobPath(TEAM, 'deploy-job')}/deployments`)).json
        expect(await list()).toEqual([])
        expect(await gqlDeployments('deploy-job')).toBeNull()
        const version = await upload(api, TEAM, 'deploy-job', await zipOf(jobFiles('deploy-job')))
        const res = await api.call('POST', `${jobPath(TEAM, 'deploy-job')}/deployments`, {
          json: { job_version: version, python_version: '3.11' }
        })
        expect(res.status).toBe(202)
        expect(res.text).toBe('')
        // the build takes 1 s on the service's clock: nothing listed a moment before, live then
        clock.advance(999)
        expect(await list()).toEqual([])
        expect(await gqlDeployments('deploy-job')).toBeNull()
        clock.advance(1)
        const live = new Date(clock.now()).toISOString()
        expect(await list()).toEqual([
          expect.objectContaining({
            job_version: version,
            python_version: '3.11',
            enabled: true,
            mode: 'release',
            last_deployed_by: 'anonymousUser',
            last_deployed_date: live
          })
        ])
        expect(await gqlDeployments('deploy-job')).toEqual([
          { status: null, jobVersion: version, lastDeployedDate: live }
        ])
        expect(
          (await api.call('GET', `${jobPath(TEAM, 'deploy-job')}/deployments/production`)).json
        ).toMatchObject({ job_version: version })
        // the outcome went only to the deploy contacts, by e-mail
        expect((await admin(emu, 'GET', 'notifications')).json).toEqual([
          {
            at: live,
            job_name: 'deploy-job',
            team: TEAM,
            job_version: version,
            outcome: 'SUCCESS',
            recipients: ['owner@example.com'],
            live_version: version
          }
        ])
      }))

    test('an unsupported python version is a 409 naming the supported ones; resources are a 400', async () => {
      const version = await liveJob(api, 'python-check-job')
      const res = await api.call('POST', `${jobPath(TEAM, 'python-check-job')}/deployments`, {
        json: { job_version: version, python_version: '3.7' },
        deviations: ['python-409']
      })
      expect(res.status).toBe(409)
      expect(res.json).toMatchObject({
        what: expect.stringContaining('3.7'),
        why: expect.stringContaining('3.9, 3.10, 3.11, 3.12')
      })
      const resources = await api.call('POST', `${jobPath(TEAM, 'python-check-job')}/deployments`, {
        json: { job_version: version, resources: { cpu_limit: 2 } },
        deviations: ['error-body']
      })
      expect(resources.status).toBe(400)
      expect(resources.json).toMatchObject({ what: 'Setting of job resources is not allowed.' })
    })

    test('a failing build keeps the live version, shows nothing in the API, and is told only by e-mail', async () => {
      const v1 = await liveJob(api, 'failing-deploy-job')
      const before = (
        (await api.call('GET', `${jobPath(TEAM, 'failing-deploy-job')}/deployments`))
          .json as Array<{
          last_deployed_date: string
        }>
      )[0]
      await admin(emu, 'DELETE', 'notifications')
      await frozen(async clock => {
        await admin(emu, 'POST', `jobs/${enc(TEAM)}/failing-deploy-job/next-deployment`, {
          status: 'USER_ERROR',
          seconds: 1.5
        })
        const v2 = await upload(
          api,
          TEAM,
          'failing-deploy-job',
          await zipOf(jobFiles('failing-deploy-job', { 'broken.py': 'raise' }))
        )
        await api.call('POST', `${jobPath(TEAM, 'failing-deploy-job')}/deployments`, {
          json: { job_version: v2 }
        })
        clock.advance(1500)
        const list = (await api.call('GET', `${jobPath(TEAM, 'failing-deploy-job')}/deployments`))
          .json
        expect(list).toEqual([
          expect.objectContaining({
            job_version: v1,
            last_deployed_date: before.last_deployed_date
          })
        ])
        expect(await gqlDeployments('failing-deploy-job')).toEqual([
          { status: null, jobVersion: v1, lastDeployedDate: before.last_deployed_date }
        ])
        expect((await admin(emu, 'GET', 'notifications')).json).toEqual([
          expect.objectContaining({
            job_name: 'failing-deploy-job',
            job_version: v2,
            outcome: 'USER_ERROR',
            recipients: [],
            live_version: v1
          })
        ])
      })
    })

    test('send_notification=false: no e-mail; a redeploy without enabled keeps the disabled state', async () => {
      const version = await liveJob(api, 'quiet-deploy-job')
      const path = `${jobPath(TEAM, 'quiet-deploy-job')}/deployments`
      expect(
        (await api.call('PATCH', `${path}/production`, { json: { enabled: false } })).status
      ).toBe(202)
      await admin(emu, 'DELETE', 'notifications')
      await deployLive(api, TEAM, 'quiet-deploy-job', version, {}, 'send_notification=false')
      expect((await admin(emu, 'GET', 'notifications')).json).toEqual([])
      expect((await api.call('GET', path)).json).toEqual([
        expect.objectContaining({ job_version: version, enabled: false })
      ])
    })

    test('PATCH enables and disables; it cannot change the version; DELETE removes the deployment', async () => {
      const version = await liveJob(api, 'patch-me-job')
      const path = `${jobPath(TEAM, 'patch-me-job')}/deployments/production`
      expect((await api.call('PATCH', path, { json: { enabled: false } })).status).toBe(202)
      expect((await api.call('GET', path)).json).toMatchObject({
        enabled: false,
        job_version: version
      })
      expect((await api.call('PATCH', path, { json: { enabled: true } })).status).toBe(202)
      expect((await api.call('GET', path)).json).toMatchObject({ enabled: true })
      const change = await api.call('PATCH', path, {
        json: { job_version: 'f'.repeat(40) },
        deviations: ['error-body']
      })
      expect(change.status).toBe(400)
      expect(change.json).toMatchObject({ what: "'job_version' cannot be changed by PATCH." })
      expect((await api.call('DELETE', path)).status).toBe(202)
      expect((await api.call('GET', `${jobPath(TEAM, 'patch-me-job')}/deployments`)).json).toEqual(
        []
      )
      const gone = await api.call('PATCH', path, {
        json: { enabled: true },
        deviations: ['error-body']
      })
      expect(gone.status).toBe(404)
    })

    test('a version that was never uploaded is refused', async () => {
      await liveJob(api, 'unknown-version-job')
      const res = await api.call('POST', `${jobPath(TEAM, 'unknown-version-job')}/deployments`, {
        json: { job_version: '0'.repeat(40) },
        deviations: ['error-body']
      })
      expect(res.status).toBe(400)
      expect(res.json).toMatchObject({ what: expect.stringContaining('0000000') })
    })
  })
})
