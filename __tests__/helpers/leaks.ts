// The leak scan: every action run by the end-to-end tests (helpers/runner.ts) is searched for every
// token and secret value the tests have used so far, and for any access token the local Control
// Service issued (`emu-` + 48 hex digits); a hit fails the test that made the run. What is searched:
// stdout and stderr (except `::add-mask::` commands, which the runner consumes and never shows),
// the outputs, the saved state and the job summary.
import type { ActionRun } from '../../scripts/action-runner.js'

const secrets = new Set<string>()
const ISSUED_TOKEN = /emu-[0-9a-f]{48}/

/** Values shorter than this are not searched: they would match by chance (a team name, "true"). */
const MIN_LENGTH = 8

/** Adds values to search every later run for (inputs named like a token or secret are added by themselves). */
export function registerSecret(...values: Array<string | undefined>): void {
  for (const v of values) if (v && v.length >= MIN_LENGTH) secrets.add(v)
}

/** Input and variable names whose values are secret (not a token's URL). */
export const SECRET_NAME = /^(?!.*url).*(token|secret|password)/i

/** A value as a failure message may show it: never the value itself. */
const hint = (v: string): string => `${v.slice(0, 3)}… (${v.length} characters)`

/** Where each secret appears in what a run printed and wrote; empty when nothing leaked. */
export function findLeaks(run: ActionRun, values: Iterable<string> = secrets): string[] {
  const places: Array<[string, string]> = [
    [
      'stdout/stderr',
      run.stdout
        .split('\n')
        .filter(l => !l.startsWith('::add-mask::'))
        .join('\n')
    ],
    ...Object.entries(run.outputs).map(([k, v]): [string, string] => [`output ${k}`, v]),
    ...Object.entries(run.state).map(([k, v]): [string, string] => [`state ${k}`, v]),
    ['job summary', run.summary]
  ]
  const found: string[] = []
  for (const [where, text] of places) {
    for (const v of values) if (text.includes(v)) found.push(`${hint(v)} in ${where}`)
    const issued = ISSUED_TOKEN.exec(text)
    if (issued) found.push(`an issued access token ${hint(issued[0])} in ${where}`)
  }
  return found
}

/** Whether later runs are searched for `value` (the reliability suite checks its tokens are). */
export const isRegistered = (value: string): boolean => secrets.has(value)
