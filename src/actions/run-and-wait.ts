// run-and-wait: start an execution of a deployed job and follow it — one line per status change,
// its log lines as they come — until it ends, runs, or the time is up; cancel it remotely when
// the wait times out or the workflow is cancelled, and in the post step if it was left orphaned.
import { nestsDeeper, splitLines, type JobRef } from '../core/client.js'
import {
  choice,
  parseBoolean,
  parseSeconds,
  readConnection,
  type ConnectionConfig,
  type InputSource,
  type Problems
} from '../core/connection.js'
import { ActionFailure, ControlServiceError } from '../core/errors.js'
import { readLogsUrlRule, type LogsUrlRule } from '../core/logsurl.js'
import { poll } from '../core/poll.js'
import { isTerminal, type DataJobExecution, type ExecutionStatus } from '../core/types.js'
import { NO_REF, readJobInputs } from './job.js'
import {
  joined,
  link,
  runLink,
  type ActionContext,
  type ActionDefinition,
  type Outcome
} from './runtime.js'

type WaitMode = 'true' | 'false' | 'running'
type ConflictPolicy = 'fail' | 'wait' | 'cancel'
type LogsMode = 'stream' | 'on-failure' | 'none'

export interface RunConfig {
  connection: ConnectionConfig
  ref: JobRef
  args: Record<string, unknown>
  wait: WaitMode
  timeoutMs: number
  pollIntervalMs: number
  cancelOnTimeout: boolean
  onConflict: ConflictPolicy
  logs: LogsMode
  failOnSkipped: boolean
  startedBy: string
  logsUrl: LogsUrlRule
}

/**
 * Who started it, as the service records it: the workflow run. The real service marks an execution
 * as scheduled when its started_by contains "scheduled", case-sensitively
 * (JobExecutionService.startDataJobExecution), so a repository such as acme/scheduled-jobs is
 * written with a capital S (GitHub's names ignore case: it is the same repository).
 */
