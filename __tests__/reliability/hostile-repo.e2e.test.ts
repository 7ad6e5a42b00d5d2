// A hostile repository, end to end: job folders as a pull request or a careless user could commit
// them (config.ini and .vdkignore as links out of the folder, to /dev/zero, as pipes, devices,
// folders or too large; a team continued by an `::error` line; file names that are not UTF-8;
// folders that cannot be read; pipes and sockets in the tree; nested jobs; .vdkignore leaving out
// what would be refused, config.ini, or everything). upload-sources, validate, deploy and the root
// action run as committed bundles under Node 24 against the local Control Service. Every case ends
// in one of two ways: exit 1 with one line naming the file (and not one request sent), or success
// with exactly the files that belong in the archive. Always: no stack trace; no workflow command
// made of a file's text; nothing of the file outside the checkout (its marker) in stdout, stderr,
// outputs, state or summary; every refusal of config.ini and .vdkignore made before reading them,
// so /dev/zero or a pipe is never read (which bounds memory and time).
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { startEmulator, type Emulator } from '../../src/emulator/server.js'
import { sourcesOf, writeJobFolder } from '../helpers/fixtures.js'
import { node24 } from '../helpers/node24.js'
import { runAction, type ActionRun } from '../helpers/runner.js'

const TOKEN = 'hostile-repo-access-token-3c9e1d'
const TEAM = 'data team'
/** In the file outside the checkout: never in anything an action writes. */
const OUTSIDE = 'OUTSIDE-MARKER-5e1f0c'
/** In files inside the job folders that no action may repeat (a spoofed command, a refused line). */
const INSIDE = 'INSIDE-MARKER-9b4d27'
const INI = `[owner]\nteam = ${TEAM}\n`
const STEP = { '10_load.py': 'def run(job_input):\n    pass\n' }

let emu: Emulator
/** The workspace (the checkout): the job folders under jobs/. */
let ws: string
/** A folder of the machine outside the checkout, with a private key in it. */
let outside: string
let socketServer: Server
/** The node binary of the runs that must not read a folder of mode 000 (see beforeAll). */
let unprivilegedNode: string

const isRoot = process.getuid?.() === 0
const jobsDir = (): string => join(ws, 'jobs')
const mkfifo = (path: string): void => void execFileSync('mkfifo', [path])
/** A file name with the byte 0xE9 (é in Latin-1), which is not UTF-8. */
const latin1Name = (dir: string): Buffer =>
  Buffer.concat([Buffer.from(`${dir}/caf`), Buffer.from([0xe9]), Buffer.from('.sql')])

/** The job folders, each made by its function from `writeJobFolder`'s result. */
const JOBS: Record<
  string,
  { ini?: string; files?: Record<string, string>; make?: (dir: string) => void }
