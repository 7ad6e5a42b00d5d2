// What every action does around its own work, in one place: read and check all inputs first
// (nothing is sent when one is wrong), connect, run, then outputs, the job summary and annotations.
// Expected failures end as one actionable line and exit code 1, never a stack trace.
// `runAction` is the step on the runner; `runDefinition` the same with what it reads and writes
// given by the caller (the in-process tests run actions with it: __tests__/helpers/inprocess.ts).
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import * as core from '@actions/core'
import type { ControlServiceClient } from '../core/client.js'
import { connect, type ConnectionConfig } from '../core/connection.js'
import { ActionFailure, ControlServiceError, InputError, type FileProblem } from '../core/errors.js'
import type { TransportOptions } from '../core/http.js'
import { Problems, relativeToWorkspace, type InputSource } from '../core/inputs.js'
import { realSleep, type Pacing } from '../core/poll.js'
import { inert } from '../core/text.js'
import { runnerSinks, type ActionSinks } from './sinks.js'
import { link, type Cell, type SummaryTable } from './summary.js'

// the summary's cells are made with these by every action
export {
  code,
  cutMarkup,
  joined,
  link,
  SUMMARY_LIMITS,
  type Cell,
  type Markup,
  type SummaryTable
} from './summary.js'

export interface ActionContext {
  /** The Control Service client; an action that declares no `connection` has none. */
  client: ControlServiceClient
  /**
   * A client that the cancellation signal does not stop, with short time limits: for the clean-up
   * a cancelled run still owes (cancelling its execution) before the runner kills it.
   */
  cleanup: ControlServiceClient
  signal: AbortSignal
  env: NodeJS.ProcessEnv
  info(line: string): void
  warning(line: string, file?: FileProblem): void
  notice(line: string): void
  /** Masks a secret in everything the runner prints. */
  mask(secret: string): void
  /** A collapsible group of lines in the log. */
  group(title: string, lines: string[]): void
  /** State for the post step (core.saveState / getState). */
  saveState(name: string, value: string): void
  getState(name: string): string
  /** The action's time, for its waits (poll's clock and sleep): a test may run it on its own. */
  clock: () => number
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>
  /** Numbers in [0, 1), to spread the polls of many parallel steps (see core/poll.ts jitter). */
  random: () => number
}

/**
 * How an action's polls wait: on its clock, sleep and cancellation signal, spread among the
 * steps that poll together, and not before a Retry-After its client saw (core/poll.ts).
 */
export const pacing = (ctx: ActionContext): Pacing => ({
  signal: ctx.signal,
  clock: ctx.clock,
  sleep: ctx.sleep,
  jitter: { random: ctx.random },
  notBefore: () => ctx.client.transport.retryAfterUntil,
  resentAt: () => ctx.client.transport.stats.resentAt
})

export interface Outcome {
  outputs: Record<string, string | number | boolean>
  summary?: SummaryTable
  /** Set when the action failed after it started: the reason, one line. */
  failure?: string
  annotations?: FileProblem[]
}

/**
 * An action, as runAction runs it: config() reads every input, then run() does the work.
 *
 * Inputs: config() is the only place inputs are read. It adds every problem it finds to
 * `problems`, each with the input it is about (`problems.add('job-path', 'is required')`), and
 * goes on reading; it never throws for a bad input nor calls `problems.check()`: the runtime
 * checks once config() returns, so every problem is said in one line before any request.
 *
 * Connection: `connection(config)` gives the Control Service to talk to; an action without one
 * (or a config without one: validate without control-service-url) sends nothing, and its
 * context's client must not be used.
 *
 * Failures, one rule: run() returns an Outcome with `failure` when the action reached a result
 * that is a failure and has more to give with it than the reason — outputs (for an
 * `if: failure()` step), a summary or annotations: the job is invalid, the deployment did not go
 * live, the execution failed. It throws ActionFailure when it cannot go on and the reason is all
 * there is to say; a ControlServiceError from the client is thrown as it is. An action whose
 * outputs are promised on failure too catches those in run() and returns them as `failure`.
 */
