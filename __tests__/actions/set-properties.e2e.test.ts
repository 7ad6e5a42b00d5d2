// set-properties end to end: the committed bundle under Node 24 against the local Control Service.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
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
  writeFileSync(
    join(root, 'big-int.json'),
    '{\n  "source": {\n    "id": 12345678901234567890\n  }\n}\n'
  )
  writeFileSync(
    join(root, 'huge.yaml'),
    `${'# a comment line of a big file\n'.repeat(37_000)}a: 1\n`
  )
  mkdirSync(join(root, 'folder.json'))
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
  const run = await props('merge-job', {
    properties: 'name: new\nadded: 7\n',
    'show-values': 'true'
  })
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
  // values are not shown unless show-values: the type is
  expect(run.summary).toContain('<td>a</td><td>property removed</td><td>a number</td>')
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
  expect(run.summary).toContain('<td>warehouse_password</td><td>secret added</td><td>—</td>')
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
    [{ properties: 'a: 1', 'job-name': 'Bad Name' }, "job-name 'Bad Name' is not a valid job name"],
    [{ properties: 'a: 1', 'show-values': 'yes' }, "show-values must be true or false, not 'yes'"],
    // values JSON cannot carry exactly: one line naming the key (and line), never the value
    [{ properties: 'rows: 1\nratio: .nan' }, "properties: 'ratio' (line 2) is not a finite number"],
    [{ properties: 'limit: .inf' }, "properties: 'limit' (line 1) is not a finite number"],
    [{ properties: 'floor: -.inf' }, "properties: 'floor' (line 1) is not a finite number"],
    [
      { properties: 'id: 12345678901234567890' },
      "properties: 'id' (line 1) has more digits than a JSON number keeps"
    ],
    [
      { properties: '{"ids": [1, 12345678901234567890]}' },
      "properties: 'ids[1]' (line 1) has more digits than a JSON number keeps"
    ],
    [
      { 'properties-file': 'big-int.json' },
      "properties-file 'big-int.json': 'source.id' (line 3) has more digits"
    ],
    [{ properties: 'src:\n  pi: .nan' }, "properties: 'src.pi' (line 2) is not a finite number"],
    [{ properties: '1: x' }, 'properties: the whole value (line 1) holds a key that is a number'],
    [{ properties: '? [a]\n: x' }, 'holds a key that is a list, not text'],
    [{ properties: 'a: 1\nb: 2\na: 3' }, "properties: 'a' (line 3) is given twice"],
    [{ properties: '{"a": 1, "a": 2}' }, "properties: 'a' (line 1) is given twice"],
    [
      { properties: 'day: !!timestamp 2026-01-31' },
      "properties: 'day' (line 1) is a date in YAML (!!timestamp)"
    ],
    [
      { properties: 'blob: !!binary aGVsbG8=' },
      "'blob' (line 1) is binary data in YAML (!!binary)"
    ],
    [{ secrets: 'pw: !!binary aGVsbG8=' }, "secrets: 'pw' (line 1) is binary data in YAML"],
    [{ 'properties-file': 'huge.yaml' }, "properties-file 'huge.yaml' is 1.1 MiB of YAML, above"],
    [{ 'properties-file': 'folder.json' }, "properties-file 'folder.json' is not a regular file"]
  ])('%p', async (inputs, message) => {
    const run = await props('bad-input-job', inputs)
    expect(run.code).toBe(1)
    const errors = run.stdout.split('\n').filter(l => l.startsWith('::error::'))
    expect(errors).toEqual([expect.stringContaining(message)])
    expect(emu.journal).toEqual([])
  })
})

