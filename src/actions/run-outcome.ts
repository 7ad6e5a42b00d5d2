// What run-and-wait reports about its execution: the step's outputs, the summary's row, whether
// the execution counts as failed (fail-on-skipped), and the failure's reason with its last log
// lines, cut to fit an annotation.
import type { DataJobExecution, ExecutionStatus } from '../core/types.js'
import { isTerminal } from '../core/types.js'
import { joined, link, runLink, type ActionContext, type Outcome } from './runtime.js'

/**
 * The failure reason is an annotation: GitHub keeps 4,096 characters of one (actions/runner,
 * ExecutionContext._maxIssueMessageLength: "Don't send issue with huge message"), and the log line
 * holds it whole (two 1.5 MB log lines made it 3 MB). Each log line in it is cut at 300
 * characters and the service's message at 500, which keeps it under 2,500 (the job name and the
 * execution id are checked names), whole lines staying in the log.
 */
const REASON = { lineChars: 300, messageChars: 500 }

/** Text cut at `max` characters (not inside a surrogate pair), with "…" when cut. */
const clip = (text: string, max: number): string =>
  text.length > max ? `${text.slice(0, max).replace(/[\ud800-\udbff]$/, '')}…` : text

/** The step's outputs. */
type RunOutputs = {
  'execution-id': string
  status: ExecutionStatus
  'logs-url': string
  'started-at': string
  'ended-at': string
  /** Empty when a time is missing. */
  'duration-seconds': number | ''
}

/** The report of one execution started by the step. */
export class RunReport {
  constructor(
    private readonly ctx: ActionContext,
    private readonly job: string,
    private readonly id: string,
    private readonly failOnSkipped: boolean
  ) {}

  /** Whether the execution, ended as it is, fails the step (skipped only with fail-on-skipped). */
  failed(execution: DataJobExecution): boolean {
    return (
      execution.status !== 'succeeded' && !(execution.status === 'skipped' && !this.failOnSkipped)
    )
  }

  /** The outputs and summary row of `execution`, and the failure when it ended failed. */
  outcome(execution: DataJobExecution, tail: string[]): Outcome {
    const outputs = this.outputs(execution)
    const summary = this.summary(execution, outputs['duration-seconds'])
    if (!isTerminal(execution.status) || !this.failed(execution)) {
      if (execution.status === 'skipped')
        this.ctx.warning(
          `execution ${this.id} was skipped by the service: ${execution.message ?? 'another execution was running'}`
        )
      return { outputs, summary }
    }
    return { outputs, summary, failure: this.reason(execution, tail) }
  }

  /**
   * The step stopped following the execution (timeout, cancelled workflow): its outputs with the
   * status it was left in, and the reason.
   */
  stoppedFollowing(
    latest: DataJobExecution | undefined,
    status: ExecutionStatus,
    failure: string,
    tail: string[]
  ): Outcome {
    const execution = latest ?? { id: this.id, status }
    return { ...this.outcome({ ...execution, status }, tail), failure }
  }

  private outputs(execution: DataJobExecution): RunOutputs {
    const started = execution.start_time ? Date.parse(execution.start_time) : undefined
    const ended = execution.end_time ? Date.parse(execution.end_time) : undefined
    const duration =
      started !== undefined && ended !== undefined ? Math.round((ended - started) / 100) / 10 : ''
    return {
      'execution-id': this.id,
      status: execution.status,
      'logs-url': execution.logs_url ?? '',
      'started-at': execution.start_time ?? '',
      'ended-at': execution.end_time ?? '',
      'duration-seconds': duration
    }
  }

  private summary(execution: DataJobExecution, duration: number | ''): Outcome['summary'] {
    const links = [
      execution.logs_url ? link('logs', execution.logs_url) : '',
      runLink(this.ctx.env, '')
    ]
    return {
      heading: 'VDK data job execution',
      columns: ['Job', 'Execution', 'Status', 'Start', 'End', 'Duration', 'Links'],
      rows: [
        [
          this.job,
          this.id,
          execution.status,
          execution.start_time ?? '',
          execution.end_time ?? '',
          duration === '' ? '' : `${duration} s`,
          joined(links, ' · ')
        ]
      ]
    }
  }

  /** Why the step fails: the status, the service's message, and the last log lines. */
  private reason(execution: DataJobExecution, tail: string[]): string {
    const last = tail.slice(-5)
    const cut = last.some(line => line.length > REASON.lineChars)
    const lines = last.map(line => clip(line, REASON.lineChars)).join(' | ')
    const message = execution.message ? `: ${clip(execution.message, REASON.messageChars)}` : ''
    const cutNote = cut
      ? ` (lines cut at ${REASON.lineChars} characters: the whole lines are in the log above)`
      : ''
    const logLines = last.length ? ` — last log lines: ${lines}${cutNote}` : ''
    return `execution ${this.id} of '${this.job}' ended ${execution.status}${message}${logLines}`
  }
}
