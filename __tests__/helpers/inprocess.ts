// Actions run in the test's process: the definition from src/actions, run by the runtime's
// runDefinition with the test's inputs over its action.yml's defaults, the runner's GITHUB_*
// variables, and sinks that keep what it wrote. No build and no child process, so a change to
// src/actions is tested at once; what only the runner shows (file commands, the post step as a
// process, signals) stays with the bundle tests (helpers/runner.ts).
import type { InputSource } from '../../src/core/inputs.js'
import type { TransportOptions } from '../../src/core/http.js'
import { runDefinition } from '../../src/actions/runtime.js'
import { recordingSinks, type ActionRecord } from '../../src/actions/sinks.js'
import type { Emulator } from '../../src/emulator/server.js'
import { DEFINITIONS } from '../../scripts/action-definitions.js'
import { actionYaml, defaultInputs, ROOT, runnerVariables } from '../../scripts/action-runner.js'

export interface InProcessOptions {
  /** GITHUB_WORKSPACE, which relative paths start from (default: the repository). */
  workspace?: string
  env?: Record<string, string>
  /** The post step: the main step's state, with isPost set. */
  post?: Record<string, string>
  signal?: AbortSignal
  /** The action's time (see serviceTime). */
  time?: ActionTime
  transport?: Partial<TransportOptions>
}

export interface ActionTime {
  clock: () => number
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>
  /** What spreads the action's polls (ActionContext.random); default () => 0: no spread. */
  random?: () => number
}

export interface InProcessRun extends ActionRecord {
  /** The text of every line said, in order (a group's lines included). */
  log: string[]
  /** The failure line without `<action>: `, or undefined when the step succeeded. */
  reason?: string
}

/**
 * Runs action `name` (its folder under actions/, '' for the root action.yml) with `inputs` over
 * its action.yml's defaults, and returns what it wrote.
 */
export async function runInProcess(
  name: string,
  inputs: Record<string, string>,
  o: InProcessOptions = {}
): Promise<InProcessRun> {
  const definition = DEFINITIONS[name]
  if (!definition) throw new Error(`no definition for the action '${name}'`)
  const values: Record<string, string> = { ...defaultInputs(actionYaml(name).meta), ...inputs }
  const workspace = o.workspace ?? ROOT
  const env = { PATH: process.env.PATH, ...runnerVariables(name, workspace), ...o.env }
  const { sinks, record } = recordingSinks(o.post ? { isPost: 'true', ...o.post } : {})
  const source: InputSource = {
    // as core.getInput: trimmed, '' when unset
    input: input => (values[input] ?? '').trim(),
    env,
    mask: secret => sinks.mask(secret)
  }
  // file paths in messages are shown relative to the workspace, read from process.env
  const saved = process.env.GITHUB_WORKSPACE
  process.env.GITHUB_WORKSPACE = workspace
  try {
    await runDefinition(definition, {
      inputs: source,
      sinks,
      env,
      signal: o.signal ?? new AbortController().signal,
      clock: o.time?.clock,
      sleep: o.time?.sleep,
      random: o.time?.random ?? (() => 0),
      transport: o.transport
    })
  } finally {
    if (saved === undefined) delete process.env.GITHUB_WORKSPACE
    else process.env.GITHUB_WORKSPACE = saved
  }
  const prefix = `${definition.name}${o.post ? ' (post)' : ''}: `
  return {
    ...record,
    log: record.lines.map(l => l.text),
    reason: record.failure?.startsWith(prefix)
      ? record.failure.slice(prefix.length)
      : record.failure
  }
}

/**
 * The action's time as the local Control Service's (frozen) clock: each wait of the action moves
 * that clock on by its length at once. An execution or a deployment then goes through each of its
 * phases as the action polls, in the same order on any machine, without a real wait.
 */
export function serviceTime(emu: Emulator): ActionTime {
  return {
    clock: () => emu.clock.now(),
    sleep: async (ms, signal) => {
      if (!signal?.aborted) emu.clock.advance(ms)
      // let what else is due run first, as a real timer would
      await new Promise(resolve => setImmediate(resolve))
    }
  }
}