export interface ActionDefinition<C> {
  name: string
  config(inputs: InputSource, problems: Problems): Promise<C>
  connection?(config: C): ConnectionConfig | undefined
  run(config: C, ctx: ActionContext): Promise<Outcome>
  /** The post step (runs.post, the same bundle): clean up what the main step left behind. */
  post?(config: C, ctx: ActionContext): Promise<void>
}

export const actionsInputs = (): InputSource => ({
  input: name => core.getInput(name),
  env: process.env,
  mask: secret => core.setSecret(secret)
})

/** The workflow run's page, for summaries and reasons. */
export function runUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const {
    GITHUB_SERVER_URL: server,
    GITHUB_REPOSITORY: repo,
    GITHUB_RUN_ID: id,
    GITHUB_RUN_ATTEMPT: attempt
  } = env
  if (!server || !repo || !id) return undefined
  return `${server}/${repo}/actions/runs/${id}${attempt && attempt !== '1' ? `/attempts/${attempt}` : ''}`
}

/** A link to the workflow run for a summary cell (or the folder when not on a runner). */
export function runLink(env: NodeJS.ProcessEnv, fallback: string): Cell {
  const url = runUrl(env)
  return url ? link(`run ${env.GITHUB_RUN_ID}`, url) : fallback
}

/** Time limit of the clean-up requests: the runner kills a step 7.5 s after SIGINT. */
const CLEANUP_TIMEOUT_MS = 3000

/**
 * How long after SIGINT/SIGTERM the step may take to stop by itself: every request listens to the
 * cancellation signal, so this is the last resort against one that does not. The runner sends
 * SIGTERM 7.5 s after SIGINT and kills 2.5 s later; 5 s leaves one clean-up request (3 s) room to
 * finish, and the step still ends with its own line rather than the runner's kill.
 */
export const STOP_GRACE_MS = 5000

/**
 * Ends the process `graceMs` after a stop signal, with exit code 1 and one line, when it has not
 * ended by itself; the timer does not keep the process alive.
 */
export function stopAfterGrace(
  name: string,
  signal: string,
  graceMs = STOP_GRACE_MS,
  exit: (code: number) => void = code => process.exit(code)
): NodeJS.Timeout {
  const timer = setTimeout(() => {
    const line = `${name}: still busy ${graceMs / 1000} s after ${signal}: stopped without waiting for what was in flight`
    // the action may have said why it failed already: then one error line is enough
    if (process.exitCode === 1) core.info(line)
    else core.setFailed(line)
    exit(1)
  }, graceMs)
  timer.unref()
  return timer
}

/** What a run is given: its inputs, where its words go, its environment, signal and time. */
export interface ActionIO {
  inputs: InputSource
  sinks: ActionSinks
  env: NodeJS.ProcessEnv
  /** Aborted when the workflow is cancelled. */
  signal: AbortSignal
  /** The action's time (ActionContext.clock, .sleep); Date.now and real timers by default. */
  clock?: () => number
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  /** Numbers in [0, 1) that spread its polls (ActionContext.random); Math.random by default. */
  random?: () => number
  /** Transport settings of its clients, for tests (retries, backoff, sleep). */
  transport?: Partial<TransportOptions>
}

/** The step on the runner: @actions/core's inputs and sinks, and SIGINT/SIGTERM as cancellation. */
export async function runAction<C>(
  def: ActionDefinition<C>,
  inputs: InputSource = actionsInputs()
): Promise<void> {
  const sinks = runnerSinks()
  const name = phaseOf(def, sinks).name
  const controller = new AbortController()
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) return
    sinks.warning(`${name}: received ${signal}, stopping`)
    controller.abort(new Error(`received ${signal}`))
    stopAfterGrace(name, signal)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    await runDefinition(def, { inputs, sinks, env: process.env, signal: controller.signal })
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

