// drift end to end: the committed bundle under Node 24 against the local Control Service
// (helpers/drift-bed.ts): every kind of drift on one repository, none on another (exit 0, "no
// drift"), fail-on-drift failing in one line; the service's journal shows reads only.
import { driftInputs, startDriftBed, type DriftBed } from '../helpers/drift-bed.js'
import { runAction } from '../helpers/runner.js'

let bed: DriftBed

const drift = (workspace: string, inputs: Record<string, string> = {}) =>
  runAction('drift', driftInputs(bed, inputs), { workspace })

beforeAll(async () => {
  bed = await startDriftBed()
})
afterAll(() => bed.close())

test('each kind of drift is reported; the step succeeds; GETs only', async () => {
  bed.emu.journal.splice(0)
  const run = await drift(bed.drifted, { 'properties-file': 'properties.yaml' })
  expect(run.code).toBe(0)
  expect(run.outputs['has-drift']).toBe('true')
  const out = JSON.parse(run.outputs.drift) as {
    jobs: Array<{ name: string; findings: Array<{ kind: string }> }>
  }
  expect(
    Object.fromEntries(out.jobs.map(j => [j.name, j.findings.map(f => f.kind).join(',')]))
  ).toEqual({
    'by-hand-drift-job': 'deployed by',
    'config-drift-job': 'config',
    'disabled-drift-job': 'disabled',
    'missing-drift-job': 'job missing',
    'property-drift-job': 'property',
    'python-drift-job': 'python version',
    'undeployed-drift-job': 'not deployed',
    'orphan-drift-job': 'no folder'
  })
  expect(run.stdout).toContain('drift: 8 data job(s) differ from the repository')
  expect(run.summary).toContain('VDK drift: 8 data job(s) differ from the repository')
  expect(bed.emu.journal.length).toBeGreaterThan(0)
  expect(bed.emu.journal.filter(e => e.method !== 'GET')).toEqual([])
})

test('a repository without drift: exit 0, "no drift"', async () => {
  bed.emu.journal.splice(0)
  const run = await drift(bed.clean, {
    'properties-file': 'properties.json',
    'fail-on-drift': 'true'
  })
  expect(run.code).toBe(0)
  expect(run.outputs['has-drift']).toBe('false')
  expect(run.stdout).toMatch(/no drift: the Control Service matches the repository/)
  expect(run.summary).toContain('VDK drift: no drift')
  expect(bed.emu.journal.filter(e => e.method !== 'GET')).toEqual([])
})

test('fail-on-drift: exit 1 with one line', async () => {
  const run = await drift(bed.drifted, { 'fail-on-drift': 'true' })
  expect(run.code).toBe(1)
  const errors = run.stdout.split('\n').filter(l => l.startsWith('::error'))
  expect(errors).toHaveLength(1)
  expect(errors[0]).toContain('7 data job(s) differ from the repository')
  expect(run.outputs['has-drift']).toBe('true')
})
