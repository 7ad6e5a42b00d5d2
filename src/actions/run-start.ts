// How run-and-wait starts its execution: a start sent once (one cut short by a cancelled workflow
// is found by the op ids of its attempts and cancelled), and, when the service refuses it because
// an execution is already active (HTTP 409), that conflict resolved as on-conflict says — fail,
// wait for the active one to end, or cancel it — before the start is tried again.
import type { JobRef } from '../core/client.js'
import { ActionFailure, ControlServiceError } from '../core/errors.js'
import { isTerminal, type DataJobExecution, type ExecutionStatus } from '../core/types.js'
import { pollExecution } from './execution.js'
import type { ActionContext } from './runtime.js'

export type ConflictPolicy = 'fail' | 'wait' | 'cancel'

/** What a start needs of run-and-wait's config. */
export interface StartSettings {
  ref: JobRef
  args: Record<string, unknown>
  startedBy: string
  onConflict: ConflictPolicy
  timeoutMs: number
  pollIntervalMs: number
}

/** What a cancel sent because the workflow was cancelled came to. */
export const cancelledOrEnded = (status: string): string =>
  status === 'cancelled'
    ? 'it was cancelled on the Control Service'
    : `it had already ended (${status})`

/** How an execution in the way of a start is named: a submitted one has not started running. */
const alreadyActive = (status: ExecutionStatus): string =>
  status === 'submitted' ? 'was already submitted (it is about to run)' : `is already ${status}`

/** Starts the execution, resolving on-conflict when one is already active; its id. */
export async function startExecution(
  settings: StartSettings,
  ctx: ActionContext,
  deadline: number
): Promise<string> {
  for (;;) {
    const id = await startOnce(settings, ctx)
    if (id !== undefined) return id
    await resolveConflict(settings, ctx, deadline)
  }
}

/** One start: the execution's id, or undefined when one is already active (HTTP 409). */
async function startOnce(settings: StartSettings, ctx: ActionContext): Promise<string | undefined> {
  const request = { started_by: settings.startedBy, args: settings.args }
  // the op ids of the start's attempts: a start cut short by a cancelled workflow may have
  // reached the service, and only they find the execution it made
  const sent: string[] = []
  try {
    return await ctx.client.startExecution(settings.ref, request, {
      onSend: opId => sent.push(opId)
    })
  } catch (e) {
    if (ctx.signal.aborted && sent.length) await cancelCutStart(settings.ref, ctx, sent)
    if (!(e instanceof ControlServiceError) || e.status !== 409) throw e
    return undefined
  }
}

/**
 * The workflow was cancelled while a start was on its way: the execution it may have made is found
 * by the op ids of its attempts (the cleanup client is not stopped by the cancellation) and
 * cancelled, so that no execution runs on that nobody follows.
 */
async function cancelCutStart(ref: JobRef, ctx: ActionContext, sent: string[]): Promise<never> {
  const made = (await ctx.cleanup.listExecutions(ref)).find(
    execution => execution.op_id !== undefined && sent.includes(execution.op_id)
  )
  if (!made) throw new ActionFailure('the workflow was cancelled before an execution was started')
  const status = isTerminal(made.status)
    ? made.status
    : await ctx.cleanup.cancelExecution(ref, made.id)
  throw new ActionFailure(
    `the workflow was cancelled while execution ${made.id} was being started: ${cancelledOrEnded(status)}`
  )
}

/**
 * After a refused start: the active execution fails the step, or is cancelled or waited for
 * (on-conflict) until it ends; then a new start may be tried.
 */
async function resolveConflict(
  settings: StartSettings,
  ctx: ActionContext,
  deadline: number
): Promise<void> {
  const { ref, onConflict } = settings
  const active = (await ctx.client.listExecutions(ref, ['submitted', 'running']))[0]
  if (!active) return pauseBeforeRestart(settings, ctx, deadline)
  if (onConflict === 'fail') {
    throw new ActionFailure(
      `execution ${active.id} of '${ref.job}' ${alreadyActive(active.status)}; set on-conflict: wait (start after it) or cancel (stop it first)`
    )
  }
  if (onConflict === 'cancel') {
    ctx.info(
      `execution ${active.id} ${alreadyActive(active.status)}: cancelling it (on-conflict: cancel)`
    )
    await ctx.client.cancelExecution(ref, active.id)
  } else
    ctx.info(
      `execution ${active.id} ${alreadyActive(active.status)}: waiting for it to end (on-conflict: wait)`
    )
  const ended = await waitForEnd(settings, ctx, active, deadline)
  ctx.info(`execution ${active.id} ended (${ended.status}); starting a new one`)
}

/**
 * The active execution ended between the 409 and the listing: start again, after a pause and
 * within the limit (a service that keeps answering 409 while listing nothing must not be
 * hammered forever).
 */
async function pauseBeforeRestart(
  settings: StartSettings,
  ctx: ActionContext,
  deadline: number
): Promise<void> {
  if (ctx.clock() >= deadline)
    throw new ActionFailure(
      `the Control Service refused to start '${settings.ref.job}' as already running (HTTP 409) until timeout-seconds ${settings.timeoutMs / 1000}, yet listed no running execution; nothing was started`
    )
  await ctx.sleep(Math.min(settings.pollIntervalMs, deadline - ctx.clock()), ctx.signal)
  if (ctx.signal.aborted)
    throw new ActionFailure('the workflow was cancelled before an execution was started')
}

/** The active execution once it has ended, read every poll interval until the deadline. */
async function waitForEnd(
  settings: StartSettings,
  ctx: ActionContext,
  active: DataJobExecution,
  deadline: number
): Promise<DataJobExecution> {
  const ended = await pollExecution(ctx, settings.pollIntervalMs, deadline, async () => {
    const execution = await ctx.client.readExecution(settings.ref, active.id)
    return { done: isTerminal(execution.status), value: execution }
  })
  if (ended.reason === 'aborted')
    throw new ActionFailure(
      `the workflow was cancelled while waiting for execution ${active.id} to end`
    )
  if (ended.reason === 'timeout')
    throw new ActionFailure(
      `execution ${active.id} did not end within timeout-seconds ${settings.timeoutMs / 1000}; nothing was started`
    )
  return ended.value
}
