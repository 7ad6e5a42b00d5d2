// What tests script through /_emulator/ (the next execution, the next deployment, a change to the
// clock), checked as it arrives: a script the service cannot follow is refused with a 400 naming
// the field, never half applied.
import { isObject } from './body.js'
import type { DeploymentScript, ExecutionScript } from './model.js'
import { FINAL_STATUSES } from './model.js'

/** A script, fault or clock change the service cannot take: answered 400 with its message. */
export class AdminInputError extends Error {}

export function seconds(v: unknown, name: string, fallback: number): number {
  if (v === undefined) return fallback
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new AdminInputError(`${name} must be a number of seconds, 0 or more`)
  }
  return v
}

export function parseExecutionScript(body: unknown, defaultSeconds: number): ExecutionScript {
  if (!isObject(body)) throw new AdminInputError('the body must be a JSON object')
  const status = body.status ?? 'succeeded'
  if (!FINAL_STATUSES.includes(status as never)) {
    throw new AdminInputError(`status must be one of ${FINAL_STATUSES.join(', ')}`)
  }
  const logs = body.logs
  if (logs !== undefined && (!Array.isArray(logs) || logs.some(l => typeof l !== 'string'))) {
    throw new AdminInputError('logs must be a list of strings')
  }
  const script: ExecutionScript = {
    status: status as ExecutionScript['status'],
    seconds: seconds(body.seconds, 'seconds', defaultSeconds),
    logs: logs as string[] | undefined
  }
  if (body.submitSeconds !== undefined)
    script.submitSeconds = seconds(body.submitSeconds, 'submitSeconds', 0)
  if (body.timestamps !== undefined) {
    if (typeof body.timestamps !== 'boolean')
      throw new AdminInputError('timestamps must be true or false')
    script.timestamps = body.timestamps
  }
  if (body.restartAtLines !== undefined) script.restartAtLines = restartPoints(body.restartAtLines)
  if (body.becomes !== undefined) {
    if (!FINAL_STATUSES.includes(body.becomes as never)) {
      throw new AdminInputError(`becomes must be one of ${FINAL_STATUSES.join(', ')}`)
    }
    script.becomes = body.becomes as ExecutionScript['status']
    if (body.becomesAfterReads !== undefined) {
      const n = body.becomesAfterReads
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1)
        throw new AdminInputError('becomesAfterReads must be a whole number above 0')
      if (body.becomesAfterSeconds !== undefined)
        throw new AdminInputError('give becomesAfterSeconds or becomesAfterReads, not both')
      script.becomesAfterReads = n
    } else {
      script.becomesAfterSeconds = seconds(body.becomesAfterSeconds, 'becomesAfterSeconds', 1)
    }
  }
  return script
}

/** Record numbers where the container restarts: whole numbers, 0 or more, kept ascending. */
function restartPoints(v: unknown): number[] {
  if (!Array.isArray(v) || v.some(n => typeof n !== 'number' || !Number.isInteger(n) || n < 0))
    throw new AdminInputError('restartAtLines must be a list of whole numbers, 0 or more')
  return [...new Set(v as number[])].sort((a, b) => a - b)
}

export function parseDeploymentScript(body: unknown, defaultSeconds: number): DeploymentScript {
  if (!isObject(body)) throw new AdminInputError('the body must be a JSON object')
  const status = body.status ?? 'SUCCESS'
  if (!['SUCCESS', 'USER_ERROR', 'PLATFORM_ERROR'].includes(status as string)) {
    throw new AdminInputError('status must be one of SUCCESS, USER_ERROR, PLATFORM_ERROR')
  }
  return {
    status: status as DeploymentScript['status'],
    seconds: seconds(body.seconds, 'seconds', defaultSeconds)
  }
}

/** A change to the service's clock: freeze or resume it, then move it on. */
export interface ClockChange {
  freeze?: boolean
  advanceSeconds: number
}

export function parseClockChange(body: unknown): ClockChange {
  if (!isObject(body)) throw new AdminInputError('the body must be a JSON object')
  const unknown = Object.keys(body).filter(k => k !== 'freeze' && k !== 'advance_seconds')
  if (unknown.length)
    throw new AdminInputError(
      `unknown field ${JSON.stringify(unknown[0])}: give freeze (true/false) and/or advance_seconds`
    )
  if (body.freeze !== undefined && typeof body.freeze !== 'boolean')
    throw new AdminInputError('freeze must be true (stop the clock) or false (let it run)')
  return {
    freeze: body.freeze,
    advanceSeconds: seconds(body.advance_seconds, 'advance_seconds', 0)
  }
}
