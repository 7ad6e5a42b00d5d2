// The fuzzing test of issue 15 §4: every input of every action, and the file-system oddities a
// repository can hold, drawn by a seeded generator (FUZZ_SEED, FUZZ_CASES to change them), run
// in-process through the same runAction() the bundles run. Each case must end as the product
// promises: success, or exit code 1 with ONE line that is not "unexpected error"; no stack trace;
// no injected workflow command (a line the runner would read as a command whose text came from
// the fuzz); no token in what was printed or written; and a refusal at input time sends nothing
// (a recording server behind control-service-url counts every request). Cases that pass the
// inputs run on against that server, which answers each request with a hostile body drawn from
// the same generator, so the actions' handling of any answer is fuzzed too. A second, small sample
// of cases runs through the committed bundles under Node 24 and must end the same way.
import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync
} from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import { changedJobs } from '../../src/actions/changed-jobs.js'
import { deploy } from '../../src/actions/deploy.js'
import { fetchLogs } from '../../src/actions/fetch-logs.js'
import { pipeline } from '../../src/actions/pipeline.js'
import { runAndWait } from '../../src/actions/run-and-wait.js'
import { runAction, type ActionDefinition } from '../../src/actions/runtime.js'
import { setProperties } from '../../src/actions/set-properties.js'
import { uploadSources } from '../../src/actions/upload-sources.js'
import { validate } from '../../src/actions/validate.js'
import { runAction as runBundle } from '../helpers/runner.js'

const SEED = Number(process.env.FUZZ_SEED ?? 20261204)
const CASES = Number(process.env.FUZZ_CASES ?? 600)
const BUNDLE_CASES = Number(process.env.FUZZ_BUNDLE_CASES ?? 12)
/** A case that takes longer than this is a hang (the server answers at once). */
const CASE_LIMIT_MS = 60_000
/** The marker of every injection attempt: a command line holding it was injected. */
const MARK = 'FUZZINJ'
const TOKEN = 'fuzz-access-token-51d0c8e2'
const API_TOKEN = 'fuzz-api-token-a3f19b44'

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

class Gen {
  constructor(readonly next: () => number) {}
  int(n: number): number {
    return Math.floor(this.next() * n)
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]
  }
  chance(p: number): boolean {
    return this.next() < p
  }
  /** Random text from an alphabet that holds what breaks parsers, paths and logs. */
  text(max = 80): string {
    const alphabet = [
      'a',
      'z',
      '0',
      '9',
      '-',
      '_',
      '.',
      '/',
      '\\',
      ':',
      '::',
      '%',
      '%0A',
      '#',
      ' #',
      '*',
      '&',
      '!',
      '?',
      '[',
      ']',
      '{',
      '}',
      '"',
      "'",
      ',',
      '=',
      ' ',
      '\t',
      '\n',
      '\r',
      '\u001b[31m',
      '\u0085',
      '\u2028',
      '\u202e',
      'é',
      '😀',
      '\ud800',
      `\n::warning::${MARK}`,
      `\n::stop-commands::${MARK}`,
      '<script>',
      'javascript:',
      '..'
    ]
    let s = ''
    const n = this.int(max)
    for (let i = 0; i < n; i++) s += this.pick(alphabet)
    return s
  }
}

// --- values: each input kind draws from its own pool, and sometimes from any pool ---

