// How set-properties reads property maps (exactly or not at all, in linear time) and which keys it
// treats as secret in the summary, in process; the action itself is tested end to end in
// set-properties.e2e.test.ts.
import {
  checkJson,
  numberProblem,
  readValue,
  unsafeNumberIn
} from '../../src/actions/property-values.js'
import { keyWords, secretLooking, shownValue } from '../../src/actions/shown-values.js'

const read = (text: string, json = false) =>
  readValue('properties', text, { json, allPlain: false })
const problem = (text: string, json = false): string | undefined => {
  const r = read(text, json)
  return 'problem' in r ? r.problem : undefined
}

describe('numbers are sent as written, or refused', () => {
  test.each([
    ['0', 0],
    ['-0', -0],
    ['100', 100],
    ['1.50', 1.5],
    ['0.1', 0.1],
    ['1e2', 100],
    ['1E-7', 1e-7],
    ['9007199254740991', 9007199254740991],
    ['-9007199254740991', -9007199254740991],
    // not a safe integer, but this very double: JSON.stringify writes the same digits
    ['9007199254740992', 9007199254740992],
    ['3.141592653589793', Math.PI],
    ['1e300', 1e300]
  ])('%s is exact', (source, value) => {
    expect(numberProblem(source, value)).toBeUndefined()
  })

  test.each([
    ['12345678901234567890', Number('12345678901234567890')],
    ['9007199254740993', Number('9007199254740993')],
    ['3.14159265358979323846', Math.PI],
    ['1.0000000000000000001', 1],
    ['1e-400', 0]
  ])('%s would become another number', (source, value) => {
    expect(numberProblem(source, value)).toMatch(/^has more digits than a JSON number keeps/)
  })

  test.each([
    ['.nan', NaN],
    ['.inf', Infinity],
    ['-.inf', -Infinity],
    ['1e999', Infinity]
  ])('%s is not a finite number', (source, value) => {
    expect(numberProblem(source, value)).toMatch(/^is not a finite number/)
  })

  test('hexadecimal and octal integers are exact while safe', () => {
    expect(numberProblem('0x1F', 31, true)).toBeUndefined()
    expect(
      numberProblem('0xFFFFFFFFFFFFFFFFFF', Number('0xFFFFFFFFFFFFFFFFFF'), true)
    ).toBeDefined()
  })
})

describe('YAML and JSON text: refused with the place (key path and line), never the value', () => {
  test.each([
    ['a: .nan', "properties: 'a' (line 1) is not a finite number"],
    ['a:\n  b: [1, .inf]', "properties: 'a.b[1]' (line 2) is not a finite number"],
    ['x: 1\nbig: -.inf', "properties: 'big' (line 2) is not a finite number"],
    ['id: 12345678901234567890', "properties: 'id' (line 1) has more digits"],
    ['a: {b: {c: 12345678901234567890}}', "properties: 'a.b.c' (line 1) has more digits"],
    ['a: 1\na: 2', "properties: 'a' (line 2) is given twice"],
    ['n:\n  x: 1\n  x: 1', "properties: 'n.x' (line 3) is given twice"],
    ['1: x', 'properties: the whole value (line 1) holds a key that is a number, not text'],
    ['a:\n  ? [k]\n  : v', "properties: 'a' (line 2) holds a key that is a list, not text"],
    ['true: x', 'holds a key that is a boolean, not text'],
    ['~: x', 'holds a key that is empty, not text'],
    ['d: !!timestamp 2001-12-14', "properties: 'd' (line 1) is a date in YAML (!!timestamp)"],
    ['%YAML 1.1\n---\nd: 2001-12-14', "properties: 'd' (line 3) is a date in YAML"],
    ['b: !!binary aGVsbG8=', "properties: 'b' (line 1) is binary data in YAML (!!binary)"],
    ['s: !!set {x, y}', "properties: 's' (line 1) is a YAML set or ordered map (!!set)"],
    ['o: !!omap [x: 1]', 'is a YAML set or ordered map (!!omap)'],
    ['p: !!pairs [x: 1]', 'is a YAML set or ordered map (!!pairs)']
  ])('%p', (text, message) => {
    expect(problem(text)).toContain(message)
  })

  test.each([
    ['{"a": 1, "a": 2}', "properties: 'a' (line 1) is given twice"],
    ['{"a": {"b": [1, {"c": 1, "\\u0063": 2}]}}', "properties: 'a.b[1].c' (line 1) is given twice"],
    ['{\n"x": [1,\n2,\n12345678901234567890]}', "properties: 'x[2]' (line 4) has more digits"],
    ['{"deep": 1e400}', "properties: 'deep' (line 1) is not a finite number"],
    ['{"a": "12345678901234567890", "b": 12345678901234567890}', "'b' (line 1) has more"]
  ])('JSON %p', (text, message) => {
    expect(problem(text, true)).toContain(message)
    // the same text inline (starts with "{"): read as JSON too
    expect(problem(text)).toContain(message)
  })

  test('what is refused is never quoted', () => {
    for (const text of [
      'pw: 12345678901234567890',
      'pw: !!binary U3VwM3JTM2NyZXQ=',
      '{"pw": 1e999}'
    ])
      expect(problem(text)).not.toMatch(/12345678901234567890|U3Vw|1e999/)
  })

  test('nesting deeper than 100 levels is refused (no stack overflow later)', () => {
    const deep = (n: number) => `${'['.repeat(n)}1${']'.repeat(n)}`
    expect(problem(`{"a": ${deep(99)}}`, true)).toBeUndefined()
    expect(problem(`{"a": ${deep(100)}}`, true)).toMatch(
      /'a(\[0\])+' \(line 1\) is nested more than 100/
    )
    expect(problem(`a: ${deep(99)}`)).toBeUndefined()
    expect(problem(`a: ${deep(100)}`)).toMatch(/is nested more than 100 levels deep/)
  })

  test('what JSON carries is read as before: strings, numbers, nesting, a YAML flow mapping', () => {
    expect(read('a: 1\nb: [x, 2.5, true, null]\nc: {d: "12345678901234567890"}')).toEqual({
      value: { a: 1, b: ['x', 2.5, true, null], c: { d: '12345678901234567890' } },
      cut: []
    })
    expect(read('{a: 1, b: x}')).toEqual({ value: { a: 1, b: 'x' }, cut: [] })
    expect(read('{"__proto__": {"x": 1}, "n": 0x10}', false)).toEqual({
      value: JSON.parse('{"__proto__": {"x": 1}, "n": 16}'),
      cut: []
    })
  })

  test('a plain value followed by " #" on its line is listed as cut (text only, unless allPlain)', () => {
    const text = 'a: abc #def\nb: "quoted" # fine\nc: 100 # a number\nd: |\n  x #y\n'
    const r = readValue('properties', text, { json: false, allPlain: false })
    expect('cut' in r && r.cut.map(f => f.path)).toEqual([['a']])
    const all = readValue('secrets', text, { json: false, allPlain: true })
    expect('cut' in all && all.cut.map(f => f.path)).toEqual([['a'], ['c']])
  })

  test('checkJson finds a key given twice among 100,000 (one set per mapping, not a scan per key)', () => {
    const text = `{${Array.from({ length: 100_000 }, (_, i) => `"k${i}": ${i}`).join(',')}}`
    expect(checkJson(text)).toBeUndefined()
    expect(checkJson(`${text.slice(0, -1)}, "k5": 1}`)).toMatchObject({ path: ['k5'] })
  })
})

