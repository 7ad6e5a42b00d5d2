// What every action does around its own work, in one place: read and check all inputs first
// (nothing is sent when one is wrong), connect, run, then outputs, the job summary and annotations.
// Expected failures end as one actionable line and exit code 1, never a stack trace.
import { randomUUID } from 'node:crypto'
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import * as core from '@actions/core'
import type { ControlServiceClient } from '../core/client.js'
import { connect, Problems, type ConnectionConfig, type InputSource } from '../core/connection.js'
import { ActionFailure, ControlServiceError, InputError, type FileProblem } from '../core/errors.js'
import { relativeToWorkspace } from '../core/jobdir.js'
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

const render = (cell: Cell): string => (typeof cell === 'string' ? escapeHtml(cell) : cell.markup)

/** A link; a target that is not an http(s) URL is shown as text, not followed. */
export function link(text: string, href: string): Cell {
  const target = safeHref(href)
  return target ? { markup: `<a href="${target}">${escapeHtml(text)}</a>` } : `${text}: ${href}`
}

export const code = (text: string): Markup => ({ markup: `<code>${escapeHtml(text)}</code>` })

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

export interface ActionDefinition<C> {
  name: string
  /** Reads and checks every input; the only place inputs are read. Throws InputError. */
  config(src: InputSource, problems: Problems): Promise<C>
  connection(config: C): ConnectionConfig
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

async function writeSummary(table: SummaryTable): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  await core.summary
    .addHeading(escapeHtml(table.heading), 3)
    .addTable([
      table.columns.map(c => ({ data: escapeHtml(c), header: true })),
      ...table.rows.map(r => r.map(cell => render(cell) || '—'))
    ])
    .write()
}

/** Time limit of the clean-up requests: the runner kills a step 7.5 s after SIGINT. */
const CLEANUP_TIMEOUT_MS = 3000

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
    const connection = def.connection(config)
    const base = {
      mask: (secret: string) => core.setSecret(secret),
      action: def.name,
      log: (line: string) => core.debug(line)
    }
    const client = connect(connection, { ...base, signal: controller.signal })
    const cleanup = connect(
      { ...connection, requestTimeoutMs: CLEANUP_TIMEOUT_MS },
      { ...base, transport: { retries: 1 } }
    )
    clients.push(client, cleanup)
    const ctx: ActionContext = {
      client,
      cleanup,
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
    else
      core.setFailed(
        inert(`${name}: unexpected error (please report it): ${(e as Error).stack ?? String(e)}`)
      )
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
