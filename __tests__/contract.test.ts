// Tests of the contract helpers themselves (helpers/contract.ts, helpers/api.ts), not of the
// emulator's features: the spec loads, requests and responses are checked, and Api.call fails on
// a violation no deviation explains and on a deviation name the response does not show.
import yazl from 'yazl'
import { startEmulator, type Emulator } from '../src/emulator/server.js'
import { Api, DEVIATIONS, type DeviationId } from './helpers/api.js'
import { Contract, SPEC_PATH, specAvailable, violationKind } from './helpers/contract.js'

const TEAM = 'Example Team'
const T = `/data-jobs/for-team/${encodeURIComponent(TEAM)}`

function zipOf(files: Record<string, string>): Promise<Buffer> {
  const zip = new yazl.ZipFile()
  for (const [name, content] of Object.entries(files)) zip.addBuffer(Buffer.from(content), name)
  zip.end()
  const chunks: Buffer[] = []
  return new Promise((resolve, reject) => {
    zip.outputStream
      .on('data', (c: Buffer) => chunks.push(c))
      .on('end', () => resolve(Buffer.concat(chunks)))
      .on('error', reject)
  })
}

if (!specAvailable()) {
  console.warn(`contract.test.ts skipped: the OpenAPI spec is not at ${SPEC_PATH}`)
}
const describeWithSpec = specAvailable() ? describe : describe.skip

