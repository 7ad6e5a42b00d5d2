// Where what an action says and writes goes: its log lines, annotations, outputs, job summary and
// the state for its post step. On a runner, through @actions/core (`runnerSinks`); in an
// in-process test, into a record the test reads (`recordingSinks`). The runtime makes every line
// inert before it reaches a sink, so both see the same text.
import { randomUUID } from 'node:crypto'
import * as core from '@actions/core'
import { renderSummary, type RenderedSummary, type SummaryTable } from './summary.js'

/** Where an annotation points: a file relative to the workspace, and a line when there is one. */
export interface AnnotationPlace {
  file: string
  startLine?: number
  title?: string
}

export interface ActionSinks {
  info(line: string): void
  debug(line: string): void
  notice(line: string): void
  warning(line: string, place?: AnnotationPlace): void
  error(line: string, place?: AnnotationPlace): void
  /** A collapsible group of lines that are data: none of them acts as a workflow command. */
  group(title: string, lines: string[]): void
  /** The step's failure line (exit code 1). */
  fail(line: string): void
  mask(secret: string): void
  setOutput(name: string, value: string): void
  summary(table: SummaryTable): Promise<void>
  saveState(name: string, value: string): void
  getState(name: string): string
}

export const runnerSinks = (): ActionSinks => ({
  info: line => core.info(line),
  debug: line => core.debug(line),
  notice: line => core.notice(line),
  warning: (line, place) => (place ? core.warning(line, place) : core.warning(line)),
  error: (line, place) => (place ? core.error(line, place) : core.error(line)),
  group: (title, lines) => {
    core.startGroup(title)
    // a job's log lines are data: a line such as "::error::…" must not act as a command
    const token = randomUUID()
    core.info(`::stop-commands::${token}`)
    for (const line of lines) core.info(line)
    core.info(`::${token}::`)
    core.endGroup()
  },
  fail: line => core.setFailed(line),
  mask: secret => core.setSecret(secret),
  setOutput: (name, value) => core.setOutput(name, value),
  async summary(table) {
    if (!process.env.GITHUB_STEP_SUMMARY) return
    const { heading, columns, rows } = renderSummary(table)
    const header = columns.map(data => ({ data, header: true }))
    await core.summary
      .addHeading(heading, 3)
      .addTable([header, ...rows])
      .write()
  },
  saveState: (name, value) => core.saveState(name, value),
  getState: name => core.getState(name)
})

/** One line of a recorded run, in the order it was said. */
export interface RecordedLine {
  level: 'info' | 'debug' | 'notice' | 'warning' | 'error'
  text: string
  /** The group it was printed in, for the lines of a group. */
  group?: string
  place?: AnnotationPlace
}

/** What a run wrote, as a test reads it. */
export interface ActionRecord {
  lines: RecordedLine[]
  outputs: Record<string, string>
  /** The job summary as it would be written. */
  summary?: RenderedSummary
  /** The state, with what the run saved over what it was given. */
  state: Record<string, string>
  /** The failure line, when the step failed. */
  failure?: string
  masked: string[]
}

/** Sinks that keep everything in `record`, starting from `state` (a post step's). */
export function recordingSinks(state: Record<string, string> = {}): {
  sinks: ActionSinks
  record: ActionRecord
} {
  const record: ActionRecord = { lines: [], outputs: {}, state: { ...state }, masked: [] }
  const say =
    (level: RecordedLine['level']) =>
    (text: string, place?: AnnotationPlace): void => {
      record.lines.push(place ? { level, text, place } : { level, text })
    }
  const sinks: ActionSinks = {
    info: say('info'),
    debug: say('debug'),
    notice: say('notice'),
    warning: say('warning'),
    error: say('error'),
    group: (title, lines) => {
      for (const text of lines) record.lines.push({ level: 'info', text, group: title })
    },
    // the runner keeps the first failure line's exit code, and shows every line
    fail: line => {
      record.failure ??= line
      record.lines.push({ level: 'error', text: line })
    },
    mask: secret => void record.masked.push(secret),
    setOutput: (name, value) => void (record.outputs[name] = value),
    summary: table => {
      record.summary = renderSummary(table)
      return Promise.resolve()
    },
    saveState: (name, value) => void (record.state[name] = value),
    getState: name => record.state[name] ?? ''
  }
  return { sinks, record }
}
