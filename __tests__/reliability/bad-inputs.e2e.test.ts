// Bad inputs, end to end: every action's committed bundle, run under Node 24 as the runner runs it,
// refuses a wrong input before it sends anything. The rows are the table of
// helpers/bad-inputs.ts (the in-process test runs the same rows without a build). For each row
// the step exits with code 1; the failure is ONE line (`::error::<action>: …`, no newline in it, no
// stack trace) that names the input or the problem; the only other `::error` lines are the file
// annotations of problems found in the job folder (each also said in the failure line); no output,
// job summary or state for the post step is written; and the local Control Service's journal is
// empty: not a single request reached it, not even the token exchange. A control test runs each
// action with the rows' baseline inputs and sees requests arrive (or, for changed-jobs, success):
// so each row fails because of its bad input.
import { BASELINE, failName, fill, inputsOf, rows, useBed } from '../helpers/bad-inputs.js'
import { runAction, type ActionRun } from '../helpers/runner.js'

const bed = useBed({
  deploymentSeconds: 0.2,
  submitSeconds: 0.1,
  executionSeconds: 0.3
})

const runRow = (
  action: string,
  inputs: Record<string, string>,
  o: { env?: Record<string, string>; plainWorkspace?: boolean } = {}
): Promise<ActionRun> =>
  runAction(action, inputsOf(action, inputs, bed.at), {
    workspace: o.plainWorkspace ? bed.at.plain : bed.at.ws,
    env: fill(o.env ?? {}, bed.at),
    timeoutMs: 30_000
  })

test('the table has at least 34 rows and covers every action', () => {
  expect(rows.length).toBeGreaterThanOrEqual(34)
  expect(new Set(rows.map(r => r.action))).toEqual(new Set(Object.keys(BASELINE)))
  // a row's regex names the input it is about
  for (const r of rows) if (r.input) expect(r.message.source).toContain(r.input)
})

describe.each(rows.map(r => ({ ...r, where: r.action || 'root action' })))(
  '$where: $title',
  row => {
    test('is refused in one line before any request', async () => {
      const run = await runRow(row.action, row.inputs, row)
      const name = failName(row.action)
      const errors = run.stdout.split('\n').filter(l => l.startsWith('::error'))
      const failures = run.annotations.filter(a => a.level === 'error' && a.file === undefined)
      const files = run.annotations.filter(a => a.level === 'error' && a.file !== undefined)

      expect({ code: run.code, failures: failures.length }).toEqual({ code: 1, failures: 1 })
      const failure = failures[0].message
      expect(failure).not.toMatch(/[\r\n]/)
      expect(failure).not.toMatch(/unexpected error|\n\s+at /)
      expect(failure.startsWith(`${name}: `)).toBe(true)
      expect(failure.slice(name.length + 2)).toMatch(row.message)
      if (row.input) expect(failure).toContain(row.input)
      if (row.once) expect(failure.split(row.once)).toHaveLength(2)

      // the other ::error lines: one annotation per file problem, each also in the failure line
      expect(errors).toHaveLength(1 + files.length)
      if (row.annotation) {
        expect(files).toEqual([
          expect.objectContaining({ file: row.annotation.file, line: row.annotation.line })
        ])
        expect(failure).toContain(files[0].message)
      } else expect(files).toEqual([])

      expect(run.stdout).not.toMatch(/\n\s+at /)
      expect(run.outputs).toEqual({})
      expect(run.summary).toBe('')
      // nothing for a post step: isPost at most, written before the inputs are read
      expect(Object.keys(run.state).filter(k => k !== 'isPost')).toEqual([])
      expect(bed.emu.journal).toEqual([])
    })
  }
)

// One rule for every word input: booleans and choices alike take each word in lower, Title or
// UPPER case (the rows above refuse any other casing); these pass the checks and send requests.
test.each<{ action: string; inputs: Record<string, string> }>([
  {
    action: 'run-and-wait',
    inputs: { wait: 'Running', logs: 'NONE', 'on-conflict': 'Fail', 'poll-interval-seconds': '0.2' }
  },
  { action: 'set-properties', inputs: { mode: 'Merge', 'dry-run': 'TRUE' } },
  {
    action: '',
    inputs: {
      run: 'True',
      'run-wait': 'RUNNING',
      properties: 'rows: 100',
      'properties-mode': 'MERGE',
      'poll-interval-seconds': '0.2'
    }
  }
])('word inputs in Title or UPPER case are taken: $action $inputs', async ({ action, inputs }) => {
  const run = await runRow(action, inputs)
  const failure = run.annotations.find(a => a.level === 'error')?.message ?? ''
  expect(failure).not.toMatch(/ must be /)
  expect(bed.emu.journal.length).toBeGreaterThan(0)
})

// The control: the rows' baseline inputs pass every check, so each row above fails on its own input.
test.each(Object.keys(BASELINE).map(action => ({ action, where: action || 'root action' })))(
  'control: the baseline inputs of $where are accepted',
  async ({ action }) => {
    const run = await runRow(
      action,
      ['deploy', 'run-and-wait', ''].includes(action) ? { 'poll-interval-seconds': '0.2' } : {}
    )
    const failure = run.annotations.find(a => a.level === 'error')?.message ?? ''
    if (action === 'changed-jobs')
      expect({ code: run.code, failure }).toEqual({ code: 0, failure: '' })
    else expect(bed.emu.journal.length).toBeGreaterThan(0)
  }
)
