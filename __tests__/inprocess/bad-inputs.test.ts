// The table of bad inputs (helpers/bad-inputs.ts) in process, without a build: every row is
// refused in one line naming the input or the problem, with its file annotation when it is a
// file's, no output, summary or post-step state, and not a single request to the local Control
// Service. The bundle test (reliability/bad-inputs.e2e.test.ts) runs the same rows as the runner.
import { BASELINE, fill, inputsOf, rows, TOKEN, useBed } from '../helpers/bad-inputs.js'
import { runInProcess, type InProcessRun } from '../helpers/inprocess.js'

const bed = useBed({ frozenClock: true })

const runRow = (
  action: string,
  inputs: Record<string, string>,
  o: { env?: Record<string, string>; plainWorkspace?: boolean } = {}
): Promise<InProcessRun> =>
  runInProcess(action, inputsOf(action, inputs, bed.at), {
    workspace: o.plainWorkspace ? bed.at.plain : bed.at.ws,
    env: fill(o.env ?? {}, bed.at)
  })

describe.each(rows.map(r => ({ ...r, where: r.action || 'root action' })))(
  '$where: $title',
  row => {
    test('is refused in one line before any request', async () => {
      const run = await runRow(row.action, row.inputs, row)
      const failure = run.reason ?? ''
      expect(failure).toMatch(row.message)
      expect(failure).not.toMatch(/[\r\n]|unexpected error/)
      if (row.input) expect(failure).toContain(row.input)
      if (row.once) expect(failure.split(row.once)).toHaveLength(2)
      const files = run.lines.filter(l => l.level === 'error' && l.place)
      if (row.annotation) {
        expect(files.map(l => l.place)).toEqual([
          expect.objectContaining({ file: row.annotation.file, startLine: row.annotation.line })
        ])
        expect(failure).toContain(files[0].text)
      } else expect(files).toEqual([])
      expect(run.outputs).toEqual({})
      expect(run.summary).toBeUndefined()
      expect(Object.keys(run.state).filter(k => k !== 'isPost')).toEqual([])
      expect(bed.emu.journal).toEqual([])
    })
  }
)

// the control: the baseline inputs pass every check (the ones that talk to the service send)
test.each(Object.keys(BASELINE).filter(a => a !== 'changed-jobs'))(
  'control: the baseline inputs of %j pass the checks',
  async action => {
    // a service that refuses every request: the run ends at its first one, which is the proof
    await fetch(`${bed.emu.url}/_emulator/faults`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ path: '.', status: 418, times: 0 })
    })
    try {
      const run = await runRow(action, {})
      expect(run.reason ?? '').not.toMatch(/ must be | is required/)
      expect(bed.emu.journal.length).toBeGreaterThan(0)
    } finally {
      await fetch(`${bed.emu.url}/_emulator/faults`, {
        method: 'DELETE',
        headers: { Authorization: `Bearer ${TOKEN}` }
      })
    }
  }
)
