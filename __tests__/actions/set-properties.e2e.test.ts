// set-properties end to end: the committed bundle under Node 24 against the local Control Service.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator, type Emulator } from '../../src/emulator/server.js'
import { registerSecret } from '../helpers/leaks.js'
import { runAction, type ActionRun } from '../helpers/runner.js'

let emu: Emulator
let root: string
const TOKEN = 'props-access-token-77e1'
const TEAM = 'props team'
const SECRET = 'S3cr3t-value-for-the-warehouse'
// every run below is searched for it (and for the token) by the leak scan of helpers/runner.ts
registerSecret(SECRET)

/** Creates the job in TEAM unless it exists (set-properties checks that it does). */
const made = new Set<string>()
async function ensureJob(job: string): Promise<void> {
  if (made.has(job)) return
  const res = await fetch(`${emu.url}/data-jobs/for-team/${encodeURIComponent(TEAM)}/jobs`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ job_name: job, team: TEAM, description: 'a test job', config: {} })
  })
  expect(res.status).toBe(201)
  made.add(job)
  emu.journal.splice(0)
}

const props = async (
  job: string,
  inputs: Record<string, string>,
  { create = true }: { create?: boolean } = {}
): Promise<ActionRun> => {
  if (create) await ensureJob(job)
  return run(job, inputs)
}
const run = (job: string, inputs: Record<string, string>): Promise<ActionRun> =>
  runAction(
    'set-properties',
    {
      'control-service-url': emu.url,
      'access-token': TOKEN,
      team: TEAM,
      'job-name': job,
      ...inputs
    },
    { workspace: root }
  )

const path = (job: string, what = 'properties') =>
  `${emu.url}/data-jobs/for-team/${encodeURIComponent(TEAM)}/jobs/${job}/deployments/TODO/${what}`
const read = async (job: string, what = 'properties'): Promise<unknown> =>
  (await fetch(path(job, what), { headers: { Authorization: `Bearer ${TOKEN}` } })).json()
const write = async (job: string, body: unknown): Promise<void> => {
  await fetch(path(job), {
    method: 'PUT',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body)
  })
}
const puts = () => emu.journal.filter(j => j.method === 'PUT')

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'vdk-props-'))
  emu = await startEmulator({ tokens: [TOKEN] })
  writeFileSync(join(root, 'props.json'), JSON.stringify({ from_json: 1, nested: { ok: true } }))
  writeFileSync(join(root, 'props.yaml'), 'from_yaml: 2\nlist: [a, b]\n')
  writeFileSync(join(root, 'props.yml'), 'from_yml: three\n')
  writeFileSync(join(root, 'list.yaml'), '- a\n- b\n')
  writeFileSync(join(root, 'props.txt'), 'a: 1\n')
})
afterAll(async () => {
  await emu.close()
  rmSync(root, { recursive: true, force: true })
})
beforeEach(() => {
  emu.journal.splice(0)
})

test('a job that does not exist in the team is refused before anything is written (the service would store them anyway)', async () => {
  await ensureJob('props-elsewhere-job')
  for (const [job, team] of [
    ['props-missing-job', TEAM],
    ['props-elsewhere-job', 'another team']
  ]) {
    emu.journal.splice(0)
    const r = await runAction(
      'set-properties',
      {
        'control-service-url': emu.url,
        'access-token': TOKEN,
        team,
        'job-name': job,
        properties: 'a: 1',
        secrets: `password: ${SECRET}`
      },
      { workspace: root }
    )
    expect(r.code).toBe(1)
    expect(r.stdout.split('\n').filter(l => l.startsWith('::error'))).toEqual([
      `::error::set-properties: data job '${job}' does not exist in team '${team}': check job-name and team (the Control Service would store its properties anyway, where no job reads them)`
    ])
    expect(puts()).toEqual([])
  }
  expect(await read('props-missing-job')).toEqual({})
})

test('merge keeps the other keys and their types: numbers stay numbers, nested stays nested', async () => {
  await write('merge-job', {
    count: 10,
    ratio: 0.5,
    flag: true,
    nested: { deep: { list: [1, 'x'] } },
    name: 'old'
  })
  const run = await props('merge-job', { properties: 'name: new\nadded: 7\n' })
  expect(run.code).toBe(0)
  expect(await read('merge-job')).toEqual({
    count: 10,
    ratio: 0.5,
    flag: true,
    nested: { deep: { list: [1, 'x'] } },
    name: 'new',
    added: 7
  })
  expect(JSON.parse(run.outputs['changed-keys'])).toEqual(['name', 'added'])
  expect(run.outputs['property-count']).toBe('6')
  expect(run.summary).toContain(
    // values are text in the summary: quotes and markup escaped
    '<td>name</td><td>property changed</td><td><code>&quot;old&quot;</code></td><td><code>&quot;new&quot;</code></td>'
  )
  expect(run.summary).toContain('<td>added</td><td>property added</td>')
})

test('replace writes the given mapping whole; remove deletes keys', async () => {
  await write('replace-job', { a: 1, b: 2, c: 3 })
  expect(
    (await props('replace-job', { properties: '{"only": "this"}', mode: 'replace' })).code
  ).toBe(0)
  expect(await read('replace-job')).toEqual({ only: 'this' })
  await write('remove-job', { a: 1, b: 2, c: 3 })
  const run = await props('remove-job', { remove: 'a\nc' })
  expect(run.code).toBe(0)
  expect(await read('remove-job')).toEqual({ b: 2 })
  expect(run.summary).toContain(
    '<td>a</td><td>property removed</td><td><code>1</code></td><td>—</td>'
  )
})