const BOOLS = ['true', 'false', 'True', 'FALSE', 'tRuE', 'yes', '1', '0', 'on', '']
const NUMBERS = [
  '0',
  '1',
  '-1',
  '0.5',
  '1e3',
  '0x10',
  'NaN',
  'Infinity',
  '2147483',
  '2147484',
  '99999999999999999999999',
  ' 5 ',
  '5s',
  '.5',
  '3.'
]
const WORDS = [
  'merge',
  'replace',
  'Merge',
  'MERGE',
  'none',
  'all',
  'on-failure',
  'fail',
  'wait',
  'cancel',
  'skip',
  'true',
  'false',
  'Wait',
  'x'
]
const NAMES = [
  'good-job',
  'fuzz-job',
  'a',
  'A-Job-Name',
  'x'.repeat(60),
  '.',
  '..',
  '../x',
  'x/y',
  'x%2Fy',
  `team\n::warning::${MARK}`,
  'café-job',
  '\u202ejob-name',
  'null',
  ' lead',
  'data team',
  'team.with.dots',
  '-rf'
]
const EXECUTION_IDS = [
  'good-job-1700000000',
  '..',
  '.',
  '../../etc/passwd',
  '%2e%2e',
  'id\n::warning::FUZZINJ',
  'a'.repeat(300),
  'good-job-1700000000-abcde'
]
const PATHS = [
  'jobs/good-job',
  'jobs/fifo-job',
  'jobs/loop-job',
  'jobs/dangling-job',
  'jobs/outside-ini-job',
  'jobs/zero-ini-job',
  'jobs/dir-ini-job',
  'jobs/nested-job',
  'jobs/nested-job/inner-job',
  'jobs/ignore-all-job',
  'jobs/ignore-ini-job',
  'jobs/keytab-job',
  'jobs/big-ini-job',
  'jobs/bad-ini-job',
  'jobs/empty-job',
  'jobs/Upper-Job',
  'jobs/nonutf8-job',
  'jobs',
  'jobs/../..',
  '/',
  '/dev/zero',
  '/dev/null',
  '{outside}/id_ed25519',
  'afile',
  'afile/sub.log',
  'nowhere/at/all',
  'jobs/good-job/config.ini',
  '.git',
  '.',
  '',
  'logs/out.log',
  'logs/'
]
/** Where fetch-logs may be told to write: odd places, all inside the workspace or refused. */
const LOG_PATHS = [
  'logs/out.log',
  'logs/',
  'afile/sub.log',
  'jobs',
  'jobs/fifo-job/pipe.sql',
  '.git/x.log',
  '/dev/null',
  '/dev/zero',
  'nowhere/deep/x.log',
  'jobs/loop-job/a',
  ''
]
const YAMLS = [
  'rows: 100',
  '{"rows": 100}',
  'a: 1\nb: [1, 2]',
  '{',
  '[1, 2',
  'a: &x [*x]',
  '*undefined',
  '['.repeat(5000),
  '{"a":'.repeat(3000),
  'a: .nan',
  'a: .inf',
  'big: 12345678901234567890',
  'bin: !!binary AAAA',
  'when: 2001-12-14',
  `"k\\n::warning::${MARK}": v`,
  'password: hunter2 # cut',
  '- a\n- b',
  'just text',
  '',
  '1: one',
  '? [a, b]\n: c',
  'a: &a [1,2,3,4,5,6,7,8,9]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
  'x: y\n  bad indent: z'
]
const LISTS = ['a,b', '["a", "b"]', '[', '[1, 2]', 'rows\nother', `k\n::warning::${MARK}`, '[]']

