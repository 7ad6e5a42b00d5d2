// The zip writer, read back by independent readers: yauzl (strict: it checks sizes, and it is what
// the local Control Service reads uploads with), plus Info-ZIP `unzip -t` and Python's zipfile
// when the machine has them. Real files in a temporary folder, no mocks.
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { crc32, inflateRawSync } from 'node:zlib'
import yauzl from 'yauzl'
import { readStored, SMALL_FILE, zipJob } from '../../src/core/archive.js'
import {
  MAX_BYTES,
  MAX_ENTRIES,
  MAX_REFUSALS,
  scanJob,
  type JobEntry
} from '../../src/core/scan.js'

interface ReadEntry {
  name: string
  method: number
  flags: number
  mode: number
  content: Buffer
}

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(c)
  return Buffer.concat(chunks)
}

/** Every entry of `zip` as yauzl reads it (sizes and CRCs checked by yauzl). */
async function readBack(zip: Buffer): Promise<ReadEntry[]> {
  const file = await yauzl.fromBufferPromise(zip, { lazyEntries: true, validateEntrySizes: true })
  const out: ReadEntry[] = []
  await new Promise<void>((resolve, reject) => {
    file.on('error', reject)
    file.on('end', () => resolve())
    file.on('entry', (e: yauzl.Entry) => {
      const base = {
        name: e.fileName,
        method: e.compressionMethod,
        flags: e.generalPurposeBitFlag,
        mode: e.externalFileAttributes >>> 16
      }
      if (e.fileName.endsWith('/')) {
        out.push({ ...base, content: Buffer.alloc(0) })
        file.readEntry()
        return
      }
      file.openReadStream(e, (err, s) => {
        if (err) return reject(err)
        collect(s).then(content => {
          out.push({ ...base, content })
          file.readEntry()
        }, reject)
      })
    })
    file.readEntry()
  })
  return out
}

const has = (cmd: string, args: string[]): boolean => spawnSync(cmd, args).status === 0