describe('secret-looking keys', () => {
  test.each([
    'password',
    'DB_PASSWORD',
    'warehouse_password2',
    'passwd',
    'pwd',
    'api_key',
    'apiKey',
    'APIKey',
    'api-key',
    'apikey',
    'private-key',
    'privateKey',
    'ssh_key',
    'accessKeyId',
    'secret',
    'clientSecret',
    'AUTH_TOKEN',
    'refreshToken',
    'credentials',
    'gcp_creds',
    'auth',
    'authorization',
    'tls_cert',
    'certificate',
    'private',
    'session_id',
    'cookie',
    'signature',
    'sentry_dsn',
    'connection_string',
    'keytab'
  ])('%s is secret-looking', key => {
    expect(secretLooking(key)).toBe(true)
  })

  test.each([
    'monkey',
    'monkey_count',
    'keyboard_layout',
    'turkey',
    'hockey_team',
    'author',
    'rows',
    'batch_size',
    'schema',
    'target_table',
    'passenger_count',
    'compass'
  ])('%s is not', key => {
    expect(secretLooking(key)).toBe(false)
  })

  test('words split at camelCase, snake_case, kebab-case and digits', () => {
    expect(keyWords('myAPIKey_v2-final')).toEqual(['my', 'api', 'key', 'v', '2', 'final'])
  })

  test('values: a secret-looking key whole, nested secret keys and credential strings inside', () => {
    expect(shownValue('db_password', 'x')).toBe('***')
    expect(shownValue('auth', { user: 'bob' })).toBe('***')
    expect(
      JSON.parse(
        shownValue('warehouse', {
          user: 'bob',
          password: 'hunter2',
          nested: [{ apiKey: 'k', rows: 5 }],
          url: 'postgres://bob:hunter2@db.example.com/x',
          dsn_like: 'host=db user=bob password=hunter2',
          plain_url: 'https://db.example.com/x'
        })
      )
    ).toEqual({
      user: 'bob',
      password: '***',
      nested: [{ apiKey: '***', rows: 5 }],
      url: '***',
      dsn_like: '***',
      plain_url: 'https://db.example.com/x'
    })
    expect(shownValue('endpoint', 'https://u:p@x.example.com')).toBe('***')
  })
})

test('unsafeNumberIn finds an integer JSON.parse has already changed, nested', () => {
  expect(unsafeNumberIn({ a: 1, b: [2, 9007199254740991] })).toBeUndefined()
  expect(unsafeNumberIn({ a: { b: [0, JSON.parse('12345678901234567890') as number] } })).toEqual([
    'a',
    'b',
    1
  ])
})