/**
 * Runs one phase of `def` (the post step when the state says so) with what `io` gives: inputs
 * read and checked first, then the clients, the run, and what it came to written to the sinks.
 * Never throws: a failure ends as the sinks' one failure line.
 */
export async function runDefinition<C>(def: ActionDefinition<C>, io: ActionIO): Promise<void> {
  const { sinks } = io
  const { post, name } = phaseOf(def, sinks)
  const clients: ControlServiceClient[] = []
  try {
    if (def.post && !post) sinks.saveState('isPost', 'true')
    const config = await readConfig(def, io.inputs, post)
    if (config === undefined)
      // the main step has reported bad inputs already: the post step has nothing to clean up
      return sinks.info(`${name}: nothing to clean up (the inputs were refused)`)
    const ctx = contextOf(def, config, io, clients)
    if (post) return await def.post?.(config, ctx)
    await report(await def.run(config, ctx), name, sinks)
  } catch (e) {
    reportError(e, name, sinks)
  } finally {
    sayCost(clients, sinks)
    await Promise.all(clients.map(c => c.close()))
  }
}

/** The debug line of what the step cost the Control Service: requests sent, answer bytes read. */
function sayCost(clients: ControlServiceClient[], sinks: ActionSinks): void {
  let requests = 0
  let bytes = 0
  for (const { transport } of clients) {
    requests += transport.stats.requests
    bytes += transport.stats.bytes
  }
  if (requests) sinks.debug(`Control Service: ${requests} requests, ${bytes} bytes of answers read`)
}

/** Which phase runs: the post step (runs.post) once the main step has marked the state. */
function phaseOf<C>(def: ActionDefinition<C>, sinks: ActionSinks): { post: boolean; name: string } {
  const post = def.post !== undefined && sinks.getState('isPost') === 'true'
  return { post, name: post ? `${def.name} (post)` : def.name }
}

/**
 * The checked config; every input problem is thrown as one InputError. Undefined in the post step
 * when the inputs were refused (the main step has said so).
 */
async function readConfig<C>(
  def: ActionDefinition<C>,
  inputs: InputSource,
  post: boolean
): Promise<C | undefined> {
  try {
    const problems = new Problems()
    const config = await def.config(inputs, problems)
    problems.check()
    return config
  } catch (e) {
    if (post && e instanceof InputError) return undefined
    throw e
  }
}

/** A client for an action that declares no connection: using it is a bug of ours. */
const noClient = (action: string): ControlServiceClient =>
  new Proxy({} as ControlServiceClient, {
    get: () => {
      throw new Error(`${action} declares no connection: it has no Control Service client`)
    }
  })

/** What the action works with: its clients (added to `clients`, closed by the caller) and sinks. */
function contextOf<C>(
  def: ActionDefinition<C>,
  config: C,
  io: ActionIO,
  clients: ControlServiceClient[]
): ActionContext {
  const { sinks } = io
  const connection = def.connection?.(config)
  const base = {
    mask: (secret: string) => sinks.mask(secret),
    action: def.name,
    env: io.env,
    log: (line: string) => sinks.debug(line),
    // the clients' clock is the action's: a Retry-After is kept as a time on it (poll's notBefore)
    transport: { clock: io.clock, ...io.transport }
  }
  if (connection) {
    clients.push(
      connect(connection, { ...base, signal: io.signal }),
      connect(
        { ...connection, requestTimeoutMs: CLEANUP_TIMEOUT_MS },
        { ...base, transport: { retries: 1, ...base.transport } }
      )
    )
  }
  const [client, cleanup] = connection ? clients : [noClient(def.name), noClient(def.name)]
  return {
    client,
    cleanup,
    signal: io.signal,
    env: io.env,
    clock: io.clock ?? Date.now,
    sleep: io.sleep ?? realSleep,
    random: io.random ?? Math.random,
    // every line an action prints may hold text from outside: it acts as nothing but text
    info: line => sinks.info(inert(line)),
    mask: secret => sinks.mask(secret),
    notice: line => sinks.notice(inert(line)),
    warning: (line, file) =>
      file ? annotate([{ ...file, message: line }], 'warning', sinks) : sinks.warning(inert(line)),
    group: (title, lines) => sinks.group(inert(title), lines),
    saveState: (key, value) => sinks.saveState(key, value),
    getState: key => sinks.getState(key)
  }
}