export function startedBy(env: NodeJS.ProcessEnv): string {
  const run =
    env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
      ? `${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
      : 'local'
  return `manual/vdk-actions/${run.replace(/scheduled/g, 'Scheduled')}`
}

const STATE = { id: 'execution-id', team: 'team', job: 'job', settled: 'settled' } as const

/** How deep arguments may nest: deeper ones could not even be written as the request's JSON. */
const MAX_ARGUMENTS_DEPTH = 100

export const runAndWait: ActionDefinition<RunConfig> = {
  name: 'run-and-wait',

  async config(src: InputSource, problems: Problems): Promise<RunConfig> {
    const connection = readConnection(src, problems)
    let args: Record<string, unknown> = {}
    const rawArgs = src.input('arguments')
    if (rawArgs) {
      try {
        const parsed = JSON.parse(rawArgs) as unknown
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
          problems.add(
            // the kind, not the value: it may be a secret
            `arguments must be a JSON object such as {"day": "2026-11-23"}, not ${Array.isArray(parsed) ? 'a list' : parsed === null ? 'null' : `a ${typeof parsed}`}`
          )
        else if (nestsDeeper(parsed, MAX_ARGUMENTS_DEPTH))
          problems.add(
            `arguments nests deeper than ${MAX_ARGUMENTS_DEPTH} levels: a job's arguments are a flat object of values`
          )
        else args = parsed as Record<string, unknown>
      } catch {
        // the parser's message quotes the text, which may hold a secret: it is not shown
        problems.add(
          'arguments is not valid JSON (its text is not shown, as it may hold secrets): quote keys and strings with ", as in {"day": "2026-11-23"}'
        )
      }
    }
    const config = {
      connection,
      args,
      wait: choice<WaitMode>(
        'wait',
        src.input('wait'),
        ['true', 'false', 'running'],
        'true',
        problems
      ),
      timeoutMs:
        parseSeconds('timeout-seconds', src.input('timeout-seconds'), 3600, problems) * 1000,
      pollIntervalMs:
        parseSeconds('poll-interval-seconds', src.input('poll-interval-seconds'), 5, problems) *
        1000,
      cancelOnTimeout: parseBoolean(
        'cancel-on-timeout',
        src.input('cancel-on-timeout'),
        true,
        problems
      ),
      onConflict: choice<ConflictPolicy>(
        'on-conflict',
        src.input('on-conflict'),
        ['fail', 'wait', 'cancel'],
        'fail',
        problems
      ),
      logs: choice<LogsMode>(
        'logs',
        src.input('logs'),
        ['stream', 'on-failure', 'none'],
        'stream',
        problems
      ),
      failOnSkipped: parseBoolean('fail-on-skipped', src.input('fail-on-skipped'), false, problems),
      startedBy: startedBy(src.env),
      logsUrl: readLogsUrlRule(src, problems, connection.url)
    }
    const job = await readJobInputs(src, problems, { pathRequired: false })
    problems.check()
    return { ...config, ref: job?.ref ?? NO_REF }
  },

  connection: c => c.connection,

  async run(c, ctx) {
    const deadline = ctx.clock() + c.timeoutMs
    const id = await start(c, ctx, deadline)
    ctx.saveState(STATE.id, id)
    ctx.saveState(STATE.team, c.ref.team)
    ctx.saveState(STATE.job, c.ref.job)
    ctx.info(`started execution ${id} of '${c.ref.job}' (team '${c.ref.team}')`)
    const follower = new Follower(c, ctx, id)
    if (c.wait === 'false') {
      ctx.saveState(STATE.settled, 'left running')
      return follower.outcome(await ctx.client.readExecution(c.ref, id))
    }
    const result = await poll({
      intervalMs: c.pollIntervalMs,
      timeoutMs: Math.max(0, deadline - ctx.clock()),
      signal: ctx.signal,
      clock: ctx.clock,
      sleep: ctx.sleep,
      probe: async () => {
        try {
          const e = await follower.look()
          const done = isTerminal(e.status) || (c.wait === 'running' && e.status === 'running')
          return { done, value: e }
        } catch (e) {
          // a request cut short by the cancellation: the loop ends as aborted
          if (ctx.signal.aborted) return { done: false, value: follower.last }
          throw e
        }
      }
    })
    // the step fails, but with its outputs: a later step (if: failure()) needs the execution's id
    if (result.reason === 'aborted') {
      const status = await follower.cancel('the workflow was cancelled')
      ctx.saveState(STATE.settled, 'cancelled')
      return follower.stopped(
        status,
        `the workflow was cancelled while execution ${id} ran: ${cancelledOrEnded(status)}`
      )
    }
    if (result.reason === 'timeout') {
      const last = result.last?.status ?? 'unknown'
      if (c.cancelOnTimeout) {
        const status = await follower.cancel('timeout-seconds was reached')
        ctx.saveState(STATE.settled, 'cancelled')
        return follower.stopped(
          status,
          `execution ${id} did not end within timeout-seconds ${c.timeoutMs / 1000} (last status ${last}); ${status === 'cancelled' ? 'it was cancelled on the Control Service' : `it ended meanwhile (${status})`}`
        )
      }
      ctx.saveState(STATE.settled, 'left running')
      return follower.stopped(
        result.last?.status ?? 'submitted',
        `execution ${id} did not end within timeout-seconds ${c.timeoutMs / 1000} (last status ${last}); it goes on, as cancel-on-timeout is false`
      )
    }
    let e = result.value
    // `done` comes only with a status read from the service
    if (!e) throw new ActionFailure(`no status of execution ${id} was read`)
    if (e.status === 'running' || e.status === 'submitted') {
      ctx.saveState(STATE.settled, 'left running')
      return follower.outcome(e)
    }
    ctx.saveState(STATE.settled, 'ended')
    if (e.status === 'platform_error') {
      // the service may still overwrite a platform error: look once more before judging
      await ctx.sleep(Math.min(c.pollIntervalMs, 2000), ctx.signal)
      e = await follower.look()
    }
    await follower.finish(e)
    return follower.outcome(e)
  },

  async post(c, ctx) {
    const id = ctx.getState(STATE.id)
    const settled = ctx.getState(STATE.settled)
    if (!id) return ctx.info('no execution was started: nothing to clean up')
    if (settled)
      return ctx.info(`execution ${id}: ${settled} in the main step; nothing to clean up`)
    const ref = {
      team: ctx.getState(STATE.team) || c.ref.team,
      job: ctx.getState(STATE.job) || c.ref.job
    }
    let was: string
    try {
      const e = await ctx.cleanup.readExecution(ref, id)
      if (isTerminal(e.status)) {
        ctx.info(`execution ${id} had ended (${e.status}); nothing to clean up`)
        return
      }
      was = `was still ${e.status}`
    } catch (err) {
      // what cannot be read may still run: cancelling an ended execution changes nothing
      was = `could not be read (${(err as Error).message})`
    }
    let status: string
    try {
      status = await ctx.cleanup.cancelExecution(ref, id)
    } catch (err) {
      throw new ActionFailure(
        `execution ${id} ${was} after the step ended, and cancelling it failed too: ${(err as Error).message}`
      )
    }
    ctx.warning(
      `execution ${id} ${was} after the step ended: ${status === 'cancelled' ? 'cancelled it on the Control Service' : `it ended meanwhile (${status})`}`
    )
  }
}