/** Which pool each input draws from, by its name. */
function valueFor(g: Gen, name: string, url: string): string {
  if (g.chance(0.08)) return g.text()
  if (g.chance(0.04)) return g.pick([...BOOLS, ...NUMBERS, ...NAMES, ...PATHS])
  switch (name) {
    case 'control-service-url':
    case 'api-token-authorization-url':
      return g.pick([
        url,
        url,
        url,
        `${url}/base/`,
        'https://ci:hunter2@vdk.example.com:443x',
        'http://vdk.example.com',
        'ftp://x',
        'javascript:alert(1)',
        'http://[::1',
        '//x',
        `${url}/\n::warning::${MARK}`,
        'https://u:p@example.com'
      ])
    case 'access-token':
      return g.pick([TOKEN, TOKEN, `${TOKEN}\n`, `${TOKEN}\nx`, '', 'short'])
    case 'api-token':
      return g.pick(['', '', API_TOKEN, `${API_TOKEN}\r\n::warning::${MARK}`])
    case 'job-path':
    case 'jobs-root':
    case 'properties-file':
      return g
        .pick(name === 'properties-file' ? [...PATHS, 'props.json', 'props.yaml'] : PATHS)
        .replace('{outside}', outside)
    case 'path':
      // where fetch-logs writes: never a fixture another case reads, never outside the sandbox
      return g.pick(LOG_PATHS)
    case 'job-name':
    case 'team':
      return g.pick(NAMES)
    case 'execution-id':
      return g.pick(EXECUTION_IDS)
    case 'properties':
    case 'secrets':
    case 'arguments':
      return g.pick(YAMLS)
    case 'remove':
      return g.pick(LISTS)
    case 'base':
    case 'head':
      return g.pick(['HEAD', 'HEAD~1', '--output=/tmp/x', 'nonexistent', 'main', '', '-x'])
    case 'job-version':
      return g.pick(['', 'abc123', '..', `v\n::warning::${MARK}`, 'a'.repeat(100)])
    case 'python-version':
    case 'vdk-version':
      return g.pick(['3.11', '3.7', 'x', '', '3.11\n3.12'])
    case 'reason':
      return g.text(200)
    default:
      if (/seconds|tail-lines|timeout/.test(name)) return g.pick(NUMBERS)
      if (/^(allow-|create-|print|enabled|update-|dry-run|cancel-|fail-|run$|run-wait)/.test(name))
        return g.pick(g.chance(0.3) ? WORDS : BOOLS)
      return g.pick(g.chance(0.5) ? WORDS : BOOLS)
  }
}

// --- the workspace: a git repository holding job folders with every oddity named above ---

const GOOD_INI = '[owner]\nteam = data-team\n\n[job]\nschedule_cron = 0 6 * * *\n'
let ws: string
let outside: string
/**
 * The step's files and RUNNER_TEMP, one folder for every case (emptied before each): @actions/core
 * keeps the path of the job summary once it has read it.
 */
let stepDir: string
const OUTSIDE_MARK = 'OUTSIDE-CONTENT-e2a91c'

function job(rel: string, files: Record<string, string> = {}, ini: string | null = GOOD_INI): void {
  const dir = join(ws, rel)
  mkdirSync(dir, { recursive: true })
  if (ini !== null) writeFileSync(join(dir, 'config.ini'), ini)
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true })
    writeFileSync(join(dir, name), content)
  }
}

/** Files every case reads, with what they must still hold after each case. */
const fixtures = (): Array<[string, string]> => [
  [join(ws, 'jobs/good-job/config.ini'), GOOD_INI],
  [join(ws, 'props.json'), PROPS_JSON],
  [join(outside, 'id_ed25519'), `${OUTSIDE_MARK}\nsecret key line\n`]
]
const PROPS_JSON = '{"rows": 1, "password": "p4ss-fuzz-1"}'

