// The leak scan itself (helpers/leaks.ts), which every end-to-end run goes through: it must find
// a secret wherever a run can show it, and only there. The e2e suites prove the actions clean; this
// proves the scan would notice if they were not.
import type { ActionRun } from '../../scripts/action-runner.js'
import { findLeaks } from '../helpers/leaks.js'

const TOKEN = 'leak-test-token-0c7e52d1'
const ISSUED = `emu-${'ab12'.repeat(12)}`

const clean = (): ActionRun => ({
  code: 0,
  stdout: `::add-mask::${TOKEN}\nstarted execution x\n`,
  outputs: { 'execution-id': 'x' },
  state: { id: 'x' },
  summary: '<table><tr><td>x</td></tr></table>',
  annotations: [],
  log: 'started execution x'
})

describe('the leak scan', () => {
  test('a clean run: nothing found; the ::add-mask:: command that hides the token is not a leak', () => {
    expect(findLeaks(clean(), [TOKEN])).toEqual([])
  })

  test.each([
    ['stdout/stderr', (r: ActionRun) => (r.stdout += `Authorization: Bearer ${TOKEN}\n`)],
    ['output token', (r: ActionRun) => (r.outputs.token = TOKEN)],
    ['state auth', (r: ActionRun) => (r.state.auth = `Bearer ${TOKEN}`)],
    ['job summary', (r: ActionRun) => (r.summary += `<td>${TOKEN}</td>`)]
  ])('a token in the %s is found, and the report does not repeat it', (where, leak) => {
    const run = clean()
    leak(run)
    const found = findLeaks(run, [TOKEN])
    expect(found).toEqual([`lea… (${TOKEN.length} characters) in ${where}`])
    expect(found.join()).not.toContain(TOKEN)
  })

  test('an access token issued by the local Control Service is found without being registered', () => {
    const run = clean()
    run.stdout += `using ${ISSUED}\n`
    expect(findLeaks(run, [])).toEqual([
      `an issued access token emu… (${ISSUED.length} characters) in stdout/stderr`
    ])
  })
})