describe('values in the summary (VDK properties often hold credentials)', () => {
  const OLD_PW = 'Old-pr0perty-passw0rd'
  const NEW_PW = 'New-pr0perty-passw0rd'
  const KEY = 'Api-k3y-in-a-property'
  const DSN_PW = 'Dsn-passw0rd-in-a-url'
  const CURRENT = {
    rows: 1,
    password: OLD_PW,
    warehouse: { user: 'bob', password: OLD_PW },
    gone: 'a value'
  }
  const CHANGE = [
    'rows: 250',
    `password: ${NEW_PW}`,
    `warehouse: {user: alice, password: ${NEW_PW}}`,
    `api_key: ${KEY}`,
    `url: "postgres://etl:${DSN_PW}@db.example.com/sales"`,
    'monkey: banana'
  ].join('\n')

  test.each([['written'], ['dry run']])(
    'by default (%s): which keys changed and their types, no value at all',
    async mode => {
      const job = `values-hidden-${mode.replace(' ', '-')}-job`
      await write(job, CURRENT)
      const run = await props(job, {
        properties: CHANGE,
        remove: 'gone',
        'dry-run': String(mode === 'dry run')
      })
      expect(run.code).toBe(0)
      expect(run.summary).toMatch(
        /: properties( \(dry run: nothing written\))? \(values not shown\)<\/h3>/
      )
      expect(run.summary).toContain('<th>Key</th><th>Change</th><th>Type</th></tr>')
      for (const row of [
        '<td>rows</td><td>property changed</td><td>a number</td>',
        '<td>password</td><td>property changed</td><td>a string</td>',
        '<td>warehouse</td><td>property changed</td><td>a mapping</td>',
        '<td>api_key</td><td>property added</td><td>a string</td>',
        '<td>monkey</td><td>property added</td><td>a string</td>',
        '<td>gone</td><td>property removed</td><td>a string</td>'
      ])
        expect(run.summary).toContain(row)
      for (const value of [OLD_PW, NEW_PW, KEY, DSN_PW, 'banana', 'bob', 'alice', '250', 'a value'])
        expect(run.summary + run.stdout).not.toContain(value)
    }
  )

  test('a type that changes is shown as both', async () => {
    await write('values-type-job', { n: 1 })
    const run = await props('values-type-job', { properties: 'n: "1"' })
    expect(run.summary).toContain('<td>n</td><td>property changed</td><td>a number → a string</td>')
  })

  test.each([['written'], ['dry run']])(
    "show-values: true (%s) shows the others, never a secret-looking key's value or a URL password, nested too",
    async mode => {
      const job = `values-shown-${mode.replace(' ', '-')}-job`
      await write(job, CURRENT)
      const run = await props(job, {
        properties: CHANGE,
        'show-values': 'true',
        'dry-run': String(mode === 'dry run')
      })
      expect(run.code).toBe(0)
      expect(run.summary).toContain('<th>Old value</th><th>New value</th>')
      for (const row of [
        '<td>rows</td><td>property changed</td><td><code>1</code></td><td><code>250</code></td>',
        '<td>password</td><td>property changed</td><td>***</td><td>***</td>',
        '<td>warehouse</td><td>property changed</td><td><code>{&quot;user&quot;:&quot;bob&quot;,&quot;password&quot;:&quot;***&quot;}</code></td><td><code>{&quot;user&quot;:&quot;alice&quot;,&quot;password&quot;:&quot;***&quot;}</code></td>',
        '<td>api_key</td><td>property added</td><td>—</td><td>***</td>',
        '<td>url</td><td>property added</td><td>—</td><td>***</td>',
        '<td>monkey</td><td>property added</td><td>—</td><td><code>&quot;banana&quot;</code></td>'
      ])
        expect(run.summary).toContain(row)
      for (const value of [OLD_PW, NEW_PW, KEY, DSN_PW])
        expect(run.summary + run.stdout).not.toContain(value)
      if (mode === 'written')
        expect(await read(job)).toMatchObject({ password: NEW_PW, api_key: KEY })
    }
  )
})

describe('a value YAML cut at " #" (a comment) is warned of, naming the key, never the value', () => {
  test('a plain secret and a plain text property are warned of; quoted ones and numbers are not', async () => {
    const run = await props('cut-value-job', {
      secrets: ['cut_pw: Abc #def-rest', 'whole_pw: "Abc #def-rest"'].join('\n'),
      properties: 'note: some text # a comment\nrows: 100 # per batch\nquoted: "a #b"'
    })
    expect(run.code).toBe(0)
    expect(run.annotations.filter(a => a.level === 'warning').map(a => a.message)).toEqual([
      "secrets: the value of 'cut_pw' (line 1) is followed by ' #', which YAML reads as the start of a comment: the value ends before it. If ' #…' is part of the value, quote it, e.g. ${{ toJSON(secrets.NAME) }}",
      "properties: the value of 'note' (line 1) is followed by ' #', which YAML reads as the start of a comment: the value ends before it. If ' #…' is part of the value, quote it, e.g. ${{ toJSON(secrets.NAME) }}"
    ])
    // what YAML read is what was written: the cut value as cut, the quoted one whole
    expect(await read('cut-value-job', 'secrets')).toEqual({
      cut_pw: 'Abc',
      whole_pw: 'Abc #def-rest'
    })
    expect(await read('cut-value-job')).toEqual({ note: 'some text', rows: 100, quoted: 'a #b' })
    expect(run.stdout.replace(/^::add-mask::.*$/gm, '')).not.toContain('def-rest')
  })

  test('many: five warnings, then how many more (GitHub shows ten annotations a step)', async () => {
    const run = await props('cut-many-job', {
      properties: Array.from({ length: 8 }, (_, i) => `k${i}: text ${i} # note`).join('\n'),
      'dry-run': 'true'
    })
    expect(run.code).toBe(0)
    const warnings = run.annotations.filter(a => a.level === 'warning').map(a => a.message)
    expect(warnings.slice(0, 5).map(w => w.split(' is followed')[0])).toEqual(
      [0, 1, 2, 3, 4].map(i => `properties: the value of 'k${i}' (line ${i + 1})`)
    )
    expect(warnings.slice(5)).toEqual([
      "3 more value(s) are followed by ' #' on their line (a YAML comment), as above"
    ])
  })

  test('a secret passed as ${{ toJSON(secrets.X) }} (a JSON string) is read verbatim: no warning', async () => {
    const value = 'p4ss #with: "quotes", a \\ backslash and\na line break'
    const run = await props('tojson-secret-job', { secrets: `pw: ${JSON.stringify(value)}` })
    expect(run.code).toBe(0)
    expect(run.annotations).toEqual([])
    expect(await read('tojson-secret-job', 'secrets')).toEqual({ pw: value })
  })
})