function makeWorkspace(): void {
  ws = mkdtempSync(join(tmpdir(), 'vdk-fuzz-ws-'))
  outside = mkdtempSync(join(tmpdir(), 'vdk-fuzz-outside-'))
  writeFileSync(join(outside, 'id_ed25519'), `${OUTSIDE_MARK}\nsecret key line\n`)
  const step = { 'run.py': 'def run(job_input):\n    pass\n' }
  job('jobs/good-job', step)
  job('jobs/fifo-job', step)
  execFileSync('mkfifo', [join(ws, 'jobs/fifo-job/pipe.sql')])
  job('jobs/loop-job', step)
  symlinkSync('b', join(ws, 'jobs/loop-job/a'))
  symlinkSync('a', join(ws, 'jobs/loop-job/b'))
  job('jobs/dangling-job', step)
  symlinkSync('nowhere', join(ws, 'jobs/dangling-job/gone.sql'))
  job('jobs/outside-ini-job', step, null)
  symlinkSync(join(outside, 'id_ed25519'), join(ws, 'jobs/outside-ini-job/config.ini'))
  job('jobs/zero-ini-job', step, null)
  symlinkSync('/dev/zero', join(ws, 'jobs/zero-ini-job/config.ini'))
  job('jobs/dir-ini-job', step, null)
  mkdirSync(join(ws, 'jobs/dir-ini-job/config.ini'))
  job('jobs/nested-job', step)
  job('jobs/nested-job/inner-job', step)
  job('jobs/ignore-all-job', { ...step, '.vdkignore': '*\n' })
  job('jobs/ignore-ini-job', { ...step, '.vdkignore': '*.ini\n' })
  job('jobs/keytab-job', { ...step, 'x.keytab': 'k' })
  job('jobs/big-ini-job', step, `${GOOD_INI}${'# filler\n'.repeat(300_000)}`)
  job(
    'jobs/bad-ini-job',
    step,
    `[owner]\nteam = data-team\n  ::error file=README.md::${MARK}\n${OUTSIDE_MARK}\n[job\n`
  )
  job('jobs/empty-job', {})
  job('jobs/Upper-Job', step)
  job('jobs/nonutf8-job', step)
  writeFileSync(Buffer.from(join(ws, 'jobs/nonutf8-job/caf\xe9.sql'), 'latin1'), 'select 1')
  writeFileSync(join(ws, 'afile'), 'a file, not a folder')
  writeFileSync(join(ws, 'props.json'), PROPS_JSON)
  writeFileSync(join(ws, 'props.yaml'), 'rows: 1\n')
  const git = (...args: string[]): string =>
    execFileSync('git', args, { cwd: ws, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  git('init', '-q', '-b', 'main')
  git('config', 'user.email', 'fuzz@example.com')
  git('config', 'user.name', 'fuzz')
  // FIFOs and links are not committed (git add would block on nothing, but keep history simple)
  git('add', 'jobs/good-job', 'jobs/nested-job', 'props.json')
  git('commit', '-q', '-m', 'one')
  git('add', '-A', 'jobs/keytab-job', 'jobs/Upper-Job', 'props.yaml')
  git('commit', '-q', '-m', 'two')
}

// --- the server behind control-service-url: counts requests, answers with hostile bodies ---

interface Counter {
  requests: number
  answer?: (req: IncomingMessage, res: ServerResponse) => void
}
const counter: Counter = { requests: 0 }
let server: Server
let url: string

function hostileAnswer(g: Gen): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const n = counter.requests
    // a few answers, then a refusal that ends any loop at once (no retry, no wait)
    if (n > 6) {
      res.writeHead(400, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ what: `stop\n::warning::${MARK}`, why: g.text(40) }))
      return
    }
    // no 5xx or 429: those are retried after a real backoff; their handling is the hostile-server
    // suite's and the retry tests' (this test fuzzes what an answer holds)
    const status = g.pick([200, 200, 200, 201, 202, 400, 404, 409, 302])
    const text = g.text(30)
    const bodies: unknown[] = [
      {
        id: `x\n::warning::${MARK}`,
        status: text,
        message: text,
        logs_url: 'http://169.254.169.254/'
      },
      [{ id: '..', status: 'succeeded', message: text }],
      [{ id: '../../x', status: 'running' }],
      { what: text, why: `\n::error::${MARK}`, countermeasures: text },
      { data: { content: [{ jobName: text, config: { team: text } }] } },
      { logs: `${text}\n::warning::${MARK}` },
      { job_version: text, version_sha: `v\n::warning::${MARK}` },
      '['.repeat(20000),
      `<html>${text}</html>`,
      '',
      null,
      42,
      { rows: 1 },
      [{ job_version: '..', deployed_date: text, enabled: text }]
    ]
    const body = g.pick(bodies)
    const headers: Record<string, string> = {
      'content-type': g.pick(['application/json', 'text/plain', 'text/html'])
    }
    if (g.chance(0.3)) headers.location = g.pick(['/x/%0A::warning::FUZZINJ', '/x/..', '/x/%2e%2e'])
    res.writeHead(status, headers)
    res.end(typeof body === 'string' ? body : JSON.stringify(body))
  }
}

// --- one case: inputs, env, the run, and what it printed ---