/** What a cancel sent because the workflow was cancelled came to. */
const cancelledOrEnded = (status: string): string =>
  status === 'cancelled'
    ? 'it was cancelled on the Control Service'
    : `it had already ended (${status})`

/**
 * The workflow was cancelled while a start was on its way: the execution it may have made is found
 * by the op ids of its attempts (the cleanup client is not stopped by the cancellation) and
 * cancelled, so that no execution runs on that nobody follows.
 */
async function cancelCutStart(c: RunConfig, ctx: ActionContext, sent: string[]): Promise<never> {
  const made = (await ctx.cleanup.listExecutions(c.ref)).find(
    e => e.op_id !== undefined && sent.includes(e.op_id)
  )
  if (!made) throw new ActionFailure('the workflow was cancelled before an execution was started')
  const status = isTerminal(made.status)
    ? made.status
    : await ctx.cleanup.cancelExecution(c.ref, made.id)
  throw new ActionFailure(
    `the workflow was cancelled while execution ${made.id} was being started: ${cancelledOrEnded(status)}`
  )
}

/** How an execution in the way of a start is named: a submitted one has not started running. */
const alreadyActive = (status: ExecutionStatus): string =>
  status === 'submitted' ? 'was already submitted (it is about to run)' : `is already ${status}`

/** Starts the execution, applying on-conflict when one is already running. */
async function start(c: RunConfig, ctx: ActionContext, deadline: number): Promise<string> {
  const request = { started_by: c.startedBy, args: c.args }
  for (;;) {
    // the op ids of the start's attempts: a start cut short by a cancelled workflow may have
    // reached the service, and only they find the execution it made
    const sent: string[] = []
    try {
      return await ctx.client.startExecution(c.ref, request, { onSend: id => sent.push(id) })
    } catch (e) {
      if (ctx.signal.aborted && sent.length) await cancelCutStart(c, ctx, sent)
      if (!(e instanceof ControlServiceError) || e.status !== 409) throw e
      const active = (await ctx.client.listExecutions(c.ref, ['submitted', 'running']))[0]
      if (!active) {
        // it ended between the 409 and the look: start again, after a pause and within the limit
        // (a service that keeps answering 409 while listing nothing must not be hammered forever)
        if (ctx.clock() >= deadline)
          throw new ActionFailure(
            `the Control Service refused to start '${c.ref.job}' as already running (HTTP 409) until timeout-seconds ${c.timeoutMs / 1000}, yet listed no running execution; nothing was started`
          )
        await ctx.sleep(Math.min(c.pollIntervalMs, deadline - ctx.clock()), ctx.signal)
        if (ctx.signal.aborted)
          throw new ActionFailure('the workflow was cancelled before an execution was started')
        continue
      }
      if (c.onConflict === 'fail') {
        throw new ActionFailure(
          `execution ${active.id} of '${c.ref.job}' ${alreadyActive(active.status)}; set on-conflict: wait (start after it) or cancel (stop it first)`
        )
      }
      if (c.onConflict === 'cancel') {
        ctx.info(
          `execution ${active.id} ${alreadyActive(active.status)}: cancelling it (on-conflict: cancel)`
        )
        await ctx.client.cancelExecution(c.ref, active.id)
      } else
        ctx.info(
          `execution ${active.id} ${alreadyActive(active.status)}: waiting for it to end (on-conflict: wait)`
        )
      const ended = await poll({
        intervalMs: c.pollIntervalMs,
        timeoutMs: Math.max(0, deadline - ctx.clock()),
        signal: ctx.signal,
        clock: ctx.clock,
        sleep: ctx.sleep,
        probe: async () => {
          const e = await ctx.client.readExecution(c.ref, active.id)
          return { done: isTerminal(e.status), value: e }
        }
      })
      if (ended.reason === 'aborted')
        throw new ActionFailure(
          `the workflow was cancelled while waiting for execution ${active.id} to end`
        )
      if (ended.reason === 'timeout')
        throw new ActionFailure(
          `execution ${active.id} did not end within timeout-seconds ${c.timeoutMs / 1000}; nothing was started`
        )
      ctx.info(`execution ${active.id} ended (${ended.value.status}); starting a new one`)
    }
  }
}

