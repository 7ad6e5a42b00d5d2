// run-and-wait: start an execution of a deployed job and follow it — one line per status change,
// its log lines as they come — until it ends, runs, or the time is up; cancel it remotely when
// the wait times out or the workflow is cancelled, and in the post step if it was left orphaned.
import { nestsDeeper, type JobRef } from '../core/client.js'
import { readConnection, type ConnectionConfig } from '../core/connection.js'
import {
  choice,
  parseBoolean,
  parseSeconds,
  type InputSource,
  type Problems
} from '../core/inputs.js'
import { ActionFailure } from '../core/errors.js'
import { readLogsUrlRule, type LogsUrlRule } from '../core/logsurl.js'
import type { PollResult } from '../core/poll.js'
import { isTerminal, type DataJobExecution, type ExecutionStatus } from '../core/types.js'
import { ExecutionFollower, pollExecution, type LogsMode } from './execution.js'
import { NO_REF, readJobInputs } from './job.js'
import { RunReport } from './run-outcome.js'
import { cancelledOrEnded, startExecution, type ConflictPolicy } from './run-start.js'
import type { ActionContext, ActionDefinition, Outcome } from './runtime.js'

type WaitMode = 'true' | 'false' | 'running'

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
    return { ...config, ref: job?.ref ?? NO_REF }
  },

  connection: config => config.connection,

  async run(config, ctx) {
    const deadline = ctx.clock() + config.timeoutMs
    const id = await startExecution(config, ctx, deadline)
    ctx.saveState(STATE.id, id)
    ctx.saveState(STATE.team, config.ref.team)
    ctx.saveState(STATE.job, config.ref.job)
    ctx.info(`started execution ${id} of '${config.ref.job}' (team '${config.ref.team}')`)
    const run: FollowedRun = {
      config,
      ctx,
      id,
      follower: new ExecutionFollower(ctx, config.ref, id, config.logs),
      report: new RunReport(ctx, config.ref.job, id, config.failOnSkipped)
    }
    if (config.wait === 'false') {
      ctx.saveState(STATE.settled, 'left running')
      return run.report.outcome(await ctx.client.readExecution(config.ref, id), [])
    }
    const result = await follow(run, deadline)
    if (result.reason !== 'done') return stoppedFollowing(run, result)
    let execution = result.value
    // `done` comes only with a status read from the service
    if (!execution) throw new ActionFailure(`no status of execution ${id} was read`)
    const tail = (): string[] => run.follower.log.tail
    if (execution.status === 'running' || execution.status === 'submitted') {
      run.follower.log.flush()
      ctx.saveState(STATE.settled, 'left running')
      return run.report.outcome(execution, tail())
    }
    ctx.saveState(STATE.settled, 'ended')
    if (execution.status === 'platform_error') {
      // the service may still overwrite a platform error: read it once more before judging
      await ctx.sleep(Math.min(config.pollIntervalMs, 2000), ctx.signal)
      execution = await run.follower.read()
    }
    await run.follower.readLastLogs(execution, config.logsUrl)
    if (run.report.failed(execution) && config.logs === 'on-failure' && tail().length)
      ctx.group(`last log lines of ${id}`, tail())
    return run.report.outcome(execution, tail())
  },

  async post(config, ctx) {
    const id = ctx.getState(STATE.id)
    const settled = ctx.getState(STATE.settled)
    if (!id) return ctx.info('no execution was started: nothing to clean up')
    if (settled)
      return ctx.info(`execution ${id}: ${settled} in the main step; nothing to clean up`)
    const ref = {
      team: ctx.getState(STATE.team) || config.ref.team,
      job: ctx.getState(STATE.job) || config.ref.job
    }
    let was: string
    try {
      const execution = await ctx.cleanup.readExecution(ref, id)
      if (isTerminal(execution.status)) {
        ctx.info(`execution ${id} had ended (${execution.status}); nothing to clean up`)
        return
      }
      was = `was still ${execution.status}`
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

/** The execution the step started and follows, with what follows and reports it. */
interface FollowedRun {
  config: RunConfig
  ctx: ActionContext
  id: string
  follower: ExecutionFollower
  report: RunReport
}

/** Reads the execution every poll interval until it ends (or runs, with wait: running). */
function follow(
  run: FollowedRun,
  deadline: number
): Promise<PollResult<DataJobExecution | undefined>> {
  const { config, ctx, follower } = run
  return pollExecution(ctx, config.pollIntervalMs, deadline, async () => {
    try {
      const execution = await follower.read()
      const done =
        isTerminal(execution.status) ||
        (config.wait === 'running' && execution.status === 'running')
      return { done, value: execution }
    } catch (e) {
      // a request cut short by the cancellation: the loop ends as aborted
      if (ctx.signal.aborted) return { done: false, value: follower.latest }
      throw e
    }
  })
}

/**
 * The step stopped following the execution before it ended: the workflow was cancelled (it is
 * cancelled too), or the time is up (it is cancelled with cancel-on-timeout). The step fails, but
 * with its outputs: a later step (if: failure()) needs the execution's id.
 */
async function stoppedFollowing(
  run: FollowedRun,
  result: Exclude<PollResult<DataJobExecution | undefined>, { reason: 'done' }>
): Promise<Outcome> {
  const { config, ctx, id, follower, report } = run
  // the last line read waited for a next read that will not come
  follower.log.flush()
  const tail = follower.log.tail
  const cancel = async (why: string): Promise<ExecutionStatus> => {
    ctx.info(`cancelling execution ${id}: ${why}`)
    const status = await ctx.cleanup.cancelExecution(config.ref, id)
    ctx.saveState(STATE.settled, 'cancelled')
    return status
  }
  if (result.reason === 'aborted') {
    const status = await cancel('the workflow was cancelled')
    const failure = `the workflow was cancelled while execution ${id} ran: ${cancelledOrEnded(status)}`
    return report.stoppedFollowing(follower.latest, status, failure, tail)
  }
  const last = result.last?.status ?? 'unknown'
  const notEnded = `execution ${id} did not end within timeout-seconds ${config.timeoutMs / 1000} (last status ${last})`
  if (config.cancelOnTimeout) {
    const status = await cancel('timeout-seconds was reached')
    const failure = `${notEnded}; ${status === 'cancelled' ? 'it was cancelled on the Control Service' : `it ended meanwhile (${status})`}`
    return report.stoppedFollowing(follower.latest, status, failure, tail)
  }
  ctx.saveState(STATE.settled, 'left running')
  const failure = `${notEnded}; it goes on, as cancel-on-timeout is false`
  return report.stoppedFollowing(follower.latest, result.last?.status ?? 'submitted', failure, tail)
}
