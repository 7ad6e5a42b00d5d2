// Who may talk to the local Control Service, and how much it takes: the token on the admin API,
// Host and Origin (src/emulator/access.ts), the caps on bodies and uploads (body.ts, sources.ts),
// sent by node:http exactly as given.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { constants as zlibConstants, crc32, deflateRawSync } from 'node:zlib'
import yauzl from 'yauzl'
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/server.js'
import { FAST, TEAM } from '../helpers/emulator-api.js'
import { jobFiles, jobPath, teamPath, zipOf } from '../helpers/fixtures.js'

interface RawAnswer {
  status: number
  json: unknown
}

/** One request by node:http, which sends Host, Origin and bodies exactly as given. */
function raw(
  emu: Emulator,
  method: string,
  path: string,
  o: { headers?: Record<string, string>; body?: Buffer; chunks?: Buffer[] } = {}
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    // node:http frames a GET or DELETE body only when told its length
    const length = o.body ? { 'Content-Length': String(o.body.length) } : {}
    const headers = { ...length, ...o.headers }
    const req = request({ host: '127.0.0.1', port: emu.port, method, path, headers })
    req.on('error', reject)
    req.on('response', res => {
      const parts: Buffer[] = []
      res.on('data', (c: Buffer) => parts.push(c))
      res.on('end', () => {
        const text = Buffer.concat(parts).toString()
        resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as unknown) : '' })
      })
    })
    // several writes without a Content-Length: a chunked body
    for (const c of o.chunks ?? []) req.write(c)
    req.end(o.body)
  })
}

/** Bytes in the files under `dir`. */
function diskUse(dir: string): number {
  let sum = 0
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile())
      sum += statSync(join(e.parentPath, e.name), { throwIfNoEntry: false })?.size ?? 0
  }
  return sum
}

const MiB = 1024 * 1024

/**
 * A zip of one file, `job/zeros.sql`, of `mib` MiB of zeros, deflated by zlib: one full-flush
 * segment of 1 MiB repeated (each starts afresh, so they can follow each other), then an empty
 * final block. Its headers say it inflates to `claimedBytes` (default: the truth).
 */
function zerosZip(job: string, mib: number, claimedBytes = mib * MiB): Buffer {
  const chunk = Buffer.alloc(MiB)
  const segment = deflateRawSync(chunk, { level: 9, finishFlush: zlibConstants.Z_FULL_FLUSH })
  const data = Buffer.concat([...Array<Buffer>(mib).fill(segment), Buffer.from([0x03, 0x00])])
  let crc = 0
  for (let i = 0; i < mib; i++) crc = crc32(chunk, crc)
  const name = Buffer.from(`${job}/zeros.sql`)
  const header = (central: boolean): Buffer => {
    const h = Buffer.alloc(central ? 46 : 30)
    let at = h.writeUInt32LE(central ? 0x02014b50 : 0x04034b50, 0)
    if (central) at = h.writeUInt16LE(0x0314, at) // made by: unix, zip 2.0
    at = h.writeUInt16LE(20, at) // version needed
    at = h.writeUInt16LE(0, at) // flags
    at = h.writeUInt16LE(8, at) // deflate
    at = h.writeUInt32LE(0x00210000, at) // time 00:00, date 1980-01-01
    at = h.writeUInt32LE(crc, at)
    at = h.writeUInt32LE(data.length, at)
    at = h.writeUInt32LE(claimedBytes, at)
    at = h.writeUInt16LE(name.length, at)
    at = h.writeUInt16LE(0, at) // extra field
    if (central) {
      at = h.writeUInt16LE(0, at) // comment
      at = h.writeUInt16LE(0, at) // disk
      at = h.writeUInt16LE(0, at) // internal attributes
      at = h.writeUInt32LE(0o100644 * 0x10000, at) // external: a regular file, rw-r--r--
      h.writeUInt32LE(0, at) // where its local header is
    }
    return h
  }
  const local = Buffer.concat([header(false), name, data])
  const central = Buffer.concat([header(true), name])
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(1, 8)
  end.writeUInt16LE(1, 10)
  end.writeUInt32LE(central.length, 12)
  end.writeUInt32LE(local.length, 16)
  return Buffer.concat([local, central, end])
}

