// What every action does around its own work, in one place: read and check all inputs first
// (nothing is sent when one is wrong), connect, run, then outputs, the job summary and annotations.
// Expected failures end as one actionable line and exit code 1, never a stack trace.
import { randomUUID } from 'node:crypto'
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import * as core from '@actions/core'
import type { ControlServiceClient } from '../core/client.js'
import { connect, type ConnectionConfig } from '../core/connection.js'
import { ActionFailure, ControlServiceError, InputError, type FileProblem } from '../core/errors.js'
import { Problems, relativeToWorkspace, type InputSource } from '../core/inputs.js'
import { escapeHtml, inert, safeHref } from '../core/text.js'

export interface ActionContext {
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
}

/**
 * A summary cell: plain text (escaped when written, whatever it holds), or markup made only by
 * `link`, `code` and `joined` below, which escape what they are given.
 */
export type Cell = string | Markup
export interface Markup {
  readonly markup: string
}

/**
 * Text for a cell: one line (a blank line would end the table's HTML block, and what follows it
 * would be read as Markdown: images, links), then escaped.
 */
const text = (s: string): string => escapeHtml(inert(s))

const render = (cell: Cell): string => (typeof cell === 'string' ? text(cell) : cell.markup)

/** A link; a target that is not an http(s) URL is shown as text, not followed. */
export function link(label: string, href: string): Cell {
  const target = safeHref(href)
  return target ? { markup: `<a href="${target}">${text(label)}</a>` } : `${label}: ${href}`
}

export const code = (s: string): Markup => ({ markup: `<code>${text(s)}</code>` })

/** Cells in one, the non-empty ones, with `separator` (' · ', or 'line' for one per line). */
export function joined(cells: Cell[], separator: string): Markup {
  const sep = separator === 'line' ? '<br>' : escapeHtml(separator)
  return {
    markup: cells
      .filter(c => (typeof c === 'string' ? c !== '' : c.markup !== ''))
      .map(render)
      .join(sep)
  }
}

export interface SummaryTable {
  heading: string
  columns: string[]
  rows: Cell[][]
}

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

function annotate(problems: FileProblem[], level: 'error' | 'warning'): void {
  for (const p of problems) {
    const props = {
      file: relativeToWorkspace(p.file),
      startLine: p.line,
      title: level === 'error' ? 'vdk-actions' : undefined
    }
    if (level === 'error') core.error(inert(p.message), props)
    else core.warning(inert(p.message), props)
  }
}

/**
 * What the job summary may take: GitHub refuses a step summary over 1 MiB whole ("$GITHUB_STEP_SUMMARY
 * upload aborted, supports content up to a size of 1024k"), so ours stays at half of it, and one
 * cell (a property's value, a step's rows in the pipeline's table) at a few screens.
 */
export const SUMMARY_LIMITS = { bytes: 512 * 1024, cellChars: 4096 }

/**
 * A cell's markup cut to `max` characters at a boundary: never inside a tag or an entity, and a
 * <code> or <a> left open is closed. The markup is flat (link, code and joined make it: text,
 * entities, <code>…</code>, <a …>…</a> and <br>, no tag inside another), so this is enough.
 */