interface Case {
  action: string
  inputs: Record<string, string>
  env: Record<string, string>
}
interface Result {
  kind: 'ok' | 'refused' | 'failed'
  lines: string[]
  requests: number
  problems: string[]
}

const ACTIONS: Record<string, ActionDefinition<never>> = {
  'upload-sources': uploadSources as ActionDefinition<never>,
  deploy: deploy as ActionDefinition<never>,
  'run-and-wait': runAndWait as ActionDefinition<never>,
  'fetch-logs': fetchLogs as ActionDefinition<never>,
  'set-properties': setProperties as ActionDefinition<never>,
  validate: validate as ActionDefinition<never>,
  'changed-jobs': changedJobs as ActionDefinition<never>,
  '': pipeline as ActionDefinition<never>
}

const inputsOf = (action: string): string[] => {
  const file = action ? join('actions', action, 'action.yml') : 'action.yml'
  const meta = parse(readFileSync(join(import.meta.dirname, '../..', file), 'utf8')) as {
    inputs?: Record<string, unknown>
  }
  return Object.keys(meta.inputs ?? {})
}

/** Inputs that make each action do its work: a case changes some of them, or draws them all. */
const BASELINE: Record<string, Record<string, string>> = {
  'upload-sources': { 'job-path': 'jobs/good-job' },
  deploy: { 'job-path': 'jobs/good-job' },
  'run-and-wait': { 'job-name': 'good-job', team: 'data-team' },
  'fetch-logs': { 'job-name': 'good-job', team: 'data-team' },
  'set-properties': { 'job-name': 'good-job', team: 'data-team', properties: 'rows: 100' },
  validate: { 'job-path': 'jobs/good-job' },
  'changed-jobs': { base: 'HEAD~1', 'jobs-root': 'jobs' },
  '': { 'job-path': 'jobs/good-job' }
}

