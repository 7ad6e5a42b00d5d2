// fetch-logs: an execution's logs (by default the job's latest execution) into a file, and into
// the log in a capped group. When the service no longer has them (the pod is gone), it uses
// logs_url (when the rule of follow-logs-url lets it), or says plainly that they are gone and
// where to look. The file is written only where the input or a checked execution id puts it.
import { lstatSync, mkdirSync, realpathSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path'
import { executionIdProblem, type JobRef } from '../core/client.js'
import { readConnection, type ConnectionConfig } from '../core/connection.js'
import { workspacePath, parseBoolean, type InputSource, type Problems } from '../core/inputs.js'
import { ActionFailure } from '../core/errors.js'
import { readLogsUrlRule, type LogsUrlRule } from '../core/logsurl.js'
import { NO_REF, readJobInputs } from './job.js'
import { readEndedLogs } from './execution.js'
import type { ActionContext, ActionDefinition } from './runtime.js'

/** Lines printed at most when print is true; the file always has everything. */
export const PRINT_CAP = 500

export interface FetchLogsConfig {
  connection: ConnectionConfig
  ref: JobRef
  executionId?: string
  tailLines?: number
  path?: string
  print: boolean
  tempDir: string
  logsUrl: LogsUrlRule
}

export const fetchLogs: ActionDefinition<FetchLogsConfig> = {
  name: 'fetch-logs',

  async config(src: InputSource, problems: Problems): Promise<FetchLogsConfig> {
    const connection = readConnection(src, problems)
    const rawTail = src.input('tail-lines')
    let tailLines: number | undefined
    if (rawTail) {
      if (!/^\d+$/.test(rawTail) || Number(rawTail) === 0)
        problems.add(`tail-lines must be a whole number above 0, not '${rawTail}'`)
      else tailLines = Number(rawTail)
    }
    const rawPath = src.input('path')
    const path = rawPath ? workspacePath(src, rawPath) : undefined
    const badPath = path && logFileProblem(rawPath, path)
    if (badPath) problems.add(`path '${rawPath}' ${badPath}`)
    const id = src.input('execution-id')
    const badId = id ? executionIdProblem(id) : undefined
    if (badId) problems.add(`execution-id ${badId}`)
    const config = {
      connection,
      executionId: src.input('execution-id') || undefined,
      tailLines,
      path,
      print: parseBoolean('print', src.input('print'), true, problems),
      tempDir: src.env.RUNNER_TEMP ?? tmpdir(),
      logsUrl: readLogsUrlRule(src, problems, connection.url)
    }
    const job = await readJobInputs(src, problems, { pathRequired: false })
    return { ...config, ref: job?.ref ?? NO_REF }
  },

  connection: config => config.connection,

  async run(config, ctx) {
    const id = config.executionId ?? (await latestExecutionId(config.ref, ctx))
    const execution = await ctx.client.readExecution(config.ref, id)
    const { text, source } = await readEndedLogs(ctx, config.ref, execution, {
      rule: config.logsUrl,
      tailLines: config.tailLines
    })
    const path = config.path ?? defaultLogFile(config.tempDir, config.ref.job, id)
    const content = text ? `${text}\n` : ''
    try {
      mkdirSync(dirname(path), { recursive: true })
      writeFileSync(path, content)
    } catch (err) {
      throw new ActionFailure(`could not write the logs to ${path}: ${failureCode(err)}`)
    }
    const bytes = Buffer.byteLength(content)
    if (config.print && text) {
      const lines = text.split('\n')
      const shown = lines.slice(-PRINT_CAP)
      const cut = lines.length - shown.length
      ctx.group(
        `logs of execution ${id} (${execution.status}) from ${source}${cut ? `: the last ${PRINT_CAP} of ${lines.length} lines` : ''}`,
        [...(cut ? [`… ${cut} earlier lines are in ${path}`] : []), ...shown]
      )
    }
    ctx.info(`wrote ${bytes} bytes of logs to ${path}`)
    return { outputs: { 'logs-path': path, 'execution-id': id, status: execution.status, bytes } }
  }
}

/** The id of the job's latest execution, held to the strict pattern: it names the log file. */
async function latestExecutionId(ref: JobRef, ctx: ActionContext): Promise<string> {
  const [latest] = await ctx.client.latestExecutions(ref, 1)
  if (!latest)
    throw new ActionFailure(`data job '${ref.job}' of team '${ref.team}' has no executions yet`)
  const bad = executionIdProblem(latest.id)
  if (bad)
    throw new ActionFailure(
      `the Control Service named the latest execution of '${ref.job}' ${bad}; nothing was read`
    )
  ctx.info(`the latest execution of '${ref.job}' is ${latest.id}`)
  return latest.id
}

/** The code of a file-system failure (EACCES, ENOSPC, …), or its message. */
const failureCode = (e: unknown): string =>
  (e as NodeJS.ErrnoException).code ?? (e as Error).message ?? String(e)

/**
 * The default file, vdk-logs/<job>/<id>.log under the runner's temp folder; the job name and the
 * id are checked already, and the path is checked once more to stay under its folder.
 */
export function defaultLogFile(tempDir: string, job: string, id: string): string {
  const folder = resolve(tempDir, 'vdk-logs')
  const file = resolve(folder, job, `${id}.log`)
  const rel = relative(folder, file)
  if (!rel || rel.startsWith('..') || isAbsolute(rel) || executionIdProblem(id))
    throw new ActionFailure(
      `the execution id ${JSON.stringify(id).slice(0, 80)} would write outside ${folder}`
    )
  return file
}

/**
 * What is wrong with `path` (the path input, resolved) as the file to write, if anything; checked
 * before any request. A folder, a device or FIFO (writing would hang), a parent that is a file,
 * and a place inside a .git folder (its config and hooks run code in later git commands, and the
 * logs are the service's text) are refused.
 */
export function logFileProblem(raw: string, path: string): string | undefined {
  const folder = 'is a folder: give the name of the file to write the logs to'
  if (/[/\\]$/.test(raw)) return folder
  const cannot = (e: unknown): string => `cannot be looked at (${failureCode(e)})`
  const missing = (e: unknown): boolean =>
    ['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException).code ?? '')
  try {
    const st = lstatSync(path)
    if (st.isDirectory()) return folder
    // a link would take the service's text wherever it points (a pull request can commit one)
    if (st.isSymbolicLink()) return 'is a symbolic link: give a plain file to write the logs to'
    if (!st.isFile())
      return 'is not a regular file (a device, a FIFO or a socket): give a file to write the logs to'
  } catch (e) {
    if (!missing(e)) return cannot(e)
  }
  // the nearest folder above it that exists, as it really is (links resolved)
  let existing = dirname(path)
  let rest = [basename(path)]
  for (;;) {
    try {
      if (!statSync(existing).isDirectory())
        return `cannot be written: ${existing} is a file, not a folder`
      break
    } catch (e) {
      if (!missing(e)) return cannot(e)
      if (dirname(existing) === existing) break
      rest = [basename(existing), ...rest]
      existing = dirname(existing)
    }
  }
  let real = existing
  try {
    real = realpathSync(existing)
  } catch {
    // it was there a moment ago: the write will say what is wrong
  }
  if ([...real.split(sep), ...rest].some(part => part.toLowerCase() === '.git'))
    return 'is inside a .git folder: write the logs somewhere else'
  return undefined
}
