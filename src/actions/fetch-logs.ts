// fetch-logs: an execution's logs (by default the job's latest execution) into a file, and into
// the log in a capped group. When the service no longer has them (the pod is gone), it uses
// logs_url, or says plainly that they are gone and where to look.
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { executionIdProblem, splitLines, type JobRef } from '../core/client.js'
import {
  workspacePath,
  parseBoolean,
  readConnection,
  type ConnectionConfig,
  type InputSource,
  type Problems
} from '../core/connection.js'
import { ActionFailure } from '../core/errors.js'
import { isTerminal } from '../core/types.js'
import { NO_REF, readJobInputs } from './job.js'
import type { ActionDefinition } from './runtime.js'

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
    if (path && (/[/\\]$/.test(rawPath) || (existsSync(path) && statSync(path).isDirectory())))
      problems.add(`path '${rawPath}' is a folder: give the name of the file to write the logs to`)
    const id = src.input('execution-id')
    const badId = id ? executionIdProblem(id) : undefined
    if (badId) problems.add(`execution-id ${badId}`)
    const config = {
      connection,
      executionId: src.input('execution-id') || undefined,
      tailLines,
      path,
      print: parseBoolean('print', src.input('print'), true, problems),
      tempDir: src.env.RUNNER_TEMP ?? tmpdir()
    }
    const job = await readJobInputs(src, problems, { pathRequired: false })
    problems.check()
    return { ...config, ref: job?.ref ?? NO_REF }
  },

  connection: c => c.connection,

  async run(c, ctx) {
    let id = c.executionId
    if (!id) {
      const [latest] = await ctx.client.latestExecutions(c.ref, 1)
      if (!latest)
        throw new ActionFailure(
          `data job '${c.ref.job}' of team '${c.ref.team}' has no executions yet`
        )
      id = latest.id
      ctx.info(`the latest execution of '${c.ref.job}' is ${id}`)
    }
    const e = await ctx.client.readExecution(c.ref, id)
    let text = await ctx.client.logs(c.ref, id, { tailLines: c.tailLines })
    let source = 'the Control Service'
    if (!text && isTerminal(e.status)) {
      // a log store that fails or cannot be reached: say where the logs are instead of failing
      const fromUrl = e.logs_url
        ? await ctx.client.readLogsUrl(e.logs_url).catch(() => undefined)
        : undefined
      if (fromUrl !== undefined) {
        const lines = splitLines(fromUrl)
        text = (c.tailLines ? lines.slice(-c.tailLines) : lines).join('\n')
        source = e.logs_url as string
      } else if (e.logs_url) {
        ctx.warning(
          `the Control Service no longer has the logs of execution ${id} (it ended ${e.status}); they are at ${e.logs_url}`
        )
      } else {
        ctx.warning(
          `the logs of execution ${id} are gone: the Control Service keeps them only while the execution's pod exists, and it has no logs_url configured; look in your cluster's log store, or ask the operators of the Control Service`
        )
      }
    }
    const path = c.path ?? join(c.tempDir, 'vdk-logs', c.ref.job, `${id}.log`)
    mkdirSync(dirname(path), { recursive: true })
    const content = text ? `${text}\n` : ''
    writeFileSync(path, content)
    const bytes = Buffer.byteLength(content)
    if (c.print && text) {
      const lines = text.split('\n')
      const shown = lines.slice(-PRINT_CAP)
      const cut = lines.length - shown.length
      ctx.group(
        `logs of execution ${id} (${e.status}) from ${source}${cut ? `: the last ${PRINT_CAP} of ${lines.length} lines` : ''}`,
        [...(cut ? [`… ${cut} earlier lines are in ${path}`] : []), ...shown]
      )
    }
    ctx.info(`wrote ${bytes} bytes of logs to ${path}`)
    return { outputs: { 'logs-path': path, 'execution-id': id, status: e.status, bytes } }
  }
}