function drawCase(g: Gen): Case {
  const action = g.pick(Object.keys(ACTIONS))
  const names = inputsOf(action)
  const connection: Record<string, string> = names.includes('control-service-url')
    ? { 'control-service-url': url, 'access-token': TOKEN }
    : {}
  const inputs: Record<string, string> = { ...connection, ...BASELINE[action] }
  if (g.chance(0.3)) {
    // every input drawn: many problems at once
    for (const name of names) {
      const always = name in inputs
      if (always ? g.chance(0.9) : g.chance(0.35)) inputs[name] = valueFor(g, name, url)
      else if (!always) delete inputs[name]
    }
  } else {
    // the baseline with one to three inputs drawn: the checks behind the first one are reached
    for (let k = 1 + g.int(3); k > 0; k--) {
      const name = g.pick(names)
      inputs[name] = valueFor(g, name, url)
    }
  }
  // nothing may leave the machine: plain http to a host that is not loopback stays refused
  for (const name of ['control-service-url', 'api-token-authorization-url'])
    if (inputs[name]?.startsWith('http://vdk.example.com')) delete inputs['allow-insecure-http']
  // the runner's defaults for the waits: never a long wait against a server that answers at once
  for (const name of ['wait', 'run-wait']) if (!(name in inputs)) inputs[name] = 'false'
  const env: Record<string, string> = {}
  if (g.chance(0.1))
    env[g.pick(['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'NO_PROXY'])] = g.pick([
      'http://u:p@127.0.0.1:notaport',
      'http://127.0.0.1:1',
      'not a url',
      '*',
      `http://x\n::warning::${MARK}`
    ])
  if (g.chance(0.1)) env.RUNNER_TEMP = g.pick([join(ws, 'afile'), join(ws, 'nowhere'), '/dev/null'])
  return { action, inputs, env }
}

/** The lines the runner would read as a command whose text came from the fuzz. */
const injected = (lines: string[]): string[] =>
  lines.filter(l => /^\s*::[^:\s]*( [^:]*)?::FUZZINJ/.test(l))

async function runCase(c: Case, g: Gen): Promise<Result> {
  counter.requests = 0
  counter.answer = hostileAnswer(g)
  const files = {
    GITHUB_OUTPUT: join(stepDir, 'output'),
    GITHUB_STATE: join(stepDir, 'state'),
    GITHUB_STEP_SUMMARY: join(stepDir, 'summary')
  }
  rmSync(stepDir, { recursive: true, force: true })
  mkdirSync(stepDir)
  for (const f of Object.values(files)) writeFileSync(f, '')
  const saved = { ...process.env }
  const restore = (): void => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k]
    Object.assign(process.env, saved)
  }
  const printed: string[] = []
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = (chunk: string | Uint8Array) => {
    printed.push(String(chunk))
    return true
  }
  let configRequests = -1
  try {
    for (const k of [
      'HTTPS_PROXY',
      'HTTP_PROXY',
      'https_proxy',
      'http_proxy',
      'NO_PROXY',
      'no_proxy'
    ])
      delete process.env[k]
    Object.assign(process.env, files, { GITHUB_WORKSPACE: ws, RUNNER_TEMP: stepDir }, c.env)
    process.exitCode = 0
    const def = ACTIONS[c.action]
    // count what config() alone sends: a refusal must have sent nothing
    const counting: ActionDefinition<never> = {
      ...def,
      config: async (src, problems) => {
        try {
          return await def.config(src, problems)
        } finally {
          configRequests = counter.requests
        }
      }
    }
    const src = {
      input: (name: string) => (c.inputs[name] ?? '').trim(),
      env: process.env,
      mask: () => undefined
    }
    let timer: NodeJS.Timeout | undefined
    const hang = new Promise<'hang'>(resolve => {
      timer = setTimeout(() => resolve('hang'), CASE_LIMIT_MS)
    })
    const ended = await Promise.race([runAction(counting, src).then(() => 'ended' as const), hang])
    clearTimeout(timer)
    if (ended === 'hang') printed.push(`::error::FUZZ-HANG after ${CASE_LIMIT_MS} ms\n`)
  } finally {
    process.stdout.write = write
    restore()
  }
  const code = process.exitCode
  process.exitCode = 0
  const lines = printed.join('').split('\n')
  const problems: string[] = []
  const failures = lines.filter(l => /^::error::/.test(l))
  const refused = configRequests === 0 && code === 1 && counter.requests === 0
  if (lines.some(l => l.includes('FUZZ-HANG'))) problems.push('hung')
  if (lines.some(l => /unexpected error|%0A\s+at |^\s+at .*:\d+:\d+\)?$/.test(l)))
    problems.push('a stack trace or an unexpected error')
  if (code === 1 && failures.length !== 1) problems.push(`${failures.length} ::error:: lines`)
  for (const f of failures)
    if (/%0A|%0D/.test(f)) problems.push('a failure line that breaks in two')
  if (injected(lines).length) problems.push(`injected: ${injected(lines)[0].slice(0, 80)}`)
  for (const [file, content] of fixtures())
    if (readFileSync(file, 'utf8') !== content) problems.push(`changed ${file}`)
  const written = Object.values(files)
    .map(f => readFileSync(f, 'utf8'))
    .join('\n')
  for (const secret of [TOKEN, API_TOKEN, 'hunter2', OUTSIDE_MARK, 'p4ss-fuzz-1'])
    if (
      [...lines.filter(l => !l.startsWith('::add-mask::')), written].some(t => t.includes(secret))
    )
      problems.push(`leaked ${secret.slice(0, 6)}…`)
  if (code === 1 && configRequests > 0 && counter.requests === configRequests)
    problems.push(`config() sent ${configRequests} request(s)`)
  return {
    kind: code === 0 ? 'ok' : refused ? 'refused' : 'failed',
    lines,
    requests: counter.requests,
    problems
  }
}