let dir: string
let job: string
const random = randomBytes(3 * SMALL_FILE)
const text = Buffer.from('SELECT 1;\n'.repeat(5000))

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'archive-test-'))
  job = join(dir, 'job')
  mkdirSync(join(job, 'sql', 'ünïcödé'), { recursive: true })
  writeFileSync(join(job, 'config.ini'), '[owner]\nteam = t\n')
  writeFileSync(join(job, 'sql', 'report.sql'), text)
  writeFileSync(join(job, 'sql', 'ünïcödé', 'données.csv'), 'a,b\n1,2\n')
  writeFileSync(join(job, 'random.bin'), random.subarray(0, 50_000))
  writeFileSync(join(job, 'empty.txt'), '')
  writeFileSync(join(job, 'large.bin'), random) // above SMALL_FILE: streamed
  writeFileSync(join(job, 'large.txt'), Buffer.concat([text, text, text, text, text, text])) // 300 KB
  writeFileSync(join(job, 'run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 })
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

async function zipOfJob(): Promise<{ zip: Buffer; bytes: number; entries: JobEntry[] }> {
  const scan = await scanJob(job)
  expect(scan.problems).toEqual([])
  const z = zipJob(scan.entries, 'my-job')
  const zip = await collect(z.stream)
  return { zip, bytes: z.bytes(), entries: scan.entries }
}

describe('zipJob', () => {
  it('writes every file and folder under one top folder, byte for byte, in sorted order', async () => {
    const { zip, bytes } = await zipOfJob()
    expect(bytes).toBe(zip.length)
    const read = await readBack(zip)
    expect(read.map(e => e.name)).toEqual([
      'my-job/',
      'my-job/config.ini',
      'my-job/empty.txt',
      'my-job/large.bin',
      'my-job/large.txt',
      'my-job/random.bin',
      'my-job/run.sh',
      'my-job/sql/',
      'my-job/sql/report.sql',
      'my-job/sql/ünïcödé/',
      'my-job/sql/ünïcödé/données.csv'
    ])
    const byName = new Map(read.map(e => [e.name, e]))
    expect(byName.get('my-job/large.bin')?.content.equals(random)).toBe(true)
    expect(byName.get('my-job/random.bin')?.content.equals(random.subarray(0, 50_000))).toBe(true)
    expect(byName.get('my-job/sql/report.sql')?.content.equals(text)).toBe(true)
    expect(byName.get('my-job/large.txt')?.content.length).toBe(text.length * 6)
    expect(byName.get('my-job/empty.txt')?.content.length).toBe(0)
    expect(byName.get('my-job/sql/ünïcödé/données.csv')?.content.toString()).toBe('a,b\n1,2\n')
  })

  it('deflates what shrinks, stores what does not, streams large files with a data descriptor', async () => {
    const read = new Map((await readBack((await zipOfJob()).zip)).map(e => [e.name, e]))
    const DEFLATED = 8
    const STORED = 0
    expect(read.get('my-job/sql/report.sql')?.method).toBe(DEFLATED)
    expect(read.get('my-job/random.bin')?.method).toBe(STORED)
    expect(read.get('my-job/empty.txt')?.method).toBe(STORED)
    // small files carry their sizes in the local header; large ones after the data
    expect((read.get('my-job/random.bin')?.flags ?? 0) & 0x8).toBe(0)
    expect((read.get('my-job/large.bin')?.flags ?? 0) & 0x8).toBe(0x8)
    expect(read.get('my-job/large.bin')?.method).toBe(DEFLATED)
    // names are flagged UTF-8
    expect((read.get('my-job/sql/ünïcödé/données.csv')?.flags ?? 0) & 0x800).toBe(0x800)
  })

  it('keeps the execute bit and gives fixed modes: 755 folders, 644 or 755 files', async () => {
    const read = new Map((await readBack((await zipOfJob()).zip)).map(e => [e.name, e]))
    expect(read.get('my-job/')?.mode).toBe(0o40755)
    expect(read.get('my-job/sql/')?.mode).toBe(0o40755)
    expect(read.get('my-job/run.sh')?.mode).toBe(0o100755)
    expect(read.get('my-job/config.ini')?.mode).toBe(0o100644)
  })

  it('gives the same bytes for the same tree, whatever the files’ times', async () => {
    const first = (await zipOfJob()).zip
    writeFileSync(join(job, 'config.ini'), '[owner]\nteam = t\n') // rewritten: a new mtime
    const second = (await zipOfJob()).zip
    expect(second.equals(first)).toBe(true)
    // the DOS date of every local header is 1980-01-01 00:00
    expect(first.readUInt16LE(10)).toBe(0)
    expect(first.readUInt16LE(12)).toBe(0x21)
  })

  it('is read without complaint by Info-ZIP unzip', async () => {
    if (!has('unzip', ['-v'])) {
      console.warn('skipped: `unzip` is not installed on this machine')
      return
    }
    const path = join(dir, 'out.zip')
    writeFileSync(path, (await zipOfJob()).zip)
    const res = spawnSync('unzip', ['-t', path], { encoding: 'utf8' })
    expect(res.stdout).toContain('No errors detected')
    expect(res.status).toBe(0)
  })

  it("is read without complaint by Python's zipfile (as the official CLI's own zips are)", async () => {
    if (!has('python3', ['--version'])) {
      console.warn('skipped: `python3` is not installed on this machine')
      return
    }
    const path = join(dir, 'out.zip')
    writeFileSync(path, (await zipOfJob()).zip)
    const script =
      'import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nprint(z.testzip())\nprint(sum(i.file_size for i in z.infolist()))'
    const res = spawnSync('python3', ['-c', script, path], { encoding: 'utf8' })
    expect(res.stderr).toBe('')
    const [bad, total] = res.stdout.trim().split('\n')
    expect(bad).toBe('None')
    expect(Number(total)).toBe(
      text.length * 7 + random.length + 50_000 + 8 + '[owner]\nteam = t\n'.length + 18
    )
  })

  it('fails with the path when a file changed size after the scan', async () => {
    const scan = await scanJob(job)
    appendFileSync(join(job, 'sql', 'report.sql'), 'SELECT 2;\n')
    await expect(collect(zipJob(scan.entries, 'j').stream)).rejects.toThrow(
      /^sql\/report\.sql changed while it was zipped \(50000 bytes when the folder was scanned, more now\)/
    )
  })

  it('fails with the path when a large file grew after the scan, without reading all of it', async () => {
    const scan = await scanJob(job)
    appendFileSync(join(job, 'large.bin'), random)
    await expect(collect(zipJob(scan.entries, 'j').stream)).rejects.toThrow(
      /^large\.bin changed while it was zipped \(3145728 bytes when the folder was scanned, more now\)/
    )
  })

  it('fails with the path when a large file shrank after the scan', async () => {
    const scan = await scanJob(job)
    truncateSync(join(job, 'large.bin'), SMALL_FILE)
    await expect(collect(zipJob(scan.entries, 'j').stream)).rejects.toThrow(
      /^large\.bin changed while it was zipped/
    )
  })

  it('fails with the path when a file vanished after the scan', async () => {
    const scan = await scanJob(job)
    rmSync(join(job, 'random.bin'))
    rmSync(join(job, 'large.bin'))
    await expect(collect(zipJob(scan.entries, 'j').stream)).rejects.toThrow(
      /^large\.bin could not be read while zipping: ENOENT/
    )
  })

  it('reads a stored file again when it is sent, and refuses it when its content changed since it was packed', async () => {
    // a stored file is packed ahead (CRC and size) and read again when its turn comes (readStored)
    const scan = await scanJob(job)
    const entry = scan.entries.find(e => e.path === 'random.bin')!
    const packed = crc32(random.subarray(0, 50_000))
    await expect(readStored(entry, packed)).resolves.toEqual(random.subarray(0, 50_000))
    // the same size, other bytes: only the CRC can tell
    writeFileSync(join(job, 'random.bin'), random.subarray(1, 50_001))
    await expect(readStored(entry, packed)).rejects.toThrow(
      /^random\.bin changed while it was zipped \(its content differs from when it was first read\)/
    )
  })

  it('keeps order and content past the read-ahead limits (4 MiB, 4 files, a large file between)', async () => {
    const many = join(dir, 'many')
    mkdirSync(many)
    const expected = new Map<string, Buffer>()
    for (let i = 0; i < 40; i++) {
      // alternately text (deflated) and random (stored), 300 KB each: 12 MB past a 4 MiB budget
      const content =
        i % 2
          ? random.subarray(i * 1000, i * 1000 + 300_000)
          : Buffer.from(`${i}\n`.repeat(100_000))
      const name = `f${String(i).padStart(2, '0')}.bin`
      writeFileSync(join(many, name), content)
      expected.set(`m/${name}`, content)
    }
    writeFileSync(join(many, 'f20-large.bin'), random) // streamed, between small ones
    expected.set('m/f20-large.bin', random)
    const scan = await scanJob(many)
    const read = await readBack(await collect(zipJob(scan.entries, 'm').stream))
    const files = read.filter(e => !e.name.endsWith('/'))
    expect(files.map(e => e.name)).toEqual([...expected.keys()].sort())
    for (const e of files) expect(e.content.equals(expected.get(e.name) as Buffer)).toBe(true)
  })

  it('stops reading when the consumer stops (an upload cut short)', async () => {
    const scan = await scanJob(job)
    const z = zipJob(scan.entries, 'j')
    for await (const chunk of z.stream) {
      expect(chunk.length).toBeGreaterThan(0)
      break
    }
    expect(z.stream.destroyed).toBe(true)
    expect(z.bytes()).toBeLessThan(random.length)
  })

  it('writes a raw deflate stream that inflates on its own (no zlib header)', async () => {
    const { zip } = await zipOfJob()
    // the first file entry after the top folder is config.ini, deflated: header 30 + name
    const name = 'my-job/config.ini'
    const at = 30 + 'my-job/'.length
    expect(zip.readUInt32LE(at)).toBe(0x04034b50)
    expect(zip.toString('utf8', at + 30, at + 30 + name.length)).toBe(name)
    const method = zip.readUInt16LE(at + 8)
    const compressed = zip.readUInt32LE(at + 18)
    const data = zip.subarray(at + 30 + name.length, at + 30 + name.length + compressed)
    const content = method === 8 ? inflateRawSync(data) : data
    expect(content.toString()).toBe('[owner]\nteam = t\n')
  })
})

describe('what one upload can hold', () => {
  it('a tree over the entry limit is a problem on the job folder, found by the scan', async () => {
    const many = join(dir, 'many')
    mkdirSync(join(many, 'd0'), { recursive: true })
    writeFileSync(join(many, 'config.ini'), '[owner]\nteam = t\n')
    for (let f = 0; f < 1000; f++) writeFileSync(join(many, 'd0', `f${f}`), '')
    // 65 more folders of 1,000 files each, as links to the first (followed: they stay inside)
    for (let d = 1; d < 66; d++) symlinkSync('d0', join(many, `d${d}`))
    const scan = await scanJob(many)
    expect(scan.problems).toEqual([
      {
        file: many,
        message: `holds more than the ${MAX_ENTRIES} files and folders an upload can hold (the scan stopped there): leave some out with .vdkignore, or check job-path`
      }
    ])
    // the walk stopped at the limit instead of listing the whole tree
    expect(scan.entries.length).toBeLessThanOrEqual(MAX_ENTRIES + 1)
  })

  it('names at most MAX_REFUSALS refused files, and counts the rest in one line', async () => {
    const pipes = join(dir, 'pipes')
    mkdirSync(pipes)
    writeFileSync(join(pipes, 'config.ini'), '[owner]\nteam = t\n')
    const count = MAX_REFUSALS + 10
    for (let i = 0; i < count; i++)
      expect(spawnSync('mkfifo', [join(pipes, `p${String(i).padStart(3, '0')}`)]).status).toBe(0)
    const scan = await scanJob(pipes)
    expect(scan.problems).toHaveLength(MAX_REFUSALS + 1)
    expect(scan.problems[0].file).toBe(join(pipes, 'p000'))
    expect(scan.problems[MAX_REFUSALS]).toEqual({
      file: pipes,
      message: `10 more file(s) refused as the ones above (only the first ${MAX_REFUSALS} are named)`
    })
  })

  it("refuses what a linked folder holds inside the checkout's .git, not only links into it", async () => {
    const checkout = join(dir, 'checkout')
    const job = join(checkout, 'jobs', 'git-job')
    mkdirSync(join(checkout, '.git'), { recursive: true })
    writeFileSync(
      join(checkout, '.git', 'config'),
      '[http]\nextraheader = AUTHORIZATION: basic x\n'
    )
    mkdirSync(job, { recursive: true })
    writeFileSync(join(job, 'config.ini'), '[owner]\nteam = t\n')
    writeFileSync(join(job, 'run.py'), '')
    // the whole checkout linked in, with only its .git let through by the ignore rules
    symlinkSync('../..', join(job, 'repo'))
    writeFileSync(join(job, '.vdkignore'), '!.git/\nrepo/jobs/\n')
    const scan = await scanJob(job, checkout)
    expect(scan.entries.map(e => e.path)).not.toContain('repo/.git/config')
    expect(scan.problems).toEqual([
      {
        file: join(job, 'repo', '.git'),
        message: `inside the repository's .git folder (${join(checkout, '.git')}), which may hold the checkout's credentials`
      }
    ])
  })

  it('a tree over the size limit is a problem on the job folder (sparse files: no disk used)', async () => {
    const big = join(dir, 'big')
    mkdirSync(big)
    writeFileSync(join(big, 'config.ini'), '')
    writeFileSync(join(big, 'data.bin'), '')
    truncateSync(join(big, 'data.bin'), MAX_BYTES + 1)
    const scan = await scanJob(big)
    expect(scan.problems.map(p => p.message)).toEqual([
      `holds ${MAX_BYTES + 1} bytes of files, more than the ${MAX_BYTES} an upload can hold: leave large files out with .vdkignore`
    ])
  })
})