> = {
  'link-out-job': {
    ini: '',
    make: dir => symlinkSync(relative(dir, join(outside, 'id_ed25519')), join(dir, 'config.ini'))
  },
  'dev-zero-job': { ini: '', make: dir => symlinkSync('/dev/zero', join(dir, 'config.ini')) },
  // as root: a character device like /dev/zero (1, 5) inside the folder; else a pipe
  'device-ini-job': {
    ini: '',
    make: dir =>
      isRoot
        ? execFileSync('mknod', [join(dir, 'config.ini'), 'c', '1', '5'])
        : mkfifo(join(dir, 'config.ini'))
  },
  'fifo-ini-job': { ini: '', make: dir => mkfifo(join(dir, 'config.ini')) },
  'folder-ini-job': { ini: '', files: { 'config.ini/team.ini': INI } },
  'huge-ini-job': {
    ini: `${INI}${`# ${INSIDE} ${'x'.repeat(100)}\n`.repeat(11_000)}`
  },
  'shared-ini-job': {
    ini: '',
    make: dir => {
      writeFileSync(join(jobsDir(), 'shared.ini'), `${INI}# ${INSIDE}\n`)
      symlinkSync('../shared.ini', join(dir, 'config.ini'))
    }
  },
  'inner-link-ini-job': {
    ini: '',
    files: { 'conf/prod.ini': `${INI}[job]\nschedule_cron = 0 6 * * *\n` },
    make: dir => symlinkSync('conf/prod.ini', join(dir, 'config.ini'))
  },
  'continued-team-job': {
    ini: `[owner]\nteam = analytics\n  ::error file=README.md::${INSIDE}\n`
  },
  'garbled-ini-job': { ini: `${INI}::warning::${INSIDE}\n${INSIDE} = [\n` },
  'fifo-ignore-job': { make: dir => mkfifo(join(dir, '.vdkignore')) },
  'link-ignore-job': {
    make: dir => symlinkSync(join(outside, 'id_ed25519'), join(dir, '.vdkignore'))
  },
  'latin1-name-job': { make: dir => writeFileSync(latin1Name(dir), 'SELECT 1;\n') },
  'latin1-ignored-job': {
    files: { '.vdkignore': 'caf*.sql\n' },
    make: dir => writeFileSync(latin1Name(dir), 'SELECT 1;\n')
  },
  'unreadable-job': {
    files: { 'private/a.sql': 'SELECT 1;\n' },
    make: dir => chmodSync(join(dir, 'private'), 0o000)
  },
  // listed, not entered: its entries cannot be looked at
  'unsearchable-job': {
    files: { 'private/a.sql': 'SELECT 1;\n' },
    make: dir => chmodSync(join(dir, 'private'), 0o444)
  },
  'unreadable-ignored-job': {
    files: { 'private/a.sql': 'SELECT 1;\n', '.vdkignore': 'private/\n' },
    make: dir => chmodSync(join(dir, 'private'), 0o000)
  },
  'fifo-job': { make: dir => mkfifo(join(dir, 'pipe')) },
  'socket-job': {}, // its socket is made by a server of this test (beforeAll)
  'special-ignored-job': {
    files: { '.vdkignore': 'pipe\n*.sock\n' },
    make: dir => mkfifo(join(dir, 'pipe'))
  },
  'link-loop-job': {
    make: dir => {
      symlinkSync('b.py', join(dir, 'a.py'))
      symlinkSync('a.py', join(dir, 'b.py'))
    }
  },
  'nested-parent-job': {
    files: { 'child-job/config.ini': INI, 'child-job/20_child.py': '', 'lib/util.py': '' }
  },
  'ignored-refusals-job': {
    files: { 'secrets/service.keytab': 'KEY', '.vdkignore': 'secrets/\nout.txt\nloop.py\n' },
    make: dir => {
      symlinkSync(join(outside, 'id_ed25519'), join(dir, 'out.txt'))
      symlinkSync('loop.py', join(dir, 'loop.py'))
    }
  },
  'ignore-ini-job': { files: { 'local.ini': '[x]\n', '.vdkignore': '*.ini\n' } },
  'ignore-all-job': { files: { '.vdkignore': '*\n' } }
}

interface Refusal {
  action: 'upload-sources' | 'validate' | 'deploy' | ''
  job: string
  /** The file the refusal names, relative to the job folder ('' the folder itself). */
  file: string
  message: RegExp
  /** Run without the privileges that let root read any file. */
  unprivileged?: boolean
}