beforeAll(async () => {
  makeWorkspace()
  stepDir = mkdtempSync(join(tmpdir(), 'vdk-fuzz-step-'))
  server = createServer((req, res) => {
    counter.requests++
    req.resume()
    req.once('end', () => counter.answer?.(req, res))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  server.close()
  await once(server, 'close')
  rmSync(ws, { recursive: true, force: true })
  rmSync(outside, { recursive: true, force: true })
  rmSync(stepDir, { recursive: true, force: true })
})

const drawn: Array<Case & { index: number; result: Result }> = []

test(`${CASES} fuzzed cases (seed ${SEED}) end as promised: one line or success, nothing injected, nothing leaked`, async () => {
  const bad: string[] = []
  const counts = { ok: 0, refused: 0, failed: 0 }
  for (let i = 0; i < CASES; i++) {
    // FUZZ_ONLY=<n> runs case n alone: each case draws from a generator of its own
    if (process.env.FUZZ_ONLY && Number(process.env.FUZZ_ONLY) !== i) continue
    const g = new Gen(prng(SEED + i * 7919))
    const c = drawCase(g)
    // FUZZ_TRACE=1 names each case before it runs (to find one that hangs or runs out of memory)
    if (process.env.FUZZ_TRACE) process.stderr.write(`case ${i}: ${JSON.stringify(c)}\n`)
    const result = await runCase(c, g)
    counts[result.kind]++
    drawn.push({ ...c, index: i, result })
    if (result.problems.length)
      bad.push(
        `case ${i} (${c.action || 'root'} ${JSON.stringify(c.inputs).slice(0, 300)} env ${JSON.stringify(c.env)}): ${result.problems.join(', ')}: ${result.lines
          .filter(l => l.startsWith('::error'))
          .join(' | ')
          .slice(0, 300)}`
      )
  }
  console.log(
    `fuzz: seed ${SEED}, ${CASES} cases: ${counts.refused} refused at input time, ${counts.failed} failed later in one line, ${counts.ok} succeeded; ${bad.length} broke a promise`
  )
  expect(bad.slice(0, 20)).toEqual([])
  // the generator reaches every outcome (a fuzz that refuses everything tests nothing)
  if (process.env.FUZZ_ONLY) return
  expect(counts.refused).toBeGreaterThan(CASES / 10)
  expect(counts.failed + counts.ok).toBeGreaterThan(CASES / 20)
}, 600_000)

test(`${BUNDLE_CASES} of those cases, through the committed bundles under Node 24, end the same way`, async () => {
  const g = new Gen(prng(SEED + 1))
  // half of them cases that got past the inputs, so that the bundles meet hostile answers too
  const reached = drawn.filter(c => c.result.kind !== 'refused')
  const sample = Array.from({ length: BUNDLE_CASES }, (_, k) =>
    k % 2 && reached.length ? reached[g.int(reached.length)] : drawn[g.int(drawn.length)]
  )
  expect(sample.some(c => c.result.kind !== 'refused')).toBe(true)
  for (const c of sample) {
    counter.requests = 0
    // the same answers as in-process: the case's own generator, past the drawing of its inputs
    const answers = new Gen(prng(SEED + c.index * 7919))
    drawCase(answers)
    counter.answer = hostileAnswer(answers)
    const run = await runBundle(c.action, c.inputs, {
      env: c.env,
      workspace: ws
    })
    const failures = run.stdout.split('\n').filter(l => l.startsWith('::error::'))
    expect({ action: c.action, code: run.code === 0 ? 'ok' : 'failed' }).toEqual({
      action: c.action,
      code: c.result.kind === 'ok' ? 'ok' : 'failed'
    })
    if (run.code !== 0) expect(failures).toHaveLength(1)
    expect(run.stdout).not.toMatch(/unexpected error|^\s+at .*:\d+:\d+\)?$/m)
    expect(injected(run.stdout.split('\n'))).toEqual([])
    if (c.result.kind === 'refused') expect(counter.requests).toBe(0)
  }
}, 300_000)

// keep the list of fixtures honest: every path the generator names exists or is meant not to
test('the fuzz workspace holds the oddities it claims', () => {
  expect(readdirSync(join(ws, 'jobs')).length).toBeGreaterThanOrEqual(15)
})
