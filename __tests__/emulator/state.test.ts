// The local Control Service's state file with --data-dir (src/emulator/state.ts): a long log is
// written once to a file of its own, which state.json names, so that a change does not write every
// log again; a restart reads it back, and a log no execution holds any more is removed.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  admin,
  closeServices,
  describeIfSpec,
  liveJob,
  service,
  TEAM
} from '../helpers/emulator-api.js'
import { enc, startExecution } from '../helpers/fixtures.js'

describeIfSpec('local Control Service, --data-dir: long logs beside state.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vdk-emulator-logs-'))
  afterAll(async () => {
    await closeServices()
    rmSync(dir, { recursive: true, force: true })
  })
  const logFiles = () => (existsSync(join(dir, 'logs')) ? readdirSync(join(dir, 'logs')) : [])

  test('written once, read back after a restart, removed when nothing holds it', async () => {
    const job = 'long-log-job'
    const lines = Array.from({ length: 1500 }, (_, i) => `line ${i + 1} "quoted" ✓`)
    const { emu, api } = await service({ dataDir: dir })
    await liveJob(api, job)
    const script = { seconds: 0.1, submitSeconds: 0, logs: lines }
    await admin(emu, 'POST', `jobs/${enc(TEAM)}/${job}/next-execution`, script)
    await admin(emu, 'POST', `jobs/${enc(TEAM)}/${job}/next-execution`, script)
    const first = await startExecution(api, TEAM, job)
    // past its end (the clock moved on, which is saved), then a second one with the same log
    await admin(emu, 'POST', 'clock', { advance_seconds: 5 })
    const second = await startExecution(api, TEAM, job)
    await admin(emu, 'POST', 'clock', { advance_seconds: 5 })
    // one file for the same log, and state.json names it instead of holding the lines
    expect(logFiles()).toHaveLength(1)
    expect(readFileSync(join(dir, 'state.json'), 'utf8')).not.toContain('line 1 ')
    await emu.close()

    const again = (await service({ dataDir: dir })).emu
    for (const id of [first, second]) {
      const res = await fetch(`${again.url}/_emulator/logs/${enc(TEAM)}/${job}/${enc(id)}`)
      expect(await res.text()).toBe(`${lines.join('\n')}\n`)
    }
    // forgotten (reset), the next saved change drops the file
    await admin(again, 'POST', 'reset')
    await admin(again, 'POST', 'clock', { advance_seconds: 1 })
    expect(logFiles()).toEqual([])
  })
})