const NOT_A_FILE = /must be a file$/
const refusals: Refusal[] = [
  ...(['upload-sources', 'validate', ''] as const).map(action => ({
    action,
    job: 'link-out-job',
    file: 'config.ini',
    message:
      /^a symbolic link that leads outside the job folder: config\.ini is read only from a file inside it$/
  })),
  ...(['upload-sources', 'deploy'] as const).map(action => ({
    action,
    job: 'dev-zero-job',
    file: 'config.ini',
    message: /^a symbolic link that leads outside the job folder/
  })),
  {
    action: 'validate',
    job: 'device-ini-job',
    file: 'config.ini',
    message: new RegExp(`^is ${isRoot ? 'a device' : 'a named pipe'}, not a file`)
  },
  ...(['upload-sources', 'validate'] as const).map(action => ({
    action,
    job: 'fifo-ini-job',
    file: 'config.ini',
    message: /^is a named pipe, not a file: config\.ini must be a file$/
  })),
  { action: 'deploy', job: 'folder-ini-job', file: 'config.ini', message: NOT_A_FILE },
  ...(['deploy', 'validate'] as const).map(action => ({
    action,
    job: 'huge-ini-job',
    file: 'config.ini',
    message: /^holds 1\d{6} bytes, more than the 1048576 a config\.ini may hold$/
  })),
  {
    action: 'upload-sources',
    job: 'shared-ini-job',
    file: 'config.ini',
    message: /^a symbolic link that leads outside the job folder/
  },
  ...(['upload-sources', 'validate', ''] as const).map(action => ({
    action,
    job: 'continued-team-job',
    file: 'config.ini',
    message: /^\[owner\] team must be one line: the line after it is indented/
  })),
  ...(['upload-sources', 'validate'] as const).map(action => ({
    action,
    job: 'garbled-ini-job',
    file: 'config.ini',
    message: /^column 1: expected 'key = value', '\[section\]' or a comment$/
  })),
  ...(['upload-sources', 'validate'] as const).map(action => ({
    action,
    job: 'fifo-ignore-job',
    file: '.vdkignore',
    message: /^is a named pipe, not a file: \.vdkignore must be a file$/
  })),
  {
    action: 'upload-sources',
    job: 'link-ignore-job',
    file: '.vdkignore',
    message: /^a symbolic link that leads outside the job folder/
  },
  ...(['upload-sources', 'validate', ''] as const).map(action => ({
    action,
    job: 'latin1-name-job',
    file: 'caf\\xe9.sql',
    message: /^a file name that is not UTF-8 \(shown here with its bytes as \\xNN\)/
  })),
  ...(['upload-sources', 'validate'] as const).map(action => ({
    action,
    job: 'unreadable-job',
    file: 'private',
    message: /^a folder that cannot be read \(permission denied\)$/,
    unprivileged: true
  })),
  {
    action: 'upload-sources',
    job: 'unsearchable-job',
    file: 'private/a.sql',
    message: /^cannot be read \(permission denied\)$/,
    unprivileged: true
  },
  ...(['upload-sources', 'validate'] as const).map(action => ({
    action,
    job: 'fifo-job',
    file: 'pipe',
    message:
      /^a special file \(a named pipe\) cannot be uploaded: remove it, or leave it out with \.vdkignore$/
  })),
  {
    action: 'deploy',
    job: 'socket-job',
    file: 'app.sock',
    message: /^a special file \(a socket\) cannot be uploaded/
  },
  {
    action: 'upload-sources',
    job: 'link-loop-job',
    file: 'a.py',
    message: /^a symbolic link that leads nowhere \(a loop of symbolic links\)$/
  },
  ...(['upload-sources', 'validate'] as const).map(action => ({
    action,
    job: 'ignore-all-job',
    file: '',
    message:
      /^nothing to upload but config\.ini \(the ignore rules left out 2 file\(s\) and folder\(s\)\): a data job needs at least one step/
  }))
]

const conn = (): Record<string, string> => ({
  'control-service-url': emu.url,
  'access-token': TOKEN
})

async function run(
  action: Refusal['action'],
  job: string,
  o: { unprivileged?: boolean } = {}
): Promise<ActionRun> {
  const waits = action === 'deploy' || action === ''
  const inputs = {
    ...conn(),
    'job-path': `jobs/${job}`,
    ...(waits ? { 'poll-interval-seconds': '0.2' } : {})
  }
  const result = await runAction(action, inputs, {
    workspace: ws,
    timeoutMs: 30_000,
    ...(o.unprivileged ? { node: unprivilegedNode } : {})
  })
  expectClean(result)
  return result
}

