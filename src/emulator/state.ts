// The service's state as one store: the jobs, their versions, deployments and executions, the
// properties, secrets, scripts and tokens (model.ts says what each holds), kept in memory and, with
// --data-dir, written to state.json after every change so that a restart loses nothing. A long
// log (a scripted execution's) is written once to a file of its own beside it (logs/<sha256>.json)
// and state.json names that file: a change then writes the small state, never every log again.
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { ServiceClock } from './clock.js'
import {
  deployContacts,
  emptyState,
  iso,
  settleDeployment,
  type JobState,
  type Scripts,
  type ServiceState
} from './model.js'

/** The deployment e-mails kept for GET /_emulator/notifications; the oldest go first. */
const MAX_NOTIFICATIONS = 10_000

/** A `logs` list of this many lines or more is kept in its own file (see the header). */
const LOG_FILE_LINES = 1000
const LOG_FILE = /^logs\/[0-9a-f]{64}\.json$/

/** What state.json holds in place of a long log: the file it is in, relative to state.json. */
interface LogFileRef {
  $file: string
}
const isLogFileRef = (v: unknown): v is LogFileRef =>
  typeof v === 'object' && v !== null && typeof (v as LogFileRef).$file === 'string'

export class Store {
  /** Replaced whole by a reset: read it through the store, never keep it. */
  state: ServiceState
  readonly clock: ServiceClock

  /**
   * The state saved in `file` (when it exists), or an empty one. `file` undefined: nothing is
   * written. A restart goes on from the clock it stopped with (unless `clock` is given), so that
   * nothing that had ended runs again.
   */
  constructor(
    private readonly file: string | undefined,
    clock: ServiceClock | undefined,
    frozen = false
  ) {
    this.state =
      file && existsSync(file)
        ? {
            ...emptyState(),
            ...(JSON.parse(readFileSync(file, 'utf8'), this.reviver) as ServiceState)
          }
        : emptyState()
    this.clock =
      clock ?? (this.state.clock ? ServiceClock.restore(this.state.clock) : new ServiceClock())
    if (frozen) this.clock.freeze()
  }

  /** Whether the state file has been written yet. */
  get saved(): boolean {
    return this.file !== undefined && existsSync(this.file)
  }

  /** Writes the state (and where the clock stands) to its file, whole or not at all. */
  persist(): void {
    if (!this.file) return
    this.state.clock = this.clock.snapshot()
    const referenced = new Set<string>()
    const text = JSON.stringify(this.state, (key, value: unknown) => {
      if (key !== 'logs' || !Array.isArray(value) || value.length < LOG_FILE_LINES) return value
      const name = this.logFile(value as string[])
      referenced.add(name)
      return { $file: name } satisfies LogFileRef
    })
    writeFileSync(`${this.file}.tmp`, text)
    renameSync(`${this.file}.tmp`, this.file)
    // the logs no execution or script holds any more (dropped, reset) go with the state that held them
    for (const name of this.logFilesInUse) if (!referenced.has(name)) this.removeLogFile(name)
    this.logFilesInUse = referenced
  }

  /** The log files the state on disk names. */
  private logFilesInUse = new Set<string>()
  /** The file each log list was written to (a list does not change once an execution has it). */
  private readonly logFiles = new WeakMap<string[], string>()

  /** The file of a long log, written once: named by the hash of its content. */
  private logFile(lines: string[]): string {
    const known = this.logFiles.get(lines)
    if (known) return known
    const text = JSON.stringify(lines)
    const name = `logs/${createHash('sha256').update(text).digest('hex')}.json`
    const path = join(dirname(this.file as string), name)
    if (!existsSync(path)) {
      mkdirSync(dirname(path), { recursive: true })
      writeFileSync(`${path}.tmp`, text)
      renameSync(`${path}.tmp`, path)
    }
    this.logFiles.set(lines, name)
    return name
  }

  private removeLogFile(name: string): void {
    try {
      unlinkSync(join(dirname(this.file as string), name))
    } catch {
      // already gone: nothing to free
    }
  }

  /** Reading state.json: a long log comes back from its file. */
  private readonly reviver = (key: string, value: unknown): unknown => {
    if (key !== 'logs' || !isLogFileRef(value) || !LOG_FILE.test(value.$file)) return value
    const lines = JSON.parse(
      readFileSync(join(dirname(this.file as string), value.$file), 'utf8')
    ) as string[]
    this.logFiles.set(lines, value.$file)
    this.logFilesInUse.add(value.$file)
    return lines
  }

  reset(): void {
    this.state = emptyState()
  }

  /** The job if it exists with this team; the real service compares both. */
  findJob(team: string, name: string): JobState | undefined {
    const js = this.state.jobs[name]
    return js && js.job.team === team ? js : undefined
  }

  /** What tests scripted for a job through the admin API (created empty on first use). */
  scriptsFor(team: string, job: string): Scripts {
    return (this.state.scripts[`${team}/${job}`] ??= { executions: [], deployments: [] })
  }

  /** Applies every finished build; true when one was. */
  settleAll(now: number): boolean {
    let changed = false
    for (const js of Object.values(this.state.jobs)) changed = this.settle(js, now) || changed
    return changed
  }

  /** Applies a finished build, and records the e-mail the real service would send about it. */
  settle(js: JobState, now: number): boolean {
    const done = settleDeployment(js, now)
    if (!done) return false
    if (done.notify) {
      const notifications = this.state.notifications
      notifications.push({
        at: iso(done.ready_at),
        job_name: js.job.job_name,
        team: js.job.team,
        job_version: done.target.job_version,
        outcome: done.outcome,
        recipients: done.recipients ?? deployContacts(js),
        live_version: js.live?.job_version ?? null
      })
      if (notifications.length > MAX_NOTIFICATIONS) notifications.shift()
    }
    return true
  }
}
