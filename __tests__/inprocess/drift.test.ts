// drift in process (no build): a repository whose jobs drifted on the local Control Service in
// every way drift knows (helpers/drift-bed.ts), and one that did not. The journal proves drift
// only reads: GET requests, the GraphQL jobs query among them.
import { DEPLOYER, driftInputs, startDriftBed, type DriftBed } from '../helpers/drift-bed.js'
import { runInProcess } from '../helpers/inprocess.js'

let bed: DriftBed

interface DriftJson {
  teams: string[]
  jobs: Array<{
    name: string
    path: string | null
    drift: boolean
    findings: Array<{
      kind: string
      field: string | null
      service: string | null
      repository: string | null
    }>
    notes: string[]
  }>
}

const drift = (workspace: string, inputs: Record<string, string> = {}) =>
  runInProcess('drift', driftInputs(bed, inputs), { workspace })

beforeAll(async () => {
  bed = await startDriftBed()
})
afterAll(() => bed.close())

test('every kind of drift, each job on its own, read with GETs only', async () => {
  bed.emu.journal.splice(0)
  const r = await drift(bed.drifted, { 'properties-file': 'properties.yaml' })
  expect(r.failure).toBeUndefined()
  expect(r.outputs['has-drift']).toBe('true')
  const out = JSON.parse(r.outputs.drift) as DriftJson
  expect(out.teams).toEqual(['drift team'])
  const kinds = Object.fromEntries(out.jobs.map(j => [j.name, j.findings]))
  expect(kinds).toEqual({
    'by-hand-drift-job': [
      { kind: 'deployed by', field: null, service: 'jane@example.com', repository: DEPLOYER }
    ],
    'config-drift-job': [
      { kind: 'config', field: 'schedule_cron', service: '0 9 * * *', repository: '0 6 * * *' }
    ],
    'disabled-drift-job': [{ kind: 'disabled', field: null, service: null, repository: null }],
    'missing-drift-job': [{ kind: 'job missing', field: null, service: null, repository: null }],
    'property-drift-job': [
      {
        kind: 'property',
        field: 'rows',
        service: 'a string',
        repository: 'a number, another value'
      }
    ],
    'python-drift-job': [
      { kind: 'python version', field: 'python_version', service: '3.9', repository: '3.12' }
    ],
    'undeployed-drift-job': [
      { kind: 'not deployed', field: null, service: null, repository: null }
    ],
    'orphan-drift-job': [{ kind: 'no folder', field: null, service: null, repository: null }]
  })
  expect(out.jobs.find(j => j.name === 'orphan-drift-job')?.path).toBeNull()
  expect(out.jobs.find(j => j.name === 'config-drift-job')?.path).toBe('jobs/config-drift-job')
  // the summary: a row a finding, values only as escaped cells
  const summary = JSON.stringify(r.summary)
  expect(summary).toContain('VDK drift: 8 data job(s) differ from the repository')
  expect(summary).toContain('<code>0 9 * * *</code>')
  expect(JSON.stringify([r.summary, r.outputs, r.lines])).not.toContain('one hundred')
  expect(r.log).toContain('missing-drift-job: job missing')
  // reads only: GETs (the GraphQL query is one), and the team's jobs listed through GraphQL
  expect(bed.emu.journal.filter(e => e.method !== 'GET')).toEqual([])
  expect(bed.emu.journal.some(e => e.path.endsWith('/jobs') && e.method === 'GET')).toBe(true)
})

test('a repository without drift: no drift, exit 0', async () => {
  bed.emu.journal.splice(0)
  const r = await drift(bed.clean, {
    'properties-file': 'properties.json',
    'fail-on-drift': 'true'
  })
  expect(r.failure).toBeUndefined()
  expect(r.outputs['has-drift']).toBe('false')
  const out = JSON.parse(r.outputs.drift) as DriftJson
  expect(out.jobs.map(j => [j.name, j.drift])).toEqual([
    ['clean-a-job', false],
    ['clean-b-job', false]
  ])
  expect(r.lines.filter(l => l.level !== 'debug').at(-1)?.text).toMatch(/^no drift: /)
  expect(JSON.stringify(r.summary)).toContain('VDK drift: no drift')
  expect(bed.emu.journal.filter(e => e.method !== 'GET')).toEqual([])
})

test('fail-on-drift: the step fails in one line naming the jobs; the outputs stand', async () => {
  // without properties-file, the properties are not compared: 7 jobs drifted
  const r = await drift(bed.drifted, { 'fail-on-drift': 'true' })
  expect(r.reason).toMatch(/^7 data job\(s\) differ from the repository \(by-hand-drift-job, /)
  expect(r.reason).not.toContain('\n')
  expect(r.outputs['has-drift']).toBe('true')
})

test('bad inputs are refused before any request', async () => {
  bed.emu.journal.splice(0)
  const r = await drift(bed.clean, {
    'jobs-root': 'no-such-folder',
    'fail-on-drift': 'maybe',
    'properties-file': 'a/b.json',
    'deployed-by': 'two\nlines'
  })
  expect(r.reason).toContain("jobs-root 'no-such-folder' does not exist")
  expect(r.reason).toContain('fail-on-drift')
  expect(r.reason).toContain('properties-file')
  expect(r.reason).toContain('deployed-by')
  expect(bed.emu.journal).toEqual([])
})