/**
 * The failure reason is an annotation: GitHub keeps 4,096 characters of one (actions/runner,
 * ExecutionContext._maxIssueMessageLength: "Don't send issue with huge message"), and the log line
 * holds it whole (two 1.5 MB log lines made it 3 MB). Each log line in it is cut at 300
 * characters and the service's message at 500, which keeps it under 2,500 (the job name and the
 * execution id are checked names), whole lines staying in the log.
 */
const REASON = { lineChars: 300, messageChars: 500 }

/** Text cut at `max` characters (not inside a surrogate pair), with "…" when cut. */
const clip = (s: string, max: number): string =>
  s.length > max ? `${s.slice(0, max).replace(/[\ud800-\udbff]$/, '')}…` : s

/** Follows one execution: status lines, log lines (each once, in order), and the final report. */
class Follower {
  private lastStatus?: ExecutionStatus
  private printed = 0
  private tail: string[] = []
  /** The execution as last seen. */
  last?: DataJobExecution

  constructor(
    private readonly c: RunConfig,
    private readonly ctx: ActionContext,
    private readonly id: string
  ) {}

  async look(): Promise<DataJobExecution> {
    const e = await this.ctx.client.readExecution(this.c.ref, this.id)
    this.last = e
    if (e.status !== this.lastStatus) {
      this.ctx.info(`status: ${e.status}${e.message ? ` — ${e.message}` : ''}`)
      this.lastStatus = e.status
    }
    // no retries while it runs: the next look reads them again, and retrying would delay that look
    if (this.c.logs !== 'none' && !isTerminal(e.status)) await this.pullLogs(0)
    return e
  }

  /** New log lines since the last look; the service sends the whole log each time. */
  private async pullLogs(retries?: number): Promise<void> {
    let text: string
    try {
      text = await this.ctx.client.logs(this.c.ref, this.id, { retries })
    } catch (e) {
      // logs are a courtesy: a failing logs endpoint must not fail the run
      this.ctx.info(`(logs unavailable for now: ${(e as Error).message})`)
      return
    }
    this.take(splitLines(text))
  }