/** How many bytes the zip's one file really inflates to (counted, not kept). */
async function inflatedSize(zip: Buffer): Promise<number> {
  const z = await yauzl.fromBufferPromise(zip, { lazyEntries: true, validateEntrySizes: false })
  const entry = await new Promise<yauzl.Entry>((resolve, reject) => {
    z.once('entry', resolve)
    z.once('error', reject)
    z.readEntry()
  })
  let n = 0
  for await (const c of await z.openReadStreamPromise(entry)) n += (c as Buffer).length
  z.close()
  return n
}

describe('local Control Service: who may talk to it, and how much it takes', () => {
  const TOKEN = 'admin-guard-token'
  const auth = { Authorization: `Bearer ${TOKEN}` }
  const dirs: string[] = []
  const started: Emulator[] = []
  async function guarded(options: EmulatorOptions = {}): Promise<{ emu: Emulator; dir: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'emu-guard-'))
    dirs.push(dir)
    const emu = await startEmulator({ ...FAST, tokens: [TOKEN], dataDir: dir, ...options })
    started.push(emu)
    return { emu, dir }
  }
  afterAll(async () => {
    await Promise.all(started.map(e => e.close()))
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })
  const json = { ...auth, 'Content-Type': 'application/json' }
  const zipType = { ...auth, 'Content-Type': 'application/octet-stream' }
  const newJob = async (emu: Emulator, job: string): Promise<void> => {
    const body = Buffer.from(JSON.stringify({ job_name: job, team: TEAM, config: {} }))
    expect((await raw(emu, 'POST', `${teamPath(TEAM)}/jobs`, { headers: json, body })).status).toBe(
      201
    )
  }

  test('with --token, the admin API asks for it as the API does: without it nothing is reset, scripted or read', async () => {
    const { emu } = await guarded()
    await newJob(emu, 'kept-job')
    for (const [method, path] of [
      ['POST', '/_emulator/reset'],
      ['POST', '/_emulator/faults'],
      ['GET', '/_emulator/journal'],
      ['GET', '/_emulator/config'],
      ['DELETE', '/_emulator/journal']
    ]) {
      const headers = { 'Content-Type': 'application/json' }
      const body = Buffer.from(method === 'POST' ? '{"path": ".", "status": 503}' : '')
      expect((await raw(emu, method, path, { headers, body })).status).toBe(401)
      const wrong = { ...headers, Authorization: 'Bearer not-it' }
      expect((await raw(emu, method, path, { headers: wrong, body })).status).toBe(401)
    }
    expect(emu.state.jobs['kept-job']).toBeDefined()
    expect((await raw(emu, 'GET', '/_emulator/faults', { headers: auth })).json).toEqual([])
    expect((await raw(emu, 'POST', '/_emulator/reset', { headers: json })).status).toBe(204)
    expect(emu.state.jobs['kept-job']).toBeUndefined()
  })

  test('a request whose Host does not name the service is refused before it reaches it (DNS rebinding)', async () => {
    const { emu } = await guarded({ allowedHosts: ['vdk-emulator.internal'] })
    await newJob(emu, 'rebind-job')
    const port = `:${emu.port}`
    for (const host of ['attacker.example' + port, 'attacker.example', '127.0.0.1.nip.io' + port]) {
      for (const [method, path] of [
        ['POST', '/_emulator/reset'],
        ['GET', `${jobPath(TEAM, 'rebind-job')}`],
        ['DELETE', `${jobPath(TEAM, 'rebind-job')}`]
      ]) {
        const res = await raw(emu, method, path, {
          headers: { ...json, Host: host },
          body: Buffer.from('{}')
        })
        expect(res.status).toBe(403)
        expect(res.json).toMatchObject({
          what: `The request's Host header ${JSON.stringify(host)} does not name this service.`,
          countermeasures: expect.stringContaining('--allow-host')
        })
      }
    }
    expect(emu.state.jobs['rebind-job']).toBeDefined()
    // a refused request never reached the service: not in its journal either
    expect(emu.journal.filter(j => j.status === 403)).toEqual([])
    for (const host of [
      `127.0.0.1${port}`,
      `localhost${port}`,
      `LOCALHOST.${port}`,
      `[::1]${port}`,
      '127.1.2.3',
      `vdk-emulator.internal${port}`
    ]) {
      const res = await raw(emu, 'GET', `${jobPath(TEAM, 'rebind-job')}`, {
        headers: { ...auth, Host: host }
      })
      expect([host, res.status]).toEqual([host, 200])
    }
  })

  test('a web page cannot drive it: a foreign Origin is refused, and admin POSTs need a JSON content type (no form can send one)', async () => {
    const { emu } = await guarded({ tokens: [] })
    await newJob(emu, 'origin-job')
    for (const origin of [
      'https://attacker.example',
      'null',
      'http://127.0.0.1.attacker.example'
    ]) {
      for (const [method, path] of [
        ['POST', '/_emulator/reset'],
        ['GET', `${jobPath(TEAM, 'origin-job')}`]
      ]) {
        const res = await raw(emu, method, path, { headers: { ...json, Origin: origin } })
        expect([origin, path, res.status]).toEqual([origin, path, 403])
        expect(res.json).toMatchObject({ what: expect.stringContaining(JSON.stringify(origin)) })
      }
    }
    // what a form can send, and nothing at all
    for (const type of [
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'text/plain',
      undefined
    ]) {
      const headers: Record<string, string> = type ? { 'Content-Type': type } : {}
      const res = await raw(emu, 'POST', '/_emulator/reset', { headers, body: Buffer.from('{}') })
      expect([type, res.status]).toEqual([type, 415])
      expect(res.json).toEqual({ error: expect.stringContaining('Content-Type: application/json') })
    }
    expect(emu.state.jobs['origin-job']).toBeDefined()
    // a page served from loopback (a local tool's UI) may
    const local = { 'Content-Type': 'application/json', Origin: `http://localhost:3000` }
    expect((await raw(emu, 'GET', '/_emulator/health', { headers: local })).status).toBe(200)
    expect((await raw(emu, 'POST', '/_emulator/reset', { headers: local })).status).toBe(204)
  })

  test('a body over --max-upload-bytes is a 413 the client reads (Content-Length or chunked), and nothing of it is kept', async () => {
    const { emu, dir } = await guarded({ maxUploadBytes: MiB })
    await newJob(emu, 'big-body-job')
    const path = `${jobPath(TEAM, 'big-body-job')}/sources`
    const over = Buffer.alloc(MiB + 64 * 1024, 7)
    const declared = await raw(emu, 'POST', path, { headers: zipType, body: over })
    const chunked = await raw(emu, 'POST', path, {
      headers: zipType,
      chunks: [over.subarray(0, MiB / 2), over.subarray(MiB / 2)]
    })
    for (const res of [declared, chunked]) {
      expect(res).toEqual({
        status: 413,
        json: {
          what: "The sources of data job 'big-body-job' were not uploaded.",
          why: `The upload is too large: the zip archive is larger than ${MiB} bytes (--max-upload-bytes).`,
          consequences: 'The job keeps its previous version.',
          countermeasures: expect.stringContaining('higher limit')
        }
      })
    }
    expect(readdirSync(join(dir, 'sources', 'tmp'))).toEqual([])
    expect(readdirSync(join(dir, 'sources', 'blobs'))).toEqual([])
    // JSON bodies have their cap too (secrets: 1 MiB), told by Content-Length before they are read
    const secrets = `${jobPath(TEAM, 'big-body-job')}/deployments/x/secrets`
    expect((await raw(emu, 'PUT', secrets, { headers: json, body: over })).status).toBe(413)
    // the connection and the service go on: an upload within the cap is stored
    const ok = await raw(emu, 'POST', path, {
      headers: zipType,
      body: await zipOf(jobFiles('big-body-job'))
    })
    expect(ok).toEqual({
      status: 200,
      json: { version_sha: expect.stringMatching(/^[0-9a-f]{40}$/) }
    })
  })

  test('a zip bomb (300 KB inflating to 300 MiB) is refused from its central directory, before a byte is inflated: the data dir stays small', async () => {
    const bomb = zerosZip('bomb-job', 300)
    expect(bomb.length).toBeLessThan(400 * 1024)
    expect(await inflatedSize(bomb)).toBe(300 * MiB)
    const { emu, dir } = await guarded()
    await newJob(emu, 'bomb-job')
    const before = diskUse(dir)
    // what the data dir holds while the service works on the upload, each time the test looks
    let peak = before
    const look = setInterval(() => (peak = Math.max(peak, diskUse(dir))), 1)
    let res: RawAnswer
    try {
      res = await raw(emu, 'POST', `${jobPath(TEAM, 'bomb-job')}/sources`, {
        headers: zipType,
        body: bomb
      })
    } finally {
      clearInterval(look)
    }
    expect(res.status).toBe(413)
    expect(res.json).toMatchObject({
      why: `The upload is too large: its files inflate to more than ${64 * MiB} bytes, over 100 times the ${bomb.length} bytes of the zip (--max-inflate-ratio): a zip bomb.`
    })
    expect(peak).toBeLessThan(before + bomb.length + 64 * 1024)
    expect(diskUse(dir) - before).toBeLessThan(64 * 1024)
    expect(readdirSync(join(dir, 'sources', 'blobs'))).toEqual([])
    expect(emu.state.jobs['bomb-job'].versions).toEqual([])
  })

  test('a zip that understates its size is cut off where its headers said; the limits on files and entries hold', async () => {
    const { emu, dir } = await guarded({ maxSourcesBytes: 3 * MiB, maxSourcesEntries: 4 })
    await newJob(emu, 'liar-job')
    const path = `${jobPath(TEAM, 'liar-job')}/sources`
    // says 1 MiB, inflates to 50 MiB: yauzl stops it at the 1 MiB it declared
    const liar = zerosZip('liar-job', 50, MiB)
    const cut = await raw(emu, 'POST', path, { headers: zipType, body: liar })
    expect(cut.status).toBe(400)
    expect(cut.json).toMatchObject({ why: expect.stringContaining('too many bytes in the stream') })
    expect(readdirSync(join(dir, 'sources', 'tmp'))).toEqual([])
    expect(diskUse(join(dir, 'sources'))).toBe(0)
    const honest = zerosZip('liar-job', 4)
    const over = await raw(emu, 'POST', path, { headers: zipType, body: honest })
    expect(over.status).toBe(413)
    expect(over.json).toMatchObject({
      why: `The upload is too large: its files inflate to more than ${3 * MiB} bytes (--max-sources-bytes).`
    })
    const files = Object.fromEntries(
      Array.from({ length: 5 }, (_, i) => [`liar-job/f${i}.sql`, 'SELECT 1;\n'])
    )
    const many = await raw(emu, 'POST', path, { headers: zipType, body: await zipOf(files) })
    expect(many.status).toBe(413)
    expect(many.json).toMatchObject({
      why: 'The upload is too large: the zip archive holds 5 entries, more than 4 (--max-sources-entries).'
    })
    expect(diskUse(join(dir, 'sources'))).toBe(0)
    expect((await raw(emu, 'GET', '/_emulator/config', { headers: auth })).json).toMatchObject({
      max_upload_bytes: 5 * 1024 * MiB,
      max_sources_bytes: 3 * MiB,
      max_sources_entries: 4,
      max_inflate_ratio: 100
    })
  })
})