describeWithSpec('Contract (the OpenAPI spec as a checker)', () => {
  let contract: Contract
  beforeAll(async () => {
    contract = await Contract.load()
  })

  test('loads the spec although it is not strictly valid OpenAPI 3.0', () => {
    expect(contract.operationIds()).toHaveLength(30)
    expect(contract.operationIds()).toEqual(
      expect.arrayContaining(['info', 'dataJobCreate', 'sourcesUpload', 'dataJobExecutionStart'])
    )
    // the known problem: a $ref with sibling keys under DataJobConfig
    expect(contract.specProblems().join('\n')).toMatch(/\/components\/schemas\/DataJobConfig/)
  })

  test('finds operations for percent-encoded paths with spaces in the team name', () => {
    expect(contract.operationFor('GET', `${T}/info`)).toBe('info')
    expect(contract.operationFor('get', `${T}/jobs?query=%7Bjobs%7D`)).toBe('jobsQuery')
    expect(contract.operationFor('PUT', `${T}/jobs/my-job`)).toBe('dataJobUpdate')
    expect(
      contract.operationFor('POST', `${T}/jobs/my-job/deployments/production/executions`)
    ).toBe('dataJobExecutionStart')
    expect(contract.operationFor('GET', `${T}/jobs/my-job/executions`)).toBe('dataJobExecutionList')
    expect(
      contract.operationFor('GET', `${T}/jobs/my-job/executions/my-job-1%202/logs?tail_lines=5`)
    ).toBe('dataJobLogsDownload')
    expect(contract.operationFor('PATCH', `${T}/jobs/my-job`)).toBeUndefined()
    expect(contract.operationFor('GET', `${T}/nothing-here`)).toBeUndefined()
    expect(contract.operationFor('GET', `${T}/info/`)).toBeUndefined()
    expect(contract.validateRequest({ method: 'GET', path: `${T}/info`, headers: {} })).toEqual([])
  })

  test('flags request bodies, parameters and content types that break the spec', () => {
    const deploy = `${T}/jobs/my-job/deployments`
    const json = { 'content-type': 'application/json' }
    const bad = contract.validateRequest({
      method: 'POST',
      path: deploy,
      headers: json,
      body: { job_version: 123, mode: 'bogus' }
    })
    expect(bad).toEqual([
      'request body: /job_version must be string',
      'request body: /mode must be equal to one of the allowed values ("testing", "release")'
    ])
    // the same as raw JSON text
    expect(
      contract.validateRequest({
        method: 'POST',
        path: deploy,
        headers: json,
        body: '{"job_version": 123}'
      })
    ).toEqual(['request body: /job_version must be string'])
    expect(
      contract.validateRequest({
        method: 'POST',
        path: deploy,
        headers: json,
        body: '{"job_version": '
      })[0]
    ).toMatch(/^invalid JSON: /)
    expect(
      contract.validateRequest({
        method: 'POST',
        path: deploy,
        headers: json,
        body: { job_version: 'abc' }
      })
    ).toEqual([])
    expect(
      contract.validateRequest({
        method: 'POST',
        path: `${deploy}?send_notification=maybe&x=1`,
        headers: {}
      })
    ).toEqual([
      "query: unknown parameter 'x'",
      'query parameter: send_notification must be boolean'
    ])
    expect(
      contract.validateRequest({
        method: 'GET',
        path: `${T}/jobs/j/executions?execution_status=a&execution_status=b`,
        headers: {}
      })
    ).toEqual([])
    expect(contract.validateRequest({ method: 'POST', path: `${T}/jobs`, headers: json })).toEqual([
      'missing body: dataJobCreate requires a request body (application/json)'
    ])
    expect(
      contract.validateRequest({
        method: 'POST',
        path: `${T}/jobs`,
        headers: { 'content-type': 'text/plain' },
        body: '{}'
      })
    ).toEqual(["content type: dataJobCreate does not accept 'text/plain' (spec: application/json)"])
    expect(
      contract.validateRequest({ method: 'GET', path: `${T}/info`, headers: json, body: {} })[0]
    ).toMatch(/^unexpected body: info takes no request body/)
    expect(
      contract.validateRequest({
        method: 'GET',
        path: '/data-jobs/for-team/Example Team/info',
        headers: {}
      })
    ).toEqual(["path: '/data-jobs/for-team/Example Team/info' is not percent-encoded"])
    expect(
      contract.validateRequest({ method: 'PATCH', path: `${T}/jobs/my-job`, headers: {} })
    ).toEqual([
      `no operation: the spec has no PATCH ${T}/jobs/my-job (the path allows GET, PUT, DELETE)`
    ])

    // the raw zip upload: only the content type and a non-empty body are checked
    const sources = `${T}/jobs/my-job/sources?reason=ci`
    const octet = { 'content-type': 'application/octet-stream' }
    expect(
      contract.validateRequest({
        method: 'POST',
        path: sources,
        headers: octet,
        body: Buffer.from('PK')
      })
    ).toEqual([])
    expect(
      contract.validateRequest({
        method: 'POST',
        path: sources,
        headers: octet,
        body: Buffer.alloc(0)
      })
    ).toEqual(['missing body: sourcesUpload requires a request body (application/octet-stream)'])
    expect(
      contract.validateRequest({
        method: 'POST',
        path: sources,
        headers: { 'content-type': 'application/zip' },
        body: Buffer.from('PK')
      })
    ).toEqual([
      "content type: sourcesUpload does not accept 'application/zip' (spec: application/octet-stream)"
    ])
  })

  test('flags response bodies, statuses and content types that break the spec', () => {
    const json = 'application/json'
    expect(
      contract.validateResponse(
        'info',
        200,
        { api_version: 'x', supported_python_versions: ['3.9'] },
        json
      )
    ).toEqual([])
    expect(contract.validateResponse('info', 200, { api_version: 'x' }, json)).toEqual([
      "body schema: info 200 (root) must have required property 'supported_python_versions'"
    ])
    expect(contract.validateResponse('dataJobUpdate', 200, undefined)).toEqual([
      'undocumented status: dataJobUpdate answered 200; the spec lists 201, 204, 400, 404'
    ])
    expect(contract.validateResponse('dataJobUpdate', 204, undefined)).toEqual([])
    expect(contract.validateResponse('dataJobRead', 404, undefined)).toEqual([
      'missing body: dataJobRead 404 has an empty body; the spec documents application/json for 404'
    ])
    expect(contract.validateResponse('dataJobCreate', 201, { id: 1 }, json)[0]).toMatch(
      /^unexpected body: /
    )
    expect(
      contract.validateResponse('dataJobRead', 404, { messages: ['not found'] }, json)
    ).toEqual([])
    expect(
      contract.validateResponse(
        'dataJobRead',
        404,
        { what: 'w', why: 'y', consequences: 'c', countermeasures: 'c' },
        json
      )
    ).toEqual(["body schema: dataJobRead 404 (root) must have required property 'messages'"])
    expect(
      contract.validateResponse(
        'dataJobExecutionRead',
        200,
        { id: 'x', status: 'done', start_time: 'yesterday' },
        json
      )
    ).toEqual([
      'body schema: dataJobExecutionRead 200 /status must be equal to one of the allowed values ("submitted", "running", "succeeded", "cancelled", "skipped", "user_error", "platform_error")',
      'body schema: dataJobExecutionRead 200 /start_time must match format "date-time"'
    ])
    const zip = Buffer.from('PK\u0003\u0004')
    expect(
      contract.validateResponse('dataJobSourcesDownload', 200, zip, 'application/octet-stream')
    ).toEqual([])
    expect(
      contract.validateResponse('dataJobSourcesDownload', 200, zip, 'application/zip')
    ).toEqual([
      "content type: dataJobSourcesDownload 200 answered 'application/zip'; the spec documents application/octet-stream"
    ])
    expect(contract.validateResponse('dataJobSourcesDownload', 200, undefined)[0]).toMatch(
      /^missing body: /
    )
    expect(() => contract.validateResponse('noSuchOperation', 200, undefined)).toThrow(
      /no operation 'noSuchOperation'/
    )
  })

  test('exposes the security requirement instead of checking it', () => {
    for (const op of contract.operationIds()) expect(contract.securityRequired(op)).toBe(true)
    // a request without Authorization is still valid for the contract: auth is tested separately
    expect(contract.validateRequest({ method: 'GET', path: `${T}/info`, headers: {} })).toEqual([])
  })

  test('every deviation is narrow: it explains only its own kind of violation', () => {
    const problem = { what: 'w', why: 'y', consequences: 'c', countermeasures: 'c' }
    const schemaViolation = [
      "body schema: dataJobRead 404 (root) must have required property 'messages'"
    ]
    const explaining = (
      op: string | undefined,
      status: number,
      body: unknown,
      violations: string[]
    ) =>
      (Object.keys(DEVIATIONS) as DeviationId[]).filter(id =>
        DEVIATIONS[id].applies(op, status, body, violations)
      )
    expect(explaining('dataJobRead', 404, problem, schemaViolation)).toEqual(['error-body'])
    expect(
      explaining('dataJobRead', 404, undefined, ['missing body: dataJobRead 404 has an empty body'])
    ).toEqual(['empty-404'])
    // an empty 404 of an operation whose 404 carries an error body in the real service
    expect(explaining('dataJobExecutionRead', 404, undefined, ['missing body: x'])).toEqual([])
    expect(explaining('dataJobUpdate', 200, undefined, ['undocumented status: x'])).toEqual([
      'update-200'
    ])
    expect(explaining('deploymentUpdate', 200, undefined, ['undocumented status: x'])).toEqual([])
    expect(explaining('dataJobUpdate', 200, { a: 1 }, ['undocumented status: x'])).toEqual([])
    expect(
      explaining('info', 200, { api_version: 'x' }, [
        "body schema: info 200 (root) must have required property 'x'"
      ])
    ).toEqual([])
    expect(
      explaining(
        'dataJobExecutionList',
        404,
        { ...problem, what: 'Unknown execution status x.' },
        schemaViolation
      )
    ).toEqual(['error-body', 'status-404'])
    for (const [id, d] of Object.entries(DEVIATIONS)) {
      expect(`${id}: ${d.why}`).toMatch(/\S{10,}/)
      expect(violationKind('undocumented status: x')).toBe('undocumented status')
    }
  })
})

