// The local Control Service over loopback: every official call goes through the contract-checked
// Api (request and response validated against ../shared/reference/vdk-datajob-api.yaml); where the
// real service differs from its spec, the call names the difference.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { constants as zlibConstants, crc32, deflateRawSync } from 'node:zlib'
import yauzl from 'yauzl'
import type { ServiceClock } from '../../src/emulator/clock.js'
import type { ExecutionRecord } from '../../src/emulator/model.js'
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/server.js'

import { QUERIES } from '../../src/core/queries.js'
import { Api } from '../helpers/api.js'
import { Contract, specAvailable, SPEC_PATH } from '../helpers/contract.js'
import {
  createJob,
  deployLive,
  enc,
  jobFiles,
  jobPath,
  readExecution,
  startExecution,
  teamPath,
  upload,
  waitEnd,
  zipOf
} from '../helpers/fixtures.js'

if (!specAvailable()) console.warn(`SKIPPED: the official OpenAPI spec is not at ${SPEC_PATH}`)
const describeIfSpec = specAvailable() ? describe : describe.skip

const FAST: EmulatorOptions = { executionSeconds: 0.6, submitSeconds: 0.15, deploymentSeconds: 0.2 }
const TEAM = 'data team'

let contract: Contract
const running: Emulator[] = []
async function service(options: EmulatorOptions = {}): Promise<{ emu: Emulator; api: Api }> {
  const emu = await startEmulator({ ...FAST, ...options })
  running.push(emu)
  return { emu, api: new Api(emu.url, contract) }
}
const admin = async (
  emu: Emulator,
  method: string,
  path: string,
  body?: unknown,
  token?: string
) => {
  const res = await fetch(`${emu.url}/_emulator/${path}`, {
    method,
    headers: {
      'Content-Type': 'application/json',
      ...(token ? { Authorization: `Bearer ${token}` } : {})
    },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const text = await res.text()
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined }
}
const gql = async (api: Api, query: string, variables?: object, team = TEAM) => {
  const vars = variables ? `&variables=${enc(JSON.stringify(variables))}` : ''
  return api.call('GET', `${teamPath(team)}/jobs?query=${enc(query)}${vars}`)
}
async function unzip(buffer: Buffer): Promise<Record<string, string>> {
  const zip = await yauzl.fromBufferPromise(buffer, { lazyEntries: true })
  const out: Record<string, string> = {}
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      if (entry.fileName.endsWith('/')) {
        out[entry.fileName] = ''
        return zip.readEntry()
      }
      void zip.openReadStreamPromise(entry).then(async stream => {
        const chunks: Buffer[] = []
        for await (const c of stream) chunks.push(c as Buffer)
        out[entry.fileName] = Buffer.concat(chunks).toString()
        zip.readEntry()
      }, reject)
    })
    zip.on('end', () => resolve())
    zip.on('error', reject)
    zip.readEntry()
  })
  return out
}

/** A job created, uploaded and live, ready to run. */
async function liveJob(api: Api, job: string, team = TEAM): Promise<string> {
  await createJob(api, team, job)
  const version = await upload(api, team, job, await zipOf(jobFiles(job)))
  await deployLive(api, team, job, version)
  return version
}