  private take(lines: string[]): void {
    if (lines.length <= this.printed) return
    const fresh = lines.slice(this.printed)
    this.tail = [...this.tail, ...fresh].slice(-20)
    if (this.c.logs === 'stream')
      this.ctx.group(`logs of ${this.id}: lines ${this.printed + 1}–${lines.length}`, fresh)
    this.printed = lines.length
  }

  async cancel(why: string): Promise<ExecutionStatus> {
    this.ctx.info(`cancelling execution ${this.id}: ${why}`)
    return this.ctx.cleanup.cancelExecution(this.c.ref, this.id)
  }

  /** At the end: the rest of the log (from logs_url, as the pod is gone), and the failure report. */
  async finish(e: DataJobExecution): Promise<void> {
    // the last lines (often the traceback): the pod may still be there just after the end…
    if (this.c.logs !== 'none') await this.pullLogs()
    // …and when it is gone, the log store behind logs_url has the whole log
    if (this.c.logs !== 'none' && e.logs_url) {
      const all = await this.ctx.client.readLogsUrl(e.logs_url, this.c.logsUrl)
      if ('text' in all) this.take(splitLines(all.text))
      else this.ctx.info(`complete logs: ${e.logs_url} (${all.why})`)
    }
    if (this.failed(e) && this.c.logs === 'on-failure' && this.tail.length)
      this.ctx.group(`last log lines of ${this.id}`, this.tail)
  }

  /** The step stopped following it (timeout, cancelled workflow): its outputs, and the reason. */
  stopped(status: ExecutionStatus, failure: string): Outcome {
    const e = this.last ?? { id: this.id, status }
    return { ...this.outcome({ ...e, status }), failure }
  }

  private failed(e: DataJobExecution): boolean {
    return e.status !== 'succeeded' && !(e.status === 'skipped' && !this.c.failOnSkipped)
  }

  outcome(e: DataJobExecution): Outcome {
    const started = e.start_time ? Date.parse(e.start_time) : undefined
    const ended = e.end_time ? Date.parse(e.end_time) : undefined
    const duration =
      started !== undefined && ended !== undefined ? Math.round((ended - started) / 100) / 10 : ''
    const outputs = {
      'execution-id': this.id,
      status: e.status,
      'logs-url': e.logs_url ?? '',
      'started-at': e.start_time ?? '',
      'ended-at': e.end_time ?? '',
      'duration-seconds': duration
    }
    const summary: Outcome['summary'] = {
      heading: 'VDK data job execution',
      columns: ['Job', 'Execution', 'Status', 'Start', 'End', 'Duration', 'Links'],
      rows: [
        [
          this.c.ref.job,
          this.id,
          e.status,
          e.start_time ?? '',
          e.end_time ?? '',
          duration === '' ? '' : `${duration} s`,
          joined([e.logs_url ? link('logs', e.logs_url) : '', runLink(this.ctx.env, '')], ' · ')
        ]
      ]
    }
    if (!isTerminal(e.status) || !this.failed(e)) {
      if (e.status === 'skipped')
        this.ctx.warning(
          `execution ${this.id} was skipped by the service: ${e.message ?? 'another execution was running'}`
        )
      return { outputs, summary }
    }
    const last = this.tail.slice(-5)
    const cut = last.some(l => l.length > REASON.lineChars)
    const lines = last.map(l => clip(l, REASON.lineChars)).join(' | ')
    const reason = `execution ${this.id} of '${this.c.ref.job}' ended ${e.status}${e.message ? `: ${clip(e.message, REASON.messageChars)}` : ''}${last.length ? ` — last log lines: ${lines}${cut ? ` (lines cut at ${REASON.lineChars} characters: the whole lines are in the log above)` : ''}` : ''}`
    return { outputs, summary, failure: reason }
  }
}