/** What holds for every run, refused or not. */
function expectClean(r: ActionRun): void {
  const everything = [r.stdout, JSON.stringify(r.outputs), JSON.stringify(r.state), r.summary]
  for (const text of everything) {
    expect(text).not.toContain(OUTSIDE)
    expect(text).not.toContain(INSIDE)
  }
  expect(r.stdout).not.toMatch(/unexpected error|\n\s+at /)
  // each workflow command is one the action writes
  const commands = r.stdout.split('\n').filter(l => l.trimStart().startsWith('::'))
  for (const line of commands)
    expect(line).toMatch(/^::(error|warning|notice|debug|add-mask|group|endgroup)( [^:]*)?::/)
  // annotations only on files of the job folders
  for (const a of r.annotations) if (a.file) expect(a.file).toMatch(/^jobs\/[a-z0-9-]+-job(\/|$)/)
}

beforeAll(async () => {
  ws = mkdtempSync(join(tmpdir(), 'hostile-repo-'))
  outside = mkdtempSync(join(tmpdir(), 'hostile-outside-'))
  writeFileSync(
    join(outside, 'id_ed25519'),
    `-----BEGIN OPENSSH PRIVATE KEY-----\n${OUTSIDE}\n[owner]\nteam = ${OUTSIDE}\n::warning::${OUTSIDE}\n*\n`
  )
  emu = await startEmulator({ tokens: [TOKEN], deploymentSeconds: 0.2 })
  for (const [name, job] of Object.entries(JOBS)) {
    const dir = writeJobFolder(jobsDir(), name, { ...STEP, ...job.files }, job.ini ?? INI)
    job.make?.(dir)
  }
  // a socket in two job folders (one leaves it out): a server listens on them while the tests run
  socketServer = createServer()
  await new Promise<void>(resolve =>
    socketServer.listen(join(jobsDir(), 'socket-job', 'app.sock'), resolve)
  )
  const ignoredSocket = createServer()
  await new Promise<void>(resolve =>
    ignoredSocket.listen(join(jobsDir(), 'special-ignored-job', 'app.sock'), resolve)
  )
  socketServer.on('close', () => ignoredSocket.close())
  // Root reads a folder of mode 000 all the same (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), and the
  // tests run as root in CI: there the bundle runs with both taken out of its bounding set, so that
  // the mode applies to it as to any user (it still owns its temporary files as root).
  unprivilegedNode = node24()
  if (isRoot) {
    unprivilegedNode = join(outside, 'node-without-dac')
    writeFileSync(
      unprivilegedNode,
      // bash, not sh: dash drops the INPUT_* variables, whose names hold '-'
      `#!/usr/bin/env bash\nexec setpriv --bounding-set=-dac_override,-dac_read_search -- '${node24()}' "$@"\n`,
      { mode: 0o755 }
    )
  }
})

afterAll(async () => {
  // each step on its own: a setup that failed half-way must not leave the service open
  try {
    if (socketServer) await new Promise<void>(resolve => socketServer.close(() => resolve()))
  } finally {
    await emu?.close()
    for (const job of ['unreadable-job', 'unsearchable-job', 'unreadable-ignored-job'])
      rmSync(join(jobsDir(), job, 'private'), { recursive: true, force: true })
    if (ws) rmSync(ws, { recursive: true, force: true })
    if (outside) rmSync(outside, { recursive: true, force: true })
  }
})

beforeEach(() => {
  emu.journal.splice(0)
})