/** Annotations on the files (and lines) of the workspace that `problems` are about. */
function annotate(problems: FileProblem[], level: 'error' | 'warning', sinks: ActionSinks): void {
  for (const p of problems) {
    const place = {
      file: relativeToWorkspace(p.file),
      startLine: p.line,
      title: level === 'error' ? 'vdk-actions' : undefined
    }
    sinks[level](inert(p.message), place)
  }
}

/** What the run came to: outputs, the job summary, annotations, and the failure line if any. */
async function report(outcome: Outcome, name: string, sinks: ActionSinks): Promise<void> {
  for (const [k, v] of Object.entries(outcome.outputs)) sinks.setOutput(k, String(v))
  if (outcome.summary) await sinks.summary(outcome.summary)
  if (outcome.annotations?.length) annotate(outcome.annotations, 'error', sinks)
  if (outcome.failure) sinks.fail(inert(`${name}: ${outcome.failure}`))
}

/** A thrown failure as one line; a bug of ours with its stack in the debug log only. */
function reportError(e: unknown, name: string, sinks: ActionSinks): void {
  if (e instanceof InputError) annotate(e.annotations, 'error', sinks)
  if (e instanceof InputError || e instanceof ControlServiceError || e instanceof ActionFailure)
    return sinks.fail(inert(`${name}: ${e.message}`))
  // re-run with debug logging to see the stack
  sinks.debug(`${name}: ${(e as Error).stack ?? String(e)}`)
  sinks.fail(
    inert(
      `${name}: unexpected error (please report it, with the log of a re-run with debug logging): ${(e as Error).message ?? String(e)}`
    )
  )
}

/**
 * Runs `run` when node was started with the module at `metaUrl` (the runner runs
 * `node dist/<name>/index.js`); nothing when a tool such as @github/local-action imports it.
 *
 * In a process of its own, V8's young generation keeps its start size (growth factor 1) instead of
 * doubling under the allocation rate of a streamed upload: measured by bench/upload.mjs on a 100 MiB,
 * 2,000-file upload, the peak RSS fell from 146 to 121 MiB, no slower. With `optimizingCompilers:
 * false` (the actions that scan and zip a job folder), V8's optimizing compilers are not used
 * either (Maglev, TurboFan; the interpreter and the baseline compiler remain): such an action waits
 * on the disk and the network, and the memory they take to compile its hot loops stays with the
 * process (malloc keeps it). Measured: scanning 20,000 files took 11 MiB more RSS with them, 2
 * without; by bench/upload.mjs (driven alone, 2 shared cores), the upload's peak RSS fell from 91
 * to 81 MiB on the 100 MiB tree and from 102 to 88 MiB on the 1 GiB tree of 20,000 files, in the
 * same wall time. The other actions keep them (set-properties checks megabytes of JSON in loops of
 * its own). Flags are changed only in our own process, never in a tool's (local-action, tests).
 */
export async function startIfMain(
  metaUrl: string,
  run: () => Promise<void>,
  options: { optimizingCompilers?: boolean } = {}
): Promise<void> {
  if (!isMain(metaUrl)) return
  setFlagsFromString('--semi-space-growth-factor=1')
  if (options.optimizingCompilers === false) {
    setFlagsFromString('--no-maglev')
    setFlagsFromString('--no-opt')
  }
  await run()
}

/**
 * Whether the module at `metaUrl` is the one node was started with (the runner runs
 * `node dist/<name>/index.js`), also through symbolic links; false when a tool such as
 * @github/local-action imports it to call its run().
 */
export function isMain(metaUrl: string): boolean {
  const started = process.argv[1]
  if (!started) return false
  try {
    return realpathSync(started) === realpathSync(fileURLToPath(metaUrl))
  } catch {
    return false
  }
}