describeIfSpec('local Control Service, official API', () => {
  let emu: Emulator
  let api: Api
  beforeAll(async () => {
    contract = await Contract.load()
    ;({ emu, api } = await service())
  })
  /**
   * Runs `fn` with the service's clock frozen: what a read shows in between (submitted, some log
   * lines, a build not done yet) then holds until `fn` moves the clock on, however slow the
   * machine. The clock runs again afterwards, from where it stands.
   */
  async function frozen(fn: (clock: ServiceClock) => Promise<void>): Promise<void> {
    emu.clock.freeze()
    try {
      await fn(emu.clock)
    } finally {
      emu.clock.resume()
    }
  }
  const execution = (job: string, id: string): ExecutionRecord => {
    const e = emu.state.jobs[job]?.executions.find(x => x.id === id)
    if (!e) throw new Error(`no execution ${id} of ${job}`)
    return e
  }
  afterAll(async () => {
    await Promise.all(running.map(e => e.close()))
  })

  test('info lists the supported python versions as the real service spells them ("3.9", not "python3.9")', async () => {
    const res = await api.call('GET', `${teamPath(TEAM)}/info`)
    expect(res.status).toBe(200)
    expect(res.json).toEqual({
      api_version: expect.stringContaining('emulator'),
      supported_python_versions: ['3.9', '3.10', '3.11', '3.12']
    })
    expect(res.headers.get('x-opid')).toMatch(/^[0-9a-f]{16}$/)
  })

  test('the X-OPID a client sends comes back', async () => {
    const res = await api.call('GET', `${teamPath(TEAM)}/info`, {
      headers: { 'X-OPID': 'gha-4242-1' }
    })
    expect(res.headers.get('x-opid')).toBe('gha-4242-1')
  })

  describe('jobs', () => {
    test('create answers 201 with a Location, read gives the job back, a second create 409 with an empty body', async () => {
      const res = await createJob(api, TEAM, 'create-read-job')
      expect(res.headers.get('location')).toBe(jobPath(TEAM, 'create-read-job'))
      const read = await api.call('GET', jobPath(TEAM, 'create-read-job'))
      expect(read.json).toMatchObject({
        job_name: 'create-read-job',
        team: TEAM,
        config: { schedule: { schedule_cron: '0 6 * * *' } }
      })
      const again = await api.call('POST', `${teamPath(TEAM)}/jobs`, {
        json: { job_name: 'create-read-job', description: '', config: {} },
        deviations: ['empty-409']
      })
      expect(again.status).toBe(409)
      expect(again.text).toBe('')
      // job names are unique across teams
      const other = await api.call('POST', `${teamPath('other team')}/jobs`, {
        json: { job_name: 'create-read-job', description: '', config: {} },
        deviations: ['empty-409']
      })
      expect(other.status).toBe(409)
    })

    test.each([
      ['short', 'too short (5 characters)'],
      ['Upper-case-job', 'upper case'],
      ['1st-job-name', 'a digit first'],
      ['job_with_underscore', 'an underscore'],
      [`a${'b'.repeat(50)}`, '51 characters']
    ])('the job name %p is refused with 400 and the rule (%s)', async (name, _why) => {
      const res = await api.call('POST', `${teamPath(TEAM)}/jobs`, {
        json: { job_name: name, description: '', config: {} },
        deviations: ['error-body']
      })
      expect(res.status).toBe(400)
      expect(res.json).toMatchObject({
        what: expect.stringContaining(name),
        why: expect.stringContaining('6 to 50'),
        countermeasures: expect.stringContaining('^[a-z][a-z0-9-]{5,49}$')
      })
    })

    test('names of exactly 6 and 50 characters are accepted', async () => {
      await createJob(api, TEAM, 'sixchr')
      await createJob(api, TEAM, `f${'x'.repeat(49)}`)
    })

    test('create refuses a name query that differs from the body, a team that differs from the path, and malformed JSON', async () => {
      const q = await api.call('POST', `${teamPath(TEAM)}/jobs?name=other-name`, {
        json: { job_name: 'some-job-name', description: '', config: {} },
        deviations: ['error-body']
      })
      expect(q.status).toBe(400)
      expect(q.json).toMatchObject({ what: expect.stringContaining('other-name') })
      const t = await api.call('POST', `${teamPath(TEAM)}/jobs`, {
        json: { job_name: 'some-job-name', team: 'elsewhere', description: '', config: {} },
        deviations: ['error-body']
      })
      expect(t.status).toBe(400)
      expect(t.json).toMatchObject({ what: expect.stringContaining('elsewhere') })
      const bad = await api.call('POST', `${teamPath(TEAM)}/jobs`, {
        body: '{"job_name": "some-job-name",',
        headers: { 'Content-Type': 'application/json' },
        invalidRequest: 'the body is malformed JSON',
        deviations: ['error-body']
      })
      expect(bad.status).toBe(400)
      expect(bad.json).toMatchObject({
        what: expect.stringContaining('not valid JSON'),
        countermeasures: expect.any(String)
      })
    })

    test('update answers 200 and replaces the config; it refuses a rename or a team change', async () => {
      await createJob(api, TEAM, 'update-me-job')
      const config = {
        schedule: { schedule_cron: '5 4 * * *' },
        contacts: { notified_on_job_deploy: ['a@example.com'] }
      }
      const res = await api.call('PUT', jobPath(TEAM, 'update-me-job'), {
        json: { job_name: 'update-me-job', team: TEAM, description: 'new', config },
        deviations: ['update-200']
      })
      expect(res.status).toBe(200)
      expect((await api.call('GET', jobPath(TEAM, 'update-me-job'))).json).toMatchObject({
        description: 'new',
        config
      })
      const rename = await api.call('PUT', jobPath(TEAM, 'update-me-job'), {
        json: { job_name: 'renamed-job', description: '', config: {} },
        deviations: ['error-body']
      })
      expect(rename.status).toBe(400)
      const team = await api.call('PUT', jobPath(TEAM, 'update-me-job'), {
        json: { job_name: 'update-me-job', team: 'x', description: '', config: {} },
        deviations: ['error-body']
      })
      expect(team.status).toBe(400)
      expect(team.json).toMatchObject({ countermeasures: expect.stringContaining('/team/') })
    })

    test('an unknown job, or a job asked for under another team, is a 404 with an empty body', async () => {
      await createJob(api, TEAM, 'team-bound-job')
      for (const path of [jobPath(TEAM, 'no-such-job'), jobPath('other team', 'team-bound-job')]) {
        const res = await api.call('GET', path, { deviations: ['empty-404'] })
        expect(res.status).toBe(404)
        expect(res.text).toBe('')
      }
    })

    test('delete removes the job but not its properties, as on the real service', async () => {
      await createJob(api, TEAM, 'delete-me-job')
      await api.call('PUT', `${jobPath(TEAM, 'delete-me-job')}/deployments/TODO/properties`, {
        json: { a: 1 }
      })
      expect((await api.call('DELETE', jobPath(TEAM, 'delete-me-job'))).status).toBe(200)
      expect(
        (await api.call('GET', jobPath(TEAM, 'delete-me-job'), { deviations: ['empty-404'] }))
          .status
      ).toBe(404)
      // JobsService.deleteJob leaves the properties table alone (the spec says otherwise)
      expect(
        (await api.call('GET', `${jobPath(TEAM, 'delete-me-job')}/deployments/TODO/properties`))
          .json
      ).toEqual({ a: 1 })
    })

    test("jobsQuery lists a team's jobs through GraphQL; the team path segment does not filter", async () => {
      for (const j of ['list-alpha-job', 'list-beta-job', 'list-gamma-job'])
        await createJob(api, 'list team', j)
      const query = QUERIES.TeamJobs
      const page1 = await gql(
        api,
        query,
        { team: 'list team', page: 1, size: 2 },
        'some unrelated team'
      )
      expect(page1.status).toBe(200)
      expect(page1.json).toMatchObject({
        data: {
          totalItems: 3,
          totalPages: 2,
          content: [
            { jobName: 'list-alpha-job', config: { team: 'list team' } },
            { jobName: 'list-beta-job' }
          ]
        }
      })
      const page2 = await gql(api, query, { team: 'list team', page: 2, size: 2 })
      expect((page2.json as { data: { content: unknown[] } }).data.content).toEqual([
        expect.objectContaining({ jobName: 'list-gamma-job', deployments: null })
      ])
      const search = await gql(
        api,
        '{ jobs(pageNumber: 1, search: "beta") { content { jobName } } }'
      )
      expect(search.json).toEqual({ data: { content: [{ jobName: 'list-beta-job' }] } })
    })

    test('jobsQuery filters as the real service: config.team is a regular expression, other fields equal or a * wildcard', async () => {
      for (const [team, job] of [
        ['axb', 'regex-team-job'],
        ['a.b', 'dotted-team-job'],
        ['A(B', 'paren-team-job']
      ])
        await createJob(api, team, job)
      const names = async (property: string, pattern: string) => {
        const res = await gql(
          api,
          `query ($p: String!) { jobs(pageNumber: 1, pageSize: 100, filter: [{property: "${property}", pattern: $p}]) { content { jobName } } }`,
          { p: pattern }
        )
        return {
          status: res.status,
          json: res.json as { data?: { content: Array<{ jobName: string }> }; errors?: unknown[] }
        }
      }
      // '.' is any character: the team 'a.b' also finds 'axb' and 'A(B' (JobFieldStrategyByTeam)
      const dotted = await names('config.team', 'a.b')
      expect(dotted.json.data?.content.map(j => j.jobName).sort()).toEqual([
        'dotted-team-job',
        'paren-team-job',
        'regex-team-job'
      ])
      expect((await names('config.team', 'a%')).json.data?.content.map(j => j.jobName)).toEqual(
        expect.arrayContaining(['regex-team-job', 'dotted-team-job', 'paren-team-job'])
      )
      // a team name that is not a valid expression makes the whole query fail
      const broken = await names('config.team', 'a(b')
      expect(broken.status).toBe(400)
      expect(broken.json.data).toBeUndefined()
      expect(broken.json.errors).toEqual([
        expect.objectContaining({
          message: expect.stringContaining('not a valid regular expression')
        })
      ])
      // names: equal ignoring case, or a wildcard with * (FieldStrategy.checkMatch)
      expect((await names('jobName', 'REGEX-team-job')).json.data?.content).toEqual([
        { jobName: 'regex-team-job' }
      ])
      expect((await names('jobName', 'regex-team')).json.data?.content).toEqual([])
      expect(
        (await names('jobName', '*-team-j?b')).json.data?.content.map(j => j.jobName).sort()
      ).toEqual(['dotted-team-job', 'paren-team-job', 'regex-team-job'])
    })

    test('jobsQuery pages are 1-based: the default pageNumber 0 is a 400 with GraphQL errors', async () => {
      const res = await gql(api, '{ jobs { content { jobName } } }')
      expect(res.status).toBe(400)
      expect(res.json).toMatchObject({ errors: [{ message: expect.stringContaining('1-based') }] })
      const syntax = await gql(api, '{ jobs(pageNumber: 1) { content { nope } } }')
      expect(syntax.status).toBe(400)
      expect(syntax.json).toMatchObject({ errors: [{ message: expect.stringContaining('nope') }] })
      const unknown = await gql(
        api,
        '{ jobs(pageNumber: 1, filter: [{property: "colour", pattern: "x"}]) { content { jobName } } }'
      )
      expect(unknown.status).toBe(400)
      expect(unknown.json).toMatchObject({
        errors: [{ message: expect.stringContaining("unsupported filter property 'colour'") }]
      })
    })
  })

  describe('sources', () => {
    test('the same tree gives the same version whatever the zip looks like; new content a new version', async () => {
      await createJob(api, TEAM, 'sources-job')
      const v1 = await upload(api, TEAM, 'sources-job', await zipOf(jobFiles('sources-job')))
      // other top folder name, other timestamps, other entry order: same files → same version
      const reordered = Object.fromEntries(Object.entries(jobFiles('local-folder')).reverse())
      const v1again = await upload(
        api,
        TEAM,
        'sources-job',
        await zipOf(reordered, new Date('2020-01-01'))
      )
      expect(v1again).toBe(v1)
      const v2 = await upload(
        api,
        TEAM,
        'sources-job',
        await zipOf(jobFiles('sources-job', { 'extra.py': 'x = 1\n' }))
      )
      expect(v2).not.toBe(v1)
      // going back to the first tree is a new commit on the real service (git), so a new version
      const v3 = await upload(api, TEAM, 'sources-job', await zipOf(jobFiles('sources-job')))
      expect(new Set([v1, v2, v3]).size).toBe(3)
      // a fresh service answers the same first version for the same tree: versions derive from content
      const fresh = await service()
      await createJob(fresh.api, TEAM, 'sources-job')
      expect(
        await upload(fresh.api, TEAM, 'sources-job', await zipOf(jobFiles('sources-job')))
      ).toBe(v1)
    })

    test('download gives the stored tree as a zip whose single top folder is the job name', async () => {
      await createJob(api, TEAM, 'download-job')
      await upload(
        api,
        TEAM,
        'download-job',
        await zipOf(jobFiles('my-local-folder', { 'lib/util.py': 'y = 2\n' }))
      )
      const res = await api.call('GET', `${jobPath(TEAM, 'download-job')}/sources`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('application/octet-stream')
      const files = await unzip(res.buffer)
      expect(files).toEqual({
        'download-job/': '',
        'download-job/10_load.py': 'def run(job_input):\n    pass\n',
        'download-job/20_report.sql': 'SELECT 1;\n',
        'download-job/config.ini':
          '[owner]\nteam = data team\n\n[job]\nschedule_cron = 0 6 * * *\n',
        'download-job/lib/util.py': 'y = 2\n'
      })
    })

    test.each([
      [
        'not a zip at all',
        () => Promise.resolve(Buffer.from('this is not a zip')),
        'not a readable zip'
      ],
      [
        'a truncated zip',
        async () => (await zipOf(jobFiles('x'))).subarray(0, 60),
        'not a readable zip'
      ],
      [
        'two top folders',
        async () => zipOf({ ...jobFiles('one'), 'two/config.ini': '' }),
        'exactly one top-level folder'
      ],
      [
        'a file at the top level',
        async () => zipOf({ 'config.ini': '[owner]\n' }),
        'exactly one top-level folder'
      ],
      [
        'a folder and a loose file',
        async () => zipOf({ ...jobFiles('one'), 'README.md': '' }),
        'exactly one top-level folder'
      ],
      ['an empty zip', async () => zipOf({}), 'empty']
    ])('upload of %s is a 400 that says what is wrong', async (_label, make, expected) => {
      await createJob(api, TEAM, 'bad-zip-job').catch(() => undefined)
      const res = await api.call('POST', `${jobPath(TEAM, 'bad-zip-job')}/sources`, {
        body: await make(),
        headers: { 'Content-Type': 'application/octet-stream' },
        deviations: ['error-body']
      })
      expect(res.status).toBe(400)
      expect(res.json).toMatchObject({
        what: expect.stringContaining('bad-zip-job'),
        why: expect.stringContaining(expected),
        countermeasures: expect.stringContaining('one top-level folder')
      })
    })

    test('a zip entry escaping the folder (zip slip) is refused', async () => {
      await createJob(api, TEAM, 'zip-slip-job')
      const zip = await zipOf(jobFiles('zip-slip-job'))
      // yazl refuses to write "../" names, so patch a same-length name into the archive
      const evil = Buffer.from(
        zip
          .toString('latin1')
          .replaceAll('zip-slip-job/10_load.py', 'zip-slip-job/../load.py'.padEnd(23, 'x')),
        'latin1'
      )
      const res = await api.call('POST', `${jobPath(TEAM, 'zip-slip-job')}/sources`, {
        body: evil,
        headers: { 'Content-Type': 'application/octet-stream' },
        deviations: ['error-body']
      })
      expect(res.status).toBe(400)
      expect(res.json).toMatchObject({
        why: expect.stringMatching(/invalid relative path|corrupt/)
      })
    })

    test('upload to an unknown job is a 404 with an empty body; a JSON content type is a 415', async () => {
      const zip = await zipOf(jobFiles('nope'))
      const res = await api.call('POST', `${jobPath(TEAM, 'unknown-upload-job')}/sources`, {
        body: zip,
        headers: { 'Content-Type': 'application/octet-stream' },
        deviations: ['sources-404']
      })
      expect(res.status).toBe(404)
      expect(res.text).toBe('')
      await createJob(api, TEAM, 'json-upload-job')
      const json = await api.call('POST', `${jobPath(TEAM, 'json-upload-job')}/sources`, {
        json: {},
        invalidRequest: 'sources are octet-stream, not JSON',
        deviations: ['unsupported-415']
      })
      expect(json.status).toBe(415)
      expect(json.json).toMatchObject({
        countermeasures: expect.stringContaining('application/octet-stream')
      })
    })
  })

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

    test('logs grow line by line while it runs, honour tail_lines, are empty once it ends, and logs_url keeps them', async () => {
      await liveJob(api, 'log-lines-job')
      const lines = Array.from({ length: 8 }, (_, i) => `line ${i + 1}`)
      await admin(emu, 'POST', `jobs/${enc(TEAM)}/log-lines-job/next-execution`, {
        status: 'succeeded',
        seconds: 1.6,
        logs: lines
      })
      let id = ''
      await frozen(async clock => {
        id = await startExecution(api, TEAM, 'log-lines-job')
        const path = `${jobPath(TEAM, 'log-lines-job')}/executions/${enc(id)}/logs`
        const read = async (query = '') =>
          ((await api.call('GET', `${path}${query}`)).json as { logs: string }).logs
        // none while submitted; then one more line every 1.6 s / 8 = 0.2 s of its running time
        expect(await read()).toBe('')
        const e = execution('log-lines-job', id)
        for (let k = 0; k < 8; k++) {
          clock.advanceTo(e.running_at + k * 200)
          expect(await read()).toBe(lines.slice(0, k + 1).join('\n'))
          expect(await read('?tail_lines=2')).toBe(
            lines.slice(Math.max(0, k - 1), k + 1).join('\n')
          )
        }
        clock.advanceTo(e.end_at)
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

  describe('auth', () => {
    test('with --token, a request without it or with another token is a 401; with it, 200', async () => {
      const { api: secured } = await service({ tokens: ['good-token'] })
      const info = `${teamPath(TEAM)}/info`
      const none = await secured.call('GET', info, { deviations: ['unauthorized-401'] })
      expect(none.status).toBe(401)
      expect(none.text).toBe('')
      expect(none.headers.get('www-authenticate')).toBe('Bearer')
      const wrong = await secured.call('GET', info, {
        token: 'bad-token',
        deviations: ['unauthorized-401']
      })
      expect(wrong.status).toBe(401)
      expect(wrong.headers.get('www-authenticate')).toContain('invalid_token')
      expect((await secured.call('GET', info, { token: 'good-token' })).status).toBe(200)
    })

    test('the token endpoint exchanges an API token (form POST grant_type=refresh_token); expired tokens are refused', async () => {
      const { emu: e, api: secured } = await service({ apiTokens: ['my-api-token'] })
      const exchange = (form: string) =>
        fetch(`${e.url}/auth/token`, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            Accept: 'application/json'
          },
          body: form
        })
      const bad = await exchange('grant_type=refresh_token&refresh_token=wrong')
      expect(bad.status).toBe(400)
      expect(await bad.json()).toMatchObject({ error: 'invalid_grant' })
      const grant = await exchange('grant_type=password&username=x')
      expect(await grant.json()).toMatchObject({ error: 'unsupported_grant_type' })
      const ok = await exchange('grant_type=refresh_token&refresh_token=my-api-token')
      const body = (await ok.json()) as {
        access_token: string
        expires_in: number
        token_type: string
      }
      expect(body).toMatchObject({ token_type: 'bearer', expires_in: 3600 })
      expect(
        (await secured.call('GET', `${teamPath(TEAM)}/info`, { token: body.access_token })).status
      ).toBe(200)
      // the admin API asks for a token as the API does: here, the access token it then expires
      expect((await admin(e, 'POST', 'auth/expire')).status).toBe(401)
      expect((await admin(e, 'POST', 'auth/expire', undefined, body.access_token)).status).toBe(204)
      expect(
        (
          await secured.call('GET', `${teamPath(TEAM)}/info`, {
            token: body.access_token,
            deviations: ['unauthorized-401']
          })
        ).status
      ).toBe(401)
      const again = (await (
        await exchange('grant_type=refresh_token&refresh_token=my-api-token')
      ).json()) as { access_token: string }
      expect(
        (await secured.call('GET', `${teamPath(TEAM)}/info`, { token: again.access_token })).status
      ).toBe(200)
      expect(e.journal.filter(j => j.path === '/auth/token').map(j => j.status)).toEqual([
        400, 400, 200, 200
      ])
    })
  })

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

// ---- who may talk to the service, and how much it takes (issue 15 §6) ----------------------------

interface RawAnswer {
  status: number
  json: unknown
}

/** One request by node:http, which sends Host, Origin and bodies exactly as given. */
function raw(
  emu: Emulator,
  method: string,
  path: string,
  o: { headers?: Record<string, string>; body?: Buffer; chunks?: Buffer[] } = {}
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    // node:http frames a GET or DELETE body only when told its length
    const length = o.body ? { 'Content-Length': String(o.body.length) } : {}
    const headers = { ...length, ...o.headers }
    const req = request({ host: '127.0.0.1', port: emu.port, method, path, headers })
    req.on('error', reject)
    req.on('response', res => {
      const parts: Buffer[] = []
      res.on('data', (c: Buffer) => parts.push(c))
      res.on('end', () => {
        const text = Buffer.concat(parts).toString()
        resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as unknown) : '' })
      })
    })
    // several writes without a Content-Length: a chunked body
    for (const c of o.chunks ?? []) req.write(c)
    req.end(o.body)
  })
}