describe.each(refusals.map(r => ({ ...r, where: r.action || 'root action' })))(
  '$where refuses $job',
  row => {
    test(`naming ${row.file || 'the folder'} in one line, before any request`, async () => {
      const r = await run(row.action, row.job, row)
      const path = `jobs/${row.job}${row.file ? `/${row.file}` : ''}`
      const failures = r.annotations.filter(a => a.level === 'error' && !a.file)
      const files = r.annotations.filter(a => a.level === 'error' && a.file)
      expect({ code: r.code, failures: failures.length }).toEqual({ code: 1, failures: 1 })
      const failure = failures[0].message
      expect(failure).not.toMatch(/[\r\n]/)
      // the file's annotation carries the reason; the failure line names the file with it
      const mine = files.find(a => a.file === path)
      expect(mine?.message).toMatch(row.message)
      const name = row.action || 'vdk-actions'
      if (row.action === 'validate') {
        expect(failure).toMatch(new RegExp(`^validate: \\d+ problem\\(s\\) in ${row.job}$`))
        expect(r.outputs).toEqual({ problems: String(files.length), valid: 'false' })
      } else {
        expect(failure.startsWith(`${name}: `)).toBe(true)
        expect(failure).toContain(path)
        expect(failure).toContain(mine?.message)
        expect(r.outputs).toEqual({})
      }
      expect(r.summary).toBe('')
      expect(emu.journal).toEqual([])
    })
  }
)

const uploaded = async (job: string): Promise<string[]> =>
  Object.keys(await sourcesOf(emu.url, TOKEN, TEAM, job)).sort()

/** A job folder's step, config.ini and .vdkignore: what each success below uploads. */
const basic = (job: string): string[] => [
  `${job}/.vdkignore`,
  `${job}/10_load.py`,
  `${job}/config.ini`
]

describe('what .vdkignore leaves out is neither read nor refused', () => {
  test.each([
    ['a link out of the checkout, a link loop and a keytab', 'ignored-refusals-job', false],
    ['a pipe and a socket', 'special-ignored-job', false],
    ['a name that is not UTF-8', 'latin1-ignored-job', false],
    ['a folder that cannot be read', 'unreadable-ignored-job', true]
  ])('%s: uploaded without them', async (_what, job, unprivileged) => {
    const r = await run('upload-sources', job, { unprivileged })
    expect(r.code).toBe(0)
    expect(await uploaded(job)).toEqual(basic(job))
  })

  test('config.ini is uploaded although a pattern matches it, and the log says so', async () => {
    const job = 'ignore-ini-job'
    const r = await run('upload-sources', job)
    expect(r.code).toBe(0)
    expect(r.log).toContain(
      `jobs/${job}/config.ini is uploaded although a .vdkignore pattern matches it: a data job always carries its config.ini`
    )
    expect(r.outputs['file-count']).toBe('3')
    expect(await uploaded(job)).toEqual(basic(job))
  })
})

test('a config.ini linked to a file inside the job folder is read, and uploaded as that file', async () => {
  const job = 'inner-link-ini-job'
  const r = await run('upload-sources', job)
  expect(r.code).toBe(0)
  const files = await sourcesOf(emu.url, TOKEN, TEAM, job)
  expect(files[`${job}/config.ini`]).toBe(files[`${job}/conf/prod.ini`])
  expect(files[`${job}/config.ini`]).toContain('schedule_cron = 0 6 * * *')
})

describe('a job folder nested in another is a job of its own', () => {
  const job = 'nested-parent-job'
  const said = `left out jobs/${job}/child-job: a data job of its own (it holds a config.ini); upload or validate it as its own job`

  test('upload-sources leaves it out of the parent and says so', async () => {
    const r = await run('upload-sources', job)
    expect(r.code).toBe(0)
    expect(r.log.split('\n').filter(l => l.includes('left out jobs/'))).toEqual([said])
    expect(await uploaded(job)).toEqual([
      `${job}/10_load.py`,
      `${job}/config.ini`,
      `${job}/lib/util.py`
    ])
  })

  test('validate says so too, and counts it in the summary', async () => {
    const r = await run('validate', job)
    expect(r.code).toBe(0)
    expect(r.log).toContain(said)
    expect(r.summary).toContain('1 nested data job(s) left out')
  })
})
