// The local Control Service's logs endpoint over loopback (src/emulator/api/logs.ts, podlog.ts):
// tail_lines read as Spring reads a Java Integer, records as the container runtime writes them
// (lines of a string, CRLF, lone CR, long lines in 16 KiB pieces), kubelet timestamps, 503 before
// the container starts, retention after the end, cancel, restarts and rotation, state kept across
// a restart from --data-dir. Facts: /work/notes/issue19-facts.md §1.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseCli } from '../../src/emulator/cli.js'
import type { ExecutionScript } from '../../src/emulator/model.js'
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/server.js'
import { Api } from '../helpers/api.js'
import { Contract } from '../helpers/contract.js'
import {
  admin,
  closeServices,
  describeIfSpec,
  executionRecord,
  FAST,
  liveJob,
  service,
  TEAM
} from '../helpers/emulator-api.js'
import { enc, jobPath, readExecution, startExecution } from '../helpers/fixtures.js'
import { KUBELET_TIME, withoutKubeletTimes } from '../helpers/kubelet-time.js'

const stamps = (text: string): string[] =>
  text.split('\n').map(l => KUBELET_TIME.exec(l)?.[0] ?? '')
const unstamped = withoutKubeletTimes

/** The kubelet time of a moment on the service's clock (ms) plus `ns` nanoseconds. */
const kubeletTime = (ms: number, ns = 0): string => {
  const fraction = String((ms % 1000) * 1_000_000 + ns).padStart(9, '0')
  return `${new Date(ms).toISOString().slice(0, 19)}.${fraction}Z `
}