test('merge refuses to write back an integer the service holds beyond 2^53 (it would change)', async () => {
  await ensureJob('big-int-kept-job')
  // the service keeps big integers exactly (Jackson); the local one holds what JSON.parse made
  await fetch(path('big-int-kept-job'), {
    method: 'PUT',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: '{"counter": {"max": 12345678901234567890}, "a": 1}'
  })
  emu.journal.splice(0)
  const run = await props('big-int-kept-job', { properties: 'a: 2' })
  expect(run.code).toBe(1)
  expect(run.stdout.split('\n').filter(l => l.startsWith('::error'))).toEqual([
    "::error::set-properties: property 'counter.max' on the Control Service holds an integer beyond ±9007199254740991, which this action cannot carry exactly: writing the map back would change it; set that property again as text (quoted), or remove it, or use mode: replace"
  ])
  expect(puts()).toEqual([])
  // replacing the whole map keeps nothing of it: allowed
  expect((await props('big-int-kept-job', { properties: 'a: 2', mode: 'replace' })).code).toBe(0)
})

describe("the job summary stays under GitHub's 1 MiB limit", () => {
  test('a map too big for it: the rows that fit, then how many were left out', async () => {
    const keys = 12_000
    const map = Object.fromEntries(
      Array.from({ length: keys }, (_, i) => [`key_${i}`, `a value of some length, number ${i}`])
    )
    writeFileSync(join(root, 'many.json'), JSON.stringify(map))
    const run = await props('summary-cap-job', {
      'properties-file': 'many.json',
      'show-values': 'true',
      'dry-run': 'true'
    })
    expect(run.code).toBe(0)
    expect(Buffer.byteLength(run.summary)).toBeLessThanOrEqual(512 * 1024)
    const shown = run.summary.match(/<td>key_\d+<\/td>/g)?.length ?? 0
    expect(shown).toBeGreaterThan(1000)
    expect(shown).toBeLessThan(keys)
    expect(run.summary).toContain(
      `<td colspan="4">… ${keys - shown} more row(s) not shown: a job summary is limited to 512 KiB here</td>`
    )
    // the outputs have every key
    expect(JSON.parse(run.outputs['changed-keys'])).toHaveLength(keys)
  })

  test('a long value is cut in its cell, with its markup closed', async () => {
    const run = await props('summary-cell-job', {
      properties: `text: ${'x<y & z '.repeat(2000)}`,
      'show-values': 'true',
      'dry-run': 'true'
    })
    expect(run.code).toBe(0)
    const cell = /<td>text<\/td><td>property added<\/td><td>—<\/td><td>(.*?)<\/td>/.exec(
      run.summary
    )
    expect(cell?.[1]).toMatch(
      /^<code>&quot;(x&lt;y &amp; z )+(x(&lt;y?)?( &amp;)?( z?)?)?<\/code> … \(cut\)$/
    )
    expect(cell?.[1].length).toBeLessThanOrEqual(4096 + '</code> … (cut)'.length)
  })
})

test('a 5 MB .json properties file is read as JSON (every key), in one run', async () => {
  const map = Object.fromEntries(
    Array.from({ length: 70_000 }, (_, i) => [
      `key_${i}`,
      { name: `value ${i}`, n: i, list: [1, 'x'] }
    ])
  )
  writeFileSync(join(root, 'five-mb.json'), JSON.stringify(map))
  expect(readFileSync(join(root, 'five-mb.json')).length).toBeGreaterThan(4_000_000)
  const run = await props('five-mb-job', { 'properties-file': 'five-mb.json', 'dry-run': 'true' })
  expect(run.code).toBe(0)
  expect(run.outputs['property-count']).toBe('70000')
})