/** Bytes in the files under `dir`. */
function diskUse(dir: string): number {
  let sum = 0
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile())
      sum += statSync(join(e.parentPath, e.name), { throwIfNoEntry: false })?.size ?? 0
  }
  return sum
}

const MiB = 1024 * 1024

/**
 * A zip of one file, `job/zeros.sql`, of `mib` MiB of zeros, deflated by zlib: one full-flush
 * segment of 1 MiB repeated (each starts afresh, so they can follow each other), then an empty
 * final block. Its headers say it inflates to `claimedBytes` (default: the truth).
 */
function zerosZip(job: string, mib: number, claimedBytes = mib * MiB): Buffer {
  const chunk = Buffer.alloc(MiB)
  const segment = deflateRawSync(chunk, { level: 9, finishFlush: zlibConstants.Z_FULL_FLUSH })
  const data = Buffer.concat([...Array<Buffer>(mib).fill(segment), Buffer.from([0x03, 0x00])])
  let crc = 0
  for (let i = 0; i < mib; i++) crc = crc32(chunk, crc)
  const name = Buffer.from(`${job}/zeros.sql`)
  const header = (central: boolean): Buffer => {
    const h = Buffer.alloc(central ? 46 : 30)
    let at = h.writeUInt32LE(central ? 0x02014b50 : 0x04034b50, 0)
    if (central) at = h.writeUInt16LE(0x0314, at) // made by: unix, zip 2.0
    at = h.writeUInt16LE(20, at) // version needed
    at = h.writeUInt16LE(0, at) // flags
    at = h.writeUInt16LE(8, at) // deflate
    at = h.writeUInt32LE(0x00210000, at) // time 00:00, date 1980-01-01
    at = h.writeUInt32LE(crc, at)
    at = h.writeUInt32LE(data.length, at)
    at = h.writeUInt32LE(claimedBytes, at)
    at = h.writeUInt16LE(name.length, at)
    at = h.writeUInt16LE(0, at) // extra field
    if (central) {
      at = h.writeUInt16LE(0, at) // comment
      at = h.writeUInt16LE(0, at) // disk
      at = h.writeUInt16LE(0, at) // internal attributes
      at = h.writeUInt32LE(0o100644 * 0x10000, at) // external: a regular file, rw-r--r--
      h.writeUInt32LE(0, at) // where its local header is
    }
    return h
  }
  const local = Buffer.concat([header(false), name, data])
  const central = Buffer.concat([header(true), name])
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(1, 8)
  end.writeUInt16LE(1, 10)
  end.writeUInt32LE(central.length, 12)
  end.writeUInt32LE(local.length, 16)
  return Buffer.concat([local, central, end])
}

