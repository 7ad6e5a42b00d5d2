// Following an execution of a data job, for run-and-wait and fetch-logs: one status line per
// change, its log lines as they come (each once, in order, the last ones kept for a failure's
// reason), and its log at the end — from the service while the execution's pod exists, then from
// the log store behind logs_url, when the rule of follow-logs-url lets it be followed.
import { splitLines, type JobRef } from '../core/client.js'
import type { LogsUrlRule } from '../core/logsurl.js'
import { poll, type PollOptions, type PollResult } from '../core/poll.js'
import { isTerminal, type DataJobExecution, type ExecutionStatus } from '../core/types.js'
import { LogStream, type LogsMode } from './logstream.js'
import { pacing, type ActionContext } from './runtime.js'

export type { LogsMode } from './logstream.js'

/** The lines behind an execution's logs_url, or why they were not read (client.readLogsUrl). */
async function readLogsUrlLines(
  ctx: ActionContext,
  url: string,
  rule: LogsUrlRule
): Promise<{ lines: string[] } | { why: string }> {
  const read = await ctx.client.readLogsUrl(url, rule)
  return 'text' in read ? { lines: splitLines(read.text) } : read
}

/** Follows one execution while it runs: each status change in a line, and its new log lines. */
export class ExecutionFollower {
  private shownStatus?: ExecutionStatus
  /** The execution as last read. */
  latest?: DataJobExecution
  readonly log: LogStream

  constructor(
    private readonly ctx: ActionContext,
    private readonly ref: JobRef,
    private readonly id: string,
    private readonly logs: LogsMode
  ) {
    this.log = new LogStream(ctx, id, logs === 'on-failure' ? 'on-failure' : 'stream', (n, final) =>
      // while it runs, no retries: the next look reads them again, and retrying would delay it
      ctx.client.logs(ref, id, { tailLines: n, retries: final ? undefined : 0 })
    )
  }

  /** Reads the execution: a line when its status changed, and its new log lines while it runs. */
  async read(): Promise<DataJobExecution> {
    const execution = await this.ctx.client.readExecution(this.ref, this.id)
    this.latest = execution
    if (execution.status !== this.shownStatus) {
      this.ctx.info(
        `status: ${execution.status}${execution.message ? ` — ${execution.message}` : ''}`
      )
      this.shownStatus = execution.status
    }
    // no log before it runs: upstream answers 503 while the pod's container is not started
    // (KubernetesService.readNamespacedPodLog -> ExternalSystemError), "" before the pod exists
    if (this.logs !== 'none' && execution.status === 'running') await this.log.look()
    return execution
  }

  /**
   * At the end: the last lines from the service (upstream keeps a manual execution's pod, and so
   * its log, for jobTTLAfterFinishedSeconds, 3600 s by default: KubernetesService.createNewJob);
   * when it has none any more, from the log store behind logs_url.
   */
  async readLastLogs(execution: DataJobExecution, rule: LogsUrlRule): Promise<void> {
    if (this.logs === 'none') return
    if (!(await this.log.look(true))) await this.fromLogStore(execution, rule)
    this.log.flush()
  }

  private async fromLogStore(execution: DataJobExecution, rule: LogsUrlRule): Promise<void> {
    const url = execution.logs_url
    if (!url) return
    const stored = await readLogsUrlLines(this.ctx, url, rule)
    if ('why' in stored) this.ctx.info(`complete logs: ${url} (${stored.why})`)
    else if (!this.log.fromStore(stored.lines))
      this.ctx.info(
        `complete logs: ${url} (its lines could not be placed after the lines shown here)`
      )
  }
}

/** An ended execution's log as read once: its text and where it came from. */
export interface EndedLogs {
  text: string
  source: string
}

/**
 * The log of an execution as the service has it (its last `tailLines` lines, when given); when the
 * service no longer has it (the pod is gone), the log store's behind logs_url. A log store that
 * cannot be read, or none, is a warning that says where to look instead, not a failure.
 */
export async function readEndedLogs(
  ctx: ActionContext,
  ref: JobRef,
  execution: DataJobExecution,
  options: { rule: LogsUrlRule; tailLines?: number }
): Promise<EndedLogs> {
  const { id, status } = execution
  const text = await ctx.client.logs(ref, id, { tailLines: options.tailLines })
  const fromService = { text, source: 'the Control Service' }
  if (text || !isTerminal(status)) return fromService
  const url = execution.logs_url
  if (!url) {
    ctx.warning(
      `the logs of execution ${id} are gone: the Control Service keeps them only while the execution's pod exists, and it has no logs_url configured; look in your cluster's log store, or ask the operators of the Control Service`
    )
    return fromService
  }
  const stored = await readLogsUrlLines(ctx, url, options.rule)
  if ('why' in stored) {
    ctx.warning(
      `the Control Service no longer has the logs of execution ${id} (it ended ${status}); they are at ${url} (${stored.why})`
    )
    return fromService
  }
  const lines = options.tailLines ? stored.lines.slice(-options.tailLines) : stored.lines
  return { text: lines.join('\n'), source: url }
}

/**
 * Reads an execution every `intervalMs` until `probe` says done or `deadline` (the action's
 * clock) passes, on the action's clock, sleep and cancellation signal.
 */
export const pollExecution = <T>(
  ctx: ActionContext,
  intervalMs: number,
  deadline: number,
  probe: PollOptions<T>['probe']
): Promise<PollResult<T>> =>
  poll({
    intervalMs,
    timeoutMs: Math.max(0, deadline - ctx.clock()),
    ...pacing(ctx),
    probe
  })