test.each([
  ['inline YAML', { properties: 'x: 1\ny: [true, null]\n' }, { x: 1, y: [true, null] }],
  ['inline JSON', { properties: '{"x": {"y": 2.5}}' }, { x: { y: 2.5 } }],
  ['a .json file', { 'properties-file': 'props.json' }, { from_json: 1, nested: { ok: true } }],
  ['a .yaml file', { 'properties-file': 'props.yaml' }, { from_yaml: 2, list: ['a', 'b'] }],
  ['a .yml file', { 'properties-file': 'props.yml' }, { from_yml: 'three' }]
])('properties from %s', async (_label, inputs, expected) => {
  const job = `source-${_label.toLowerCase().replace(/[^a-z]+/g, '-')}-job`.replace(/--+/g, '-')
  expect((await props(job, inputs)).code).toBe(0)
  expect(await read(job)).toEqual(expected)
})

test('dry-run shows the change and writes nothing', async () => {
  await write('dry-run-job', { a: 1 })
  emu.journal.splice(0)
  const run = await props('dry-run-job', {
    properties: 'a: 2\nb: 3',
    'dry-run': 'true',
    secrets: `pw: ${SECRET}`
  })
  expect(run.code).toBe(0)
  expect(puts()).toEqual([])
  expect(await read('dry-run-job')).toEqual({ a: 1 })
  expect(run.summary).toContain('(dry run: nothing written)')
  expect(run.log).toContain("would change 3 key(s) of 'dry-run-job': a, b, pw")
})

test('a secrets value that does not parse: the error says where, never what (no fragment of the value)', async () => {
  const fragment = 'Fr4gment-0f-a-s3cret'
  for (const secrets of [`password: *${fragment}`, `password: [${fragment}`]) {
    const run = await props('unparsable-secret-job', { secrets })
    expect(run.code).toBe(1)
    expect(run.stdout).not.toContain(fragment)
    expect(run.stdout).toMatch(
      /::error::set-properties: secrets is not valid YAML or JSON \((line \d+, column \d+: [A-Z_]+|an alias \(\*name\) with no anchor \(&name\) before it)\); its text is not shown, as it may hold secrets/
    )
  }
})

test('secrets are written through the secrets API and their values appear in no log line, output or summary', async () => {
  const run = await props('secret-job', {
    secrets: `warehouse_password: "${SECRET}"\napi_key: other-${SECRET}`,
    properties: 'plain: 1'
  })
  expect(run.code).toBe(0)
  expect(await read('secret-job', 'secrets')).toEqual({
    warehouse_password: SECRET,
    api_key: `other-${SECRET}`
  })
  expect(run.stdout).toContain(`::add-mask::${SECRET}`)
  const shown = run.stdout
    .split('\n')
    .filter(l => !l.startsWith('::add-mask::'))
    .join('\n')
  for (const secret of [SECRET, TOKEN]) {
    expect(shown + JSON.stringify(run.outputs) + run.summary).not.toContain(secret)
  }
  expect(run.summary).toContain(
    '<td>warehouse_password</td><td>secret added</td><td>—</td><td>—</td>'
  )
  expect(puts().map(j => j.path.split('/').pop())).toEqual(['properties', 'secrets'])
})

describe('bad input is rejected with one line before any request', () => {
  test.each([
    [
      { properties: '- a\n- b' },
      'properties must be a mapping of keys to values (e.g. "rows: 100"), not a list'
    ],
    [{ properties: 'a: [1, 2' }, 'properties is not valid YAML or JSON'],
    [{ 'properties-file': 'nope.yaml' }, "properties-file 'nope.yaml' cannot be read (ENOENT)"],
    [{ 'properties-file': 'list.yaml' }, "properties-file 'list.yaml' must be a mapping"],
    [
      { 'properties-file': 'props.txt' },
      "properties-file 'props.txt' must be a .json, .yaml or .yml file"
    ],
    [
      { properties: 'a: 1', 'properties-file': 'props.json' },
      'set properties or properties-file, not both'
    ],
    [{ secrets: 'pin: 1234' }, "secret 'pin' must be a string (quote it), not a number"],
    [{ secrets: 'nested: {a: b}' }, "secret 'nested' must be a string (quote it), not a mapping"],
    [{ properties: 'a: 1', mode: 'upsert' }, "mode must be merge or replace, not 'upsert'"],
    [{ properties: 'a: 1', 'dry-run': 'perhaps' }, "dry-run must be true or false, not 'perhaps'"],
    [{}, 'nothing to do: set properties, properties-file, remove or secrets'],
    [{ properties: 'a: 1', 'job-name': 'Bad Name' }, "job-name 'Bad Name' is not a valid job name"]
  ])('%p', async (inputs, message) => {
    const run = await props('bad-input-job', inputs)
    expect(run.code).toBe(1)
    const errors = run.stdout.split('\n').filter(l => l.startsWith('::error::'))
    expect(errors).toEqual([expect.stringContaining(message)])
    expect(emu.journal).toEqual([])
  })
})