/** How many bytes the zip's one file really inflates to (counted, not kept). */
async function inflatedSize(zip: Buffer): Promise<number> {
  const z = await yauzl.fromBufferPromise(zip, { lazyEntries: true, validateEntrySizes: false })
  const entry = await new Promise<yauzl.Entry>((resolve, reject) => {
    z.once('entry', resolve)
    z.once('error', reject)
    z.readEntry()
  })
  let n = 0
  for await (const c of await z.openReadStreamPromise(entry)) n += (c as Buffer).length
  z.close()
  return n
}

describe('local Control Service: who may talk to it, and how much it takes', () => {
  const TOKEN = 'admin-guard-token'
  const auth = { Authorization: `Bearer ${TOKEN}` }
  const dirs: string[] = []
  const started: Emulator[] = []
  async function guarded(options: EmulatorOptions = {}): Promise<{ emu: Emulator; dir: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'emu-guard-'))
    dirs.push(dir)
    const emu = await startEmulator({ ...FAST, tokens: [TOKEN], dataDir: dir, ...options })
    started.push(emu)
    return { emu, dir }
  }
  afterAll(async () => {
    await Promise.all(started.map(e => e.close()))
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })
  const json = { ...auth, 'Content-Type': 'application/json' }
  const zipType = { ...auth, 'Content-Type': 'application/octet-stream' }
  const newJob = async (emu: Emulator, job: string): Promise<void> => {
    const body = Buffer.from(JSON.stringify({ job_name: job, team: TEAM, config: {} }))
    expect((await raw(emu, 'POST', `${teamPath(TEAM)}/jobs`, { headers: json, body })).status).toBe(
      201
    )
  }

  test('with --token, the admin API asks for it as the API does: without it nothing is reset, scripted or read', async () => {
    const { emu } = await guarded()
    await newJob(emu, 'kept-job')
    for (const [method, path] of [
      ['POST', '/_emulator/reset'],
      ['POST', '/_emulator/faults'],
      ['GET', '/_emulator/journal'],
      ['GET', '/_emulator/config'],
      ['DELETE', '/_emulator/journal']
    ]) {
      const headers = { 'Content-Type': 'application/json' }
      const body = Buffer.from(method === 'POST' ? '{"path": ".", "status": 503}' : '')
      expect((await raw(emu, method, path, { headers, body })).status).toBe(401)
      const wrong = { ...headers, Authorization: 'Bearer not-it' }
      expect((await raw(emu, method, path, { headers: wrong, body })).status).toBe(401)
    }
    expect(emu.state.jobs['kept-job']).toBeDefined()
    expect((await raw(emu, 'GET', '/_emulator/faults', { headers: auth })).json).toEqual([])
    expect((await raw(emu, 'POST', '/_emulator/reset', { headers: json })).status).toBe(204)
    expect(emu.state.jobs['kept-job']).toBeUndefined()
  })

  test('a request whose Host does not name the service is refused before it reaches it (DNS rebinding)', async () => {
    const { emu } = await guarded({ allowedHosts: ['vdk-emulator.internal'] })
    await newJob(emu, 'rebind-job')
    const port = `:${emu.port}`
    for (const host of ['attacker.example' + port, 'attacker.example', '127.0.0.1.nip.io' + port]) {
      for (const [method, path] of [
        ['POST', '/_emulator/reset'],
        ['GET', `${jobPath(TEAM, 'rebind-job')}`],
        ['DELETE', `${jobPath(TEAM, 'rebind-job')}`]
      ]) {
        const res = await raw(emu, method, path, {
          headers: { ...json, Host: host },
          body: Buffer.from('{}')
        })
        expect(res.status).toBe(403)
        expect(res.json).toMatchObject({
          what: `The request's Host header ${JSON.stringify(host)} does not name this service.`,
          countermeasures: expect.stringContaining('--allow-host')
        })
      }
    }
    expect(emu.state.jobs['rebind-job']).toBeDefined()
    // a refused request never reached the service: not in its journal either
    expect(emu.journal.filter(j => j.status === 403)).toEqual([])
    for (const host of [
      `127.0.0.1${port}`,
      `localhost${port}`,
      `LOCALHOST.${port}`,
      `[::1]${port}`,
      '127.1.2.3',
      `vdk-emulator.internal${port}`
    ]) {
      const res = await raw(emu, 'GET', `${jobPath(TEAM, 'rebind-job')}`, {
        headers: { ...auth, Host: host }
      })
      expect([host, res.status]).toEqual([host, 200])
    }
  })

  test('a web page cannot drive it: a foreign Origin is refused, and admin POSTs need a JSON content type (no form can send one)', async () => {
    const { emu } = await guarded({ tokens: [] })
    await newJob(emu, 'origin-job')
    for (const origin of [
      'https://attacker.example',
      'null',
      'http://127.0.0.1.attacker.example'
    ]) {
      for (const [method, path] of [
        ['POST', '/_emulator/reset'],
        ['GET', `${jobPath(TEAM, 'origin-job')}`]
      ]) {
        const res = await raw(emu, method, path, { headers: { ...json, Origin: origin } })
        expect([origin, path, res.status]).toEqual([origin, path, 403])
        expect(res.json).toMatchObject({ what: expect.stringContaining(JSON.stringify(origin)) })
      }
    }
    // what a form can send, and nothing at all
    for (const type of [
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'text/plain',
      undefined
    ]) {
      const headers: Record<string, string> = type ? { 'Content-Type': type } : {}
      const res = await raw(emu, 'POST', '/_emulator/reset', { headers, body: Buffer.from('{}') })
      expect([type, res.status]).toEqual([type, 415])
      expect(res.json).toEqual({ error: expect.stringContaining('Content-Type: application/json') })
    }
    expect(emu.state.jobs['origin-job']).toBeDefined()
    // a page served from loopback (a local tool's UI) may
    const local = { 'Content-Type': 'application/json', Origin: `http://localhost:3000` }
    expect((await raw(emu, 'GET', '/_emulator/health', { headers: local })).status).toBe(200)
    expect((await raw(emu, 'POST', '/_emulator/reset', { headers: local })).status).toBe(204)
  })

  test('a body over --max-upload-bytes is a 413 the client reads (Content-Length or chunked), and nothing of it is kept', async () => {
    const { emu, dir } = await guarded({ maxUploadBytes: MiB })
    await newJob(emu, 'big-body-job')
    const path = `${jobPath(TEAM, 'big-body-job')}/sources`
    const over = Buffer.alloc(MiB + 64 * 1024, 7)
    const declared = await raw(emu, 'POST', path, { headers: zipType, body: over })
    const chunked = await raw(emu, 'POST', path, {
      headers: zipType,
      chunks: [over.subarray(0, MiB / 2), over.subarray(MiB / 2)]
    })
    for (const res of [declared, chunked]) {
      expect(res).toEqual({
        status: 413,
        json: {
          what: "The sources of data job 'big-body-job' were not uploaded.",
          why: `The upload is too large: the zip archive is larger than ${MiB} bytes (--max-upload-bytes).`,
          consequences: 'The job keeps its previous version.',
          countermeasures: expect.stringContaining('higher limit')
        }
      })
    }
    expect(readdirSync(join(dir, 'sources', 'tmp'))).toEqual([])
    expect(readdirSync(join(dir, 'sources', 'blobs'))).toEqual([])
    // JSON bodies have their cap too (secrets: 1 MiB), told by Content-Length before they are read
    const secrets = `${jobPath(TEAM, 'big-body-job')}/deployments/x/secrets`
    expect((await raw(emu, 'PUT', secrets, { headers: json, body: over })).status).toBe(413)
    // the connection and the service go on: an upload within the cap is stored
    const ok = await raw(emu, 'POST', path, {
      headers: zipType,
      body: await zipOf(jobFiles('big-body-job'))
    })
    expect(ok).toEqual({
      status: 200,
      json: { version_sha: expect.stringMatching(/^[0-9a-f]{40}$/) }
    })
  })

  test('a zip bomb (300 KB inflating to 300 MiB) is refused from its central directory, before a byte is inflated: the data dir stays small', async () => {
    const bomb = zerosZip('bomb-job', 300)
    expect(bomb.length).toBeLessThan(400 * 1024)
    expect(await inflatedSize(bomb)).toBe(300 * MiB)
    const { emu, dir } = await guarded()
    await newJob(emu, 'bomb-job')
    const before = diskUse(dir)
    // what the data dir holds while the service works on the upload, each time the test looks
    let peak = before
    const look = setInterval(() => (peak = Math.max(peak, diskUse(dir))), 1)
    let res: RawAnswer
    try {
      res = await raw(emu, 'POST', `${jobPath(TEAM, 'bomb-job')}/sources`, {
        headers: zipType,
        body: bomb
      })
    } finally {
      clearInterval(look)
    }
    expect(res.status).toBe(413)
    expect(res.json).toMatchObject({
      why: `The upload is too large: its files inflate to more than ${64 * MiB} bytes, over 100 times the ${bomb.length} bytes of the zip (--max-inflate-ratio): a zip bomb.`
    })
    expect(peak).toBeLessThan(before + bomb.length + 64 * 1024)
    expect(diskUse(dir) - before).toBeLessThan(64 * 1024)
    expect(readdirSync(join(dir, 'sources', 'blobs'))).toEqual([])
    expect(emu.state.jobs['bomb-job'].versions).toEqual([])
  })

  test('a zip that understates its size is cut off where its headers said; the limits on files and entries hold', async () => {
    const { emu, dir } = await guarded({ maxSourcesBytes: 3 * MiB, maxSourcesEntries: 4 })
    await newJob(emu, 'liar-job')
    const path = `${jobPath(TEAM, 'liar-job')}/sources`
    // says 1 MiB, inflates to 50 MiB: yauzl stops it at the 1 MiB it declared
    const liar = zerosZip('liar-job', 50, MiB)
    const cut = await raw(emu, 'POST', path, { headers: zipType, body: liar })
    expect(cut.status).toBe(400)
    expect(cut.json).toMatchObject({ why: expect.stringContaining('too many bytes in the stream') })
    expect(readdirSync(join(dir, 'sources', 'tmp'))).toEqual([])
    expect(diskUse(join(dir, 'sources'))).toBe(0)
    const honest = zerosZip('liar-job', 4)
    const over = await raw(emu, 'POST', path, { headers: zipType, body: honest })
    expect(over.status).toBe(413)
    expect(over.json).toMatchObject({
      why: `The upload is too large: its files inflate to more than ${3 * MiB} bytes (--max-sources-bytes).`
    })
    const files = Object.fromEntries(
      Array.from({ length: 5 }, (_, i) => [`liar-job/f${i}.sql`, 'SELECT 1;\n'])
    )
    const many = await raw(emu, 'POST', path, { headers: zipType, body: await zipOf(files) })
    expect(many.status).toBe(413)
    expect(many.json).toMatchObject({
      why: 'The upload is too large: the zip archive holds 5 entries, more than 4 (--max-sources-entries).'
    })
    expect(diskUse(join(dir, 'sources'))).toBe(0)
    expect((await raw(emu, 'GET', '/_emulator/config', { headers: auth })).json).toMatchObject({
      max_upload_bytes: 5 * 1024 * MiB,
      max_sources_bytes: 3 * MiB,
      max_sources_entries: 4,
      max_inflate_ratio: 100
    })
  })
})
