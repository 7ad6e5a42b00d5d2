// The local Control Service's data jobs over loopback (src/emulator/api/jobs.ts): info, create,
// read, update, delete, the team change and the GraphQL jobs query. Every official call goes
// through the contract-checked Api (request and response validated against
// ../shared/reference/vdk-datajob-api.yaml); where the real service differs from its spec, the
// call names the difference.
import { QUERIES } from '../../src/core/queries.js'
import type { Api } from '../helpers/api.js'
import { closeServices, describeIfSpec, gql, service, TEAM } from '../helpers/emulator-api.js'
import { createJob, jobPath, teamPath } from '../helpers/fixtures.js'

describeIfSpec('local Control Service, official API', () => {
  let api: Api
  beforeAll(async () => {
    ;({ api } = await service())
  })
  afterAll(closeServices)

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
})