export function cutMarkup(markup: string, max: number): string {
  if (markup.length <= max) return markup
  let out = ''
  let open: string | undefined
  for (const [token] of markup.matchAll(/<[^>]*>|&[#\w]+;|[^<&]+|[<&]/g)) {
    if (out.length + token.length > max) {
      // text may be cut anywhere but inside a surrogate pair
      if (!/^[<&]./.test(token))
        out += token.slice(0, max - out.length).replace(/[\ud800-\udbff]$/, '')
      break
    }
    out += token
    const tag = /^<(\/?)(code|a)\b/.exec(token)
    if (tag) open = tag[1] ? undefined : tag[2]
  }
  return `${out}${open ? `</${open}>` : ''} … (cut)`
}

async function writeSummary(table: SummaryTable): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  const { bytes, cellChars } = SUMMARY_LIMITS
  const header = table.columns.map(c => ({ data: escapeHtml(c), header: true }))
  // the heading, the header row, and 1 KiB for the tags around them and the note of rows left out
  let left =
    bytes -
    1024 -
    [table.heading, ...table.columns].reduce((n, t) => n + Buffer.byteLength(escapeHtml(t)) + 9, 0)
  const rows: Array<Array<string | { data: string; colspan: string }>> = []
  for (const r of table.rows) {
    const cells = r.map(cell => cutMarkup(render(cell), cellChars) || '—')
    const size = cells.reduce((n, c) => n + Buffer.byteLength(c) + 9, 9)
    if (size > left) break
    left -= size
    rows.push(cells)
  }
  const unshown = table.rows.length - rows.length
  if (unshown)
    rows.push([
      {
        data: escapeHtml(
          `… ${unshown} more row(s) not shown: a job summary is limited to ${bytes / 1024} KiB here`
        ),
        colspan: String(table.columns.length)
      }
    ])
  await core.summary
    .addHeading(escapeHtml(table.heading), 3)
    .addTable([header, ...rows])
    .write()
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

/** The client of an action without a connection: asking for it is a bug of ours. */
const unconnected = (name: string): never => {
  throw new Error(`${name} has no connection to the Control Service: it sends nothing`)
}

export async function runAction<C>(
  def: ActionDefinition<C>,
  src: InputSource = actionsInputs()
): Promise<void> {
  const post = def.post !== undefined && core.getState('isPost') === 'true'
  const name = post ? `${def.name} (post)` : def.name
  const controller = new AbortController()
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) return
    core.warning(`${name}: received ${signal}, stopping`)
    controller.abort(new Error(`received ${signal}`))
    stopAfterGrace(name, signal)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const clients: ControlServiceClient[] = []
  try {
    if (def.post && !post) core.saveState('isPost', 'true')
    const problems = new Problems()
    let config: C
    try {
      config = await def.config(src, problems)
      problems.check()
    } catch (e) {
      // the main step has reported bad inputs already: the post step has nothing to clean up
      if (post && e instanceof InputError)
        return core.info(`${name}: nothing to clean up (the inputs were refused)`)
      throw e
    }
    const connection = def.connection?.(config)
    const base = {
      mask: (secret: string) => core.setSecret(secret),
      action: def.name,
      log: (line: string) => core.debug(line)
    }
    const client = connection && connect(connection, { ...base, signal: controller.signal })
    const cleanup =
      connection &&
      connect(
        { ...connection, requestTimeoutMs: CLEANUP_TIMEOUT_MS },
        { ...base, transport: { retries: 1 } }
      )
    if (client && cleanup) clients.push(client, cleanup)
    const ctx: ActionContext = {
      get client() {
        return client || unconnected(def.name)
      },
      get cleanup() {
        return cleanup || unconnected(def.name)
      },
      signal: controller.signal,
      env: process.env,
      // every line an action prints may hold text from outside: it acts as nothing but text
      info: line => core.info(inert(line)),
      mask: secret => core.setSecret(secret),
      notice: line => core.notice(inert(line)),
      warning: (line, file) =>
        file ? annotate([{ ...file, message: line }], 'warning') : core.warning(inert(line)),
      group: (title, lines) => {
        core.startGroup(inert(title))
        // a job's log lines are data: a line such as "::error::…" must not act as a command
        const token = randomUUID()
        core.info(`::stop-commands::${token}`)
        for (const line of lines) core.info(line)
        core.info(`::${token}::`)
        core.endGroup()
      },
      saveState: (key, value) => core.saveState(key, value),
      getState: key => core.getState(key)
    }
    if (post) {
      await def.post?.(config, ctx)
      return
    }
    const outcome = await def.run(config, ctx)
    for (const [k, v] of Object.entries(outcome.outputs)) core.setOutput(k, String(v))
    if (outcome.summary) await writeSummary(outcome.summary)
    if (outcome.annotations?.length) annotate(outcome.annotations, 'error')
    if (outcome.failure) core.setFailed(inert(`${name}: ${outcome.failure}`))
  } catch (e) {
    if (e instanceof InputError) annotate(e.annotations, 'error')
    if (e instanceof InputError || e instanceof ControlServiceError || e instanceof ActionFailure)
      core.setFailed(inert(`${name}: ${e.message}`))
    else {
      // a bug of ours: one line, and the stack only in the debug log (re-run with debug logging)
      core.debug(`${name}: ${(e as Error).stack ?? String(e)}`)
      core.setFailed(
        inert(
          `${name}: unexpected error (please report it, with the log of a re-run with debug logging): ${(e as Error).message ?? String(e)}`
        )
      )
    }
  } finally {
    await Promise.all(clients.map(c => c.close()))
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

/**
 * Runs `run` when node was started with the module at `metaUrl` (the runner runs
 * `node dist/<name>/index.js`); nothing when a tool such as @github/local-action imports it.
 *
 * In a process of its own, V8's young generation keeps its start size (growth factor 1) instead of
 * doubling under the allocation rate of a streamed upload: measured by bench/upload.mjs on a 100 MiB,
 * 2,000-file upload, the peak RSS fell from 146 to 121 MiB, no slower. Flags are changed only in
 * our own process, never in a tool's (local-action, tests).
 */
export async function startIfMain(metaUrl: string, run: () => Promise<void>): Promise<void> {
  if (!isMain(metaUrl)) return
  setFlagsFromString('--semi-space-growth-factor=1')
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
