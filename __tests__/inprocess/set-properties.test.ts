// set-properties in process (no build): properties and secrets written to the local Control
// Service in this process, and what the outputs and the log say (never a secret's value).
import { startEmulator, type Emulator } from '../../src/emulator/server.js'
import { runInProcess } from '../helpers/inprocess.js'
import { LocalService } from '../helpers/local-service.js'

const TOKEN = 'inprocess-props-token-77b3'
const TEAM = 'props team'
const SECRET = 'inprocess-secret-value-e5d1'
let emu: Emulator
let svc: LocalService

const setProperties = (inputs: Record<string, string>) =>
  runInProcess('set-properties', {
    'control-service-url': emu.url,
    'access-token': TOKEN,
    team: TEAM,
    ...inputs
  })

const read = async (job: string, what: 'properties' | 'secrets'): Promise<unknown> =>
  (await svc.call('GET', `${svc.jobPath(job)}/deployments/TODO/${what}`)).json()

beforeAll(async () => {
  emu = await startEmulator({ tokens: [TOKEN], frozenClock: true })
  svc = new LocalService(emu, TEAM, TOKEN)
  const created = await svc.call('POST', `/data-jobs/for-team/${encodeURIComponent(TEAM)}/jobs`, {
    job_name: 'inproc-props-job',
    team: TEAM,
    config: {}
  })
  expect(created.status).toBe(201)
})
afterAll(() => emu.close())

test('merges properties and writes secrets; the outputs name the keys, the log no value', async () => {
  const job = 'inproc-props-job'
  const r = await setProperties({
    'job-name': job,
    properties: 'rows: 100\nregion: eu',
    secrets: `warehouse_password: "${SECRET}"`
  })
  expect(r.failure).toBeUndefined()
  expect(await read(job, 'properties')).toEqual({ rows: 100, region: 'eu' })
  expect(await read(job, 'secrets')).toEqual({ warehouse_password: SECRET })
  expect(JSON.parse(r.outputs['changed-keys'])).toEqual(expect.arrayContaining(['rows', 'region']))
  expect(r.masked).toContain(SECRET)
  expect(JSON.stringify([r.lines, r.outputs, r.summary])).not.toContain(SECRET)
})

test('a bad input is refused in one line before any request', async () => {
  emu.journal.splice(0)
  const r = await setProperties({
    'job-name': 'inproc-props-job',
    properties: 'a: 1',
    mode: 'upsert'
  })
  expect(r.reason).toBe("mode must be merge or replace, not 'upsert'")
  expect(emu.journal).toEqual([])
})
