// The job folder as the actions read it, in process: config.ini's parser says where a line is wrong
// and never what it holds; a file of the job folder itself (config.ini, .vdkignore) is read only
// when it is a regular file inside the folder, within its size cap; and the scan turns every file
// system failure into one line naming the path, including those a test cannot make happen on
// time (a file vanishing between the folder's listing and its look, a folder root could read
// anyway): these are injected into node:fs.
import { jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

type Call = 'lstat' | 'readdir' | 'access'
/** Injected failures: the call, the end of the path it fails on, the error code. */
const failures: Array<{ call: Call; path: string; code: string }> = []
const real = fs as unknown as Record<string, (...a: unknown[]) => unknown>
const failing =
  (call: Call, name: string) =>
  (...args: unknown[]): unknown => {
    const f = failures.find(f => f.call === call && String(args[0]).endsWith(f.path))
    if (f)
      throw Object.assign(new Error(`${f.code}: injected, ${String(args[0])}`), { code: f.code })
    return real[name](...args)
  }
jest.unstable_mockModule('node:fs', () => ({
  ...fs,
  default: fs,
  lstatSync: failing('lstat', 'lstatSync'),
  readdirSync: failing('readdir', 'readdirSync'),
  accessSync: failing('access', 'accessSync')
}))
const { parseIni } = await import('../../src/core/configini.js')
const { MAX_JOB_FILE_BYTES, readJobFile } = await import('../../src/core/jobdir.js')
const { scanJob } = await import('../../src/core/scan.js')

let dir: string
let job: string
beforeEach(() => {
  failures.splice(0)
  dir = fs.mkdtempSync(join(tmpdir(), 'jobdir-test-'))
  job = join(dir, 'job')
  fs.mkdirSync(join(job, 'lib'), { recursive: true })
  fs.writeFileSync(join(job, 'config.ini'), '[owner]\nteam = t\n')
  fs.writeFileSync(join(job, '10_load.py'), '')
  fs.writeFileSync(join(job, 'lib', 'util.py'), '')
})
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

describe('parseIni', () => {
  test('says where a line is wrong, never what it holds', () => {
    const SECRET = 'hunter2-SECRET'
    const ini = parseIni(
      [
        `${SECRET} before any section = 1`, // 1: a key before any section
        '[owner]', // 2
        `team = ${SECRET}`, // 3
        `  ${SECRET}`, // 4: continues the team
        `::warning::${SECRET}`, // 5: no key
        '', // 6: ends the team (an indented line next would continue it)
        `   = ${SECRET}`, // 7: no key, indented: column 4
        `TEAM = ${SECRET}`, // 8: the key of line 3 again
        '[owner]' // 9: the section of line 2 again
      ].join('\n')
    )
    expect(ini.problems).toEqual([
      { line: 1, message: expect.stringContaining('a key before any [section]') },
      { line: 5, message: "column 1: expected 'key = value', '[section]' or a comment" },
      { line: 7, message: "column 4: expected 'key = value', '[section]' or a comment" },
      { line: 8, message: 'the key of line 3 is set again in its section' },
      { line: 9, message: 'the section of line 2 appears again: merge the two' }
    ])
    expect(JSON.stringify(ini.problems)).not.toContain(SECRET)
  })
})

describe('readJobFile', () => {
  test('reads a regular file, and one linked from inside the job folder', () => {
    fs.writeFileSync(join(job, 'lib', 'ignore.txt'), '*.tmp\n')
    fs.symlinkSync('lib/ignore.txt', join(job, '.vdkignore'))
    expect(readJobFile(job, 'config.ini')).toEqual({ text: '[owner]\nteam = t\n' })
    expect(readJobFile(job, '.vdkignore')).toEqual({ text: '*.tmp\n' })
    expect(readJobFile(job, 'absent.ini')).toEqual({ missing: true })
  })

  test.each([
    [
      'a link out of the job folder',
      () => {
        fs.writeFileSync(join(dir, 'key'), 'KEY')
        fs.symlinkSync('../key', join(job, 'x.ini'))
      },
      'a symbolic link that leads outside the job folder: x.ini is read only from a file inside it'
    ],
    [
      'a link into a .git folder',
      () => {
        fs.mkdirSync(join(job, '.git'))
        fs.writeFileSync(join(job, '.git', 'config'), '[http]\nextraheader = KEY\n')
        fs.symlinkSync('.git/config', join(job, 'x.ini'))
      },
      'a symbolic link into a .git folder: x.ini is not read from there'
    ],
    [
      'a link that leads nowhere',
      () => fs.symlinkSync('gone.ini', join(job, 'x.ini')),
      'a symbolic link that leads nowhere'
    ],
    [
      'a named pipe (not opened: it would wait for a writer)',
      () => void execFileSync('mkfifo', [join(job, 'x.ini')]),
      'is a named pipe, not a file: x.ini must be a file'
    ],
    ['a folder', () => fs.mkdirSync(join(job, 'x.ini')), 'is a folder: x.ini must be a file'],
    [
      'a file one byte over the cap',
      () => fs.writeFileSync(join(job, 'x.ini'), Buffer.alloc(MAX_JOB_FILE_BYTES + 1, 0x23)),
      `holds ${MAX_JOB_FILE_BYTES + 1} bytes, more than the ${MAX_JOB_FILE_BYTES} a x.ini may hold`
    ]
  ])('refuses %s in one line', (_what, make, message) => {
    make()
    expect(readJobFile(job, 'x.ini')).toEqual({ problem: { file: join(job, 'x.ini'), message } })
  })

  test('reads a file of exactly the cap', () => {
    fs.writeFileSync(join(job, 'x.ini'), Buffer.alloc(MAX_JOB_FILE_BYTES, 0x23))
    expect(readJobFile(job, 'x.ini')).toEqual({ text: '#'.repeat(MAX_JOB_FILE_BYTES) })
  })
})

describe('scanJob turns a file system failure into one line naming the path', () => {
  test.each([
    [
      'a file that vanished between the listing and its look',
      { call: 'lstat', path: 'lib/util.py', code: 'ENOENT' },
      'lib/util.py',
      'cannot be read (it vanished while the job folder was read)'
    ],
    [
      'a folder that cannot be listed',
      { call: 'readdir', path: 'lib', code: 'EACCES' },
      'lib',
      'a folder that cannot be read (permission denied)'
    ],
    [
      'a file that cannot be read',
      { call: 'access', path: '10_load.py', code: 'EACCES' },
      '10_load.py',
      'cannot be read (permission denied)'
    ],
    [
      'a folder replaced by a file while it was scanned',
      { call: 'readdir', path: 'lib', code: 'ENOTDIR' },
      'lib',
      'a folder that cannot be read (it changed while the job folder was read)'
    ],
    [
      'an error without a known meaning',
      { call: 'lstat', path: 'lib/util.py', code: 'EIO' },
      'lib/util.py',
      'cannot be read (EIO)'
    ]
  ] as const)('%s', async (_what, failure, file, message) => {
    failures.push(failure)
    const scan = await scanJob(job)
    expect(scan.problems).toEqual([{ file: join(job, file), message }])
  })
})