describeIfSpec('local Control Service, the logs endpoint', () => {
  let emu: Emulator
  let api: Api
  let n = 0
  beforeAll(async () => {
    ;({ emu, api } = await service())
  })
  afterAll(closeServices)

  /** A fresh live job, scripted with `script`, started with the clock frozen at the start. */
  async function started(script: Partial<ExecutionScript>, on = { emu, api }) {
    const job = `logs-${++n}-job`
    on.emu.clock.resume()
    await liveJob(on.api, job)
    await admin(on.emu, 'POST', `jobs/${enc(TEAM)}/${job}/next-execution`, {
      submitSeconds: 0,
      seconds: 0,
      ...script
    })
    on.emu.clock.freeze()
    const id = await startExecution(on.api, TEAM, job)
    const path = `${jobPath(TEAM, job)}/executions/${enc(id)}`
    const e = executionRecord(on.emu, job, id)
    const read = async (query = ''): Promise<string> => {
      const res = await on.api.call('GET', `${path}/logs${query}`)
      expect(res.status).toBe(200)
      return (res.json as { logs: string }).logs
    }
    return { job, id, path, e, read }
  }
  afterEach(() => emu.clock.resume())

  test('tail_lines is a Java Integer: +, -, leading zeros, whitespace, hex; empty, 0 or negative is all; anything else a 500', async () => {
    const { path, read } = await started({
      logs: ['l1', 'l2', 'l3', 'l4', 'l5'],
      timestamps: false
    })
    const all = 'l1\nl2\nl3\nl4\nl5'
    const last2 = 'l4\nl5'
    const table: Array<[string, string | 500]> = [
      ['', all],
      ['?tail_lines=', all],
      ['?tail_lines=0', all],
      ['?tail_lines=-3', all],
      ['?tail_lines=-2147483648', all],
      ['?tail_lines=2', last2],
      ['?tail_lines=%2B2', last2],
      ['?tail_lines=0002', last2],
      ['?tail_lines=%202%20', last2],
      ['?tail_lines=0x2', last2],
      ['?tail_lines=%232', last2],
      ['?tail_lines=-0x2', all],
      ['?tail_lines=5', all],
      ['?tail_lines=2147483647', all],
      ['?tail_lines=2147483648', 500],
      ['?tail_lines=99999999999', 500],
      ['?tail_lines=abc', 500],
      ['?tail_lines=1.5', 500],
      ['?tail_lines=%2B-1', 500],
      ['?tail_lines=%2B0x2', 500],
      ['?tail_lines=%20', 500]
    ]
    for (const [query, want] of table) {
      const res = await fetch(`${emu.url}${path}/logs${query}`)
      const body = (await res.json()) as Record<string, string>
      expect([query, res.status]).toEqual([query, want === 500 ? 500 : 200])
      if (want !== 500) expect([query, body.logs]).toEqual([query, want])
      else expect(body.what).toBe('A coding error (bug) was found.')
    }
    expect(await read('?tail_lines=1')).toBe('l5')
    const bad = await api.call('GET', `${path}/logs?tail_lines=abc`, {
      deviations: ['bad-integer-500'],
      invalidRequest: 'tail_lines is not an integer'
    })
    expect(bad.json).toEqual({
      what: 'A coding error (bug) was found.',
      why: expect.stringContaining('For input string: "abc"'),
      consequences: 'This call with the current OpId will most likely fail.',
      countermeasures:
        'Inspect stack trace and either fix the problem or open a GitHub issue for it.'
    })
    // Spring converts the parameter before the controller looks the execution up
    const unknown = await fetch(`${emu.url}${path}-nope/logs?tail_lines=abc`)
    expect(unknown.status).toBe(500)
  })

  test('records, not strings: "\\n" splits, CRLF is LF, a lone CR breaks the line but is no record', async () => {
    const { read } = await started({ logs: ['a\nb', 'c\r\nd', 'x\ry', 'e\r'], timestamps: false })
    expect(await read()).toBe('a\nb\nc\nd\nx\ny\ne')
    // records: a, b, c, d, x␍y, e
    expect(await read('?tail_lines=1')).toBe('e')
    expect(await read('?tail_lines=2')).toBe('x\ny\ne')
    expect(await read('?tail_lines=4')).toBe('c\nd\nx\ny\ne')
    expect(await read('?tail_lines=5')).toBe('b\nc\nd\nx\ny\ne')
  })

  test('a 40 KiB line is three 16 KiB records: tail_lines=1 is its last fragment; timestamps at line starts', async () => {
    const long = 'A'.repeat(16384) + 'B'.repeat(16384) + 'C'.repeat(8192)
    const { read, e } = await started({ logs: ['first', long], timestamps: false })
    expect(await read('?tail_lines=1')).toBe('C'.repeat(8192))
    expect(await read('?tail_lines=2')).toBe(`${'B'.repeat(16384)}${'C'.repeat(8192)}`)
    expect(await read('?tail_lines=3')).toBe(long)
    expect(await read()).toBe(`first\n${long}`)
    // UTF-8 bytes count: 2-byte characters make 8192 per record
    const wide = await started({ logs: ['é'.repeat(10000)], timestamps: false })
    expect(await wide.read('?tail_lines=1')).toBe('é'.repeat(1808))
    // with timestamps (the kubelet since kubernetes#113481): one per line, and one on a fragment
    // that begins the answer; records are 0 first, 1-3 the long line
    e.timestamps = undefined
    const at = e.running_at
    expect(await wide.read()).toBe('é'.repeat(10000))
    expect(await read('?tail_lines=1')).toBe(`${kubeletTime(at, 3)}${'C'.repeat(8192)}`)
    expect(await read()).toBe(`${kubeletTime(at)}first\n${kubeletTime(at, 1)}${long}`)
  })

  test('kubelet timestamps: RFC3339Nano with 9 digits, the time each record was written, distinct, the same on every read', async () => {
    const { read, e, job, id } = await started({ logs: ['one', 'two', 'two'], seconds: 3 })
    emu.clock.advanceTo(e.end_at)
    const text = await read()
    expect(unstamped(text)).toBe('one\ntwo\ntwo')
    // string k appears at running_at + k s; record i adds i ns
    expect(stamps(text)).toEqual([
      kubeletTime(e.running_at),
      kubeletTime(e.running_at + 1000, 1),
      kubeletTime(e.running_at + 2000, 2)
    ])
    expect(await read()).toBe(text)
    expect(await read('?tail_lines=1')).toBe(text.split('\n')[2])
    // the log store of logs_url has no kubelet times
    const url = (await readExecution(api, TEAM, job, id)).logs_url as string
    expect(await (await fetch(url)).text()).toBe('one\ntwo\ntwo\n')
    // a script can turn them off
    const off = await started({ logs: ['one'], timestamps: false })
    expect(await off.read()).toBe('one')
  })

  test('logTimestamps: false serves bare lines', async () => {
    const bare = await service({ logTimestamps: false })
    const { read } = await started({ logs: ['p', 'q'] }, bare)
    expect(await read()).toBe('p\nq')
    expect((await admin(bare.emu, 'GET', 'config')).json).toMatchObject({
      log_timestamps: false,
      log_rotate_bytes: 10 * 1024 * 1024,
      logs_retention_seconds: 3600
    })
    bare.emu.clock.resume()
  })

  test('503 (ExternalSystemError) while the container has not started; 200 once it runs, or after a cancel', async () => {
    const { path, e, read, id, job } = await started({ logs: ['go'], submitSeconds: 5, seconds: 1 })
    const res = await api.call('GET', `${path}/logs`, { deviations: ['logs-not-started-503'] })
    expect(res.status).toBe(503)
    expect(res.json).toEqual({
      what:
        `KUBERNETES encountered an error: Failed to get logs for job execution ${id} (job: ${job}, ` +
        `team: ${TEAM})\nKubernetes API Exception Details: \nresponse body: null\nresponse headers: null.`,
      why: 'The external system may be experiencing intermittent issues or there might be permanent misconfiguration or outage.',
      consequences: 'The current API operation failed.',
      countermeasures:
        'Try the operation again in a few minutes and open a ticket to the SRE team if the problem persists.'
    })
    expect(Object.keys(res.json as object)).toEqual([
      'what',
      'why',
      'consequences',
      'countermeasures'
    ])
    emu.clock.advanceTo(e.running_at)
    expect(unstamped(await read())).toBe('go')
    // cancelled while submitted: the Job is deleted, so "" (not 503)
    const second = await started({ logs: ['never'], submitSeconds: 5, seconds: 1 })
    expect((await api.call('DELETE', second.path)).status).toBe(200)
    expect(await second.read()).toBe('')
  })

  test('logs stay an hour after the end by default (the Job TTL); cancel empties them at once', async () => {
    const { read, e } = await started({ logs: ['kept'], seconds: 1 })
    emu.clock.advanceTo(e.end_at + 3_599_999)
    expect(unstamped(await read())).toBe('kept')
    emu.clock.advance(1)
    expect(await read()).toBe('')
    const running = await started({ logs: ['a', 'b'], seconds: 10 })
    expect(unstamped(await running.read())).toBe('a')
    expect((await api.call('DELETE', running.path)).status).toBe(200)
    expect(await running.read()).toBe('')
    emu.clock.advance(20_000)
    expect(await running.read()).toBe('')
  })

  test("restartAtLines: from each restart point on, only the new container's records show", async () => {
    const logs = ['r0', 'r1', 'r2', 'r3', 'r4', 'r5']
    const { read, e } = await started({
      logs,
      seconds: 6,
      restartAtLines: [4, 2],
      timestamps: false
    })
    const seen: string[] = []
    for (let k = 0; k < 6; k++) {
      emu.clock.advanceTo(e.running_at + k * 1000)
      seen.push(await read())
    }
    expect(seen).toEqual(['r0', 'r0\nr1', 'r2', 'r2\nr3', 'r4', 'r4\nr5'])
    expect(await read('?tail_lines=10')).toBe('r4\nr5')
    expect(await read('?tail_lines=1')).toBe('r5')
  })

  test('logRotateBytes: only the records since the file last reached the size show', async () => {
    const small = await service({ logRotateBytes: 200, logTimestamps: false })
    // each record takes 59 + 1 bytes and a 40-byte CRI header: two fill a 200-byte file
    const x = (c: string): string => c.repeat(59)
    const { read, e } = await started(
      { logs: [x('a'), x('b'), x('c'), x('d'), x('e')], seconds: 5 },
      small
    )
    const seen: string[] = []
    for (let k = 0; k < 5; k++) {
      small.emu.clock.advanceTo(e.running_at + k * 1000)
      seen.push(await read())
    }
    expect(seen).toEqual([x('a'), `${x('a')}\n${x('b')}`, x('c'), `${x('c')}\n${x('d')}`, x('e')])
    small.emu.clock.resume()
  })

  test('script fields are checked: one-line 400s', async () => {
    const bad = async (body: object): Promise<string> => {
      const res = await admin(emu, 'POST', `jobs/${enc(TEAM)}/any-job/next-execution`, body)
      expect(res.status).toBe(400)
      return JSON.stringify(res.json)
    }
    expect(await bad({ restartAtLines: [-1] })).toContain('restartAtLines must be a list')
    expect(await bad({ restartAtLines: 3 })).toContain('restartAtLines must be a list')
    expect(await bad({ restartAtLines: [1.5] })).toContain('restartAtLines must be a list')
    expect(await bad({ timestamps: 'no' })).toContain('timestamps must be true or false')
  })

  test('the command line takes --log-timestamps and --log-rotate-bytes', () => {
    const o = parseCli(['--log-timestamps', 'false', '--log-rotate-bytes', '1000'])
    expect(o).toMatchObject({ logTimestamps: false, logRotateBytes: 1000 })
    expect(parseCli([])).toMatchObject({ logTimestamps: undefined })
    expect(() => parseCli(['--log-timestamps', 'maybe'])).toThrow('must be true or false')
  })

  test('a restart from --data-dir serves the same log, timestamps and all (caches are not state)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-logs-'))
    try {
      const options: EmulatorOptions = { ...FAST, dataDir: dir }
      const first = await startEmulator(options)
      const on = { emu: first, api: new Api(first.url, await Contract.load()) }
      const { path } = await started(
        { logs: ['p\nq', 'z'.repeat(20000)], seconds: 2, restartAtLines: [1] },
        on
      )
      // moved on through the admin API, so that the state file has the clock
      await admin(first, 'POST', 'clock', { advance_seconds: 2 })
      const before = await (await fetch(`${first.url}${path}/logs?tail_lines=2`)).text()
      await first.close()
      expect(readFileSync(join(dir, 'state.json'), 'utf8')).not.toContain('fileStarts')
      const again = await startEmulator(options)
      const after = await (await fetch(`${again.url}${path}/logs?tail_lines=2`)).text()
      await again.close()
      expect(after).toBe(before)
      expect(unstamped(JSON.parse(after).logs as string)).toBe(
        `${'z'.repeat(16384)}${'z'.repeat(3616)}`
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