describeWithSpec('Api (calls checked against the spec, on a real local Control Service)', () => {
  let emulator: Emulator
  let secured: Emulator
  let api: Api
  let securedApi: Api
  const JOB = 'contract-job'
  const J = `${T}/jobs/${JOB}`

  beforeAll(async () => {
    const contract = await Contract.load()
    emulator = await startEmulator({
      port: 0,
      executionSeconds: 0.5,
      submitSeconds: 0.1,
      deploymentSeconds: 0.2
    })
    secured = await startEmulator({ port: 0, tokens: ['s3cret'] })
    api = new Api(emulator.url, contract)
    securedApi = new Api(secured.url, contract)
  })
  afterAll(async () => {
    await emulator?.close()
    await secured?.close()
  })

  test('a call that keeps to the spec passes and is logged', async () => {
    const res = await api.call('GET', `${T}/info`)
    expect(res.status).toBe(200)
    expect(res.operationId).toBe('info')
    const info = res.json as { supported_python_versions?: unknown }
    expect(Array.isArray(info.supported_python_versions)).toBe(true)
    expect(api.log.at(-1)).toEqual({
      operationId: 'info',
      method: 'GET',
      path: `${T}/info`,
      status: 200,
      deviations: []
    })

    const created = await api.call('POST', `${T}/jobs?name=${JOB}`, {
      json: { job_name: JOB, team: TEAM, description: '', config: { schedule: {} } }
    })
    expect(created.status).toBe(201)
    const read = await api.call('GET', J)
    expect(read.json).toEqual(expect.objectContaining({ job_name: JOB, team: TEAM }))
  })

  test('throws on a violation that no named deviation explains, and names the deviation that would', async () => {
    const update = { job_name: JOB, team: TEAM, description: 'd', config: {} }
    await expect(api.call('PUT', J, { json: update })).rejects.toThrow(
      /undocumented status: dataJobUpdate answered 200[\s\S]*would explain this: update-200/
    )
    expect(api.log.at(-1)).toEqual(
      expect.objectContaining({ operationId: 'dataJobUpdate', status: 200, deviations: [] })
    )
    const res = await api.call('PUT', J, { json: update, deviations: ['update-200'] })
    expect(res.status).toBe(200)
    expect(res.violations.response).toHaveLength(1)
    expect(api.log.at(-1)?.deviations).toEqual(['update-200'])

    await expect(api.call('GET', `${T}/jobs/no-such-job`)).rejects.toThrow(
      /missing body: dataJobRead 404[\s\S]*empty-404/
    )
    expect(
      (await api.call('GET', `${T}/jobs/no-such-job`, { deviations: ['empty-404'] })).status
    ).toBe(404)
  })

  test('throws on a deviation name that the response does not show', async () => {
    await expect(api.call('GET', `${T}/info`, { deviations: ['update-200'] })).rejects.toThrow(
      /names deviation update-200, but the 200 response shows it nowhere \(it has no violation\)/
    )
    // a real violation, but of another kind than the one named: both are reported
    await expect(
      api.call('GET', `${T}/jobs/no-such-job`, { deviations: ['error-body'] })
    ).rejects.toThrow(
      /violates the spec beyond the named deviations \(error-body\)[\s\S]*names deviation error-body, but the 404 response shows it nowhere/
    )
  })

  test('checks the request before sending it; invalidRequest makes its violations expected', async () => {
    const before = emulator.journal.length
    const bogus = { job_version: 123, mode: 'bogus' }
    await expect(api.call('POST', `${J}/deployments`, { json: bogus })).rejects.toThrow(
      /the request violates the spec \(not sent\):\n {2}- request body: \/job_version must be string/
    )
    await expect(
      api.call('POST', `${J}/deployments`, {
        json: { job_version: 'abc' },
        invalidRequest: 'a stale claim'
      })
    ).rejects.toThrow(
      /the request is valid for the spec, but the call claims it is not \("a stale claim"\)/
    )
    expect(emulator.journal.length).toBe(before)

    const res = await api.call('POST', `${J}/deployments`, {
      json: bogus,
      invalidRequest: 'job_version is a number and mode is unknown',
      deviations: ['error-body']
    })
    expect(res.status).toBe(400)
    expect(res.violations.request).toHaveLength(2)
    expect(emulator.journal.length).toBe(before + 1)

    const patch = await api.call('PATCH', J, {
      json: {},
      invalidRequest: 'PATCH is no method of a job',
      deviations: ['method-405']
    })
    expect(patch.status).toBe(405)
    expect(patch.operationId).toBeUndefined()
  })

  test('handles the raw zip upload and the zip download', async () => {
    const zip = await zipOf({ 'contract-job/config.ini': '[owner]\nteam = Example Team\n' })
    const up = await api.call('POST', `${J}/sources?reason=contract%20test`, {
      body: zip,
      headers: { 'Content-Type': 'application/octet-stream' }
    })
    expect((up.json as { version_sha?: unknown }).version_sha).toMatch(/^[0-9a-f]{40}$/)
    const down = await api.call('GET', `${J}/sources`)
    expect(down.headers.get('content-type')).toBe('application/octet-stream')
    expect(down.buffer.subarray(0, 2).toString('latin1')).toBe('PK')
    expect(down.json).toBeUndefined()

    await expect(
      api.call('POST', `${J}/sources`, {
        body: 'not a zip',
        invalidRequest: 'a text body',
        deviations: ['unsupported-415']
      })
    ).resolves.toEqual(expect.objectContaining({ status: 415 }))
  })

  test('ignores auth in request checks but explains the 401 of a secured service', async () => {
    await expect(securedApi.call('GET', `${T}/info`)).rejects.toThrow(
      /undocumented status: info answered 401[\s\S]*unauthorized-401/
    )
    const denied = await securedApi.call('GET', `${T}/info`, { deviations: ['unauthorized-401'] })
    expect(denied.headers.get('www-authenticate')).toMatch(/^Bearer/)
    expect((await securedApi.call('GET', `${T}/info`, { token: 's3cret' })).status).toBe(200)
  })
})
