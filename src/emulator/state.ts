// The service's state as one store: the jobs, their versions, deployments and executions, the
// properties, secrets, scripts and tokens (model.ts says what each holds), kept in memory and, with
// --data-dir, written to state.json after every change so that a restart loses nothing.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
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
        ? { ...emptyState(), ...(JSON.parse(readFileSync(file, 'utf8')) as ServiceState) }
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
    writeFileSync(`${this.file}.tmp`, JSON.stringify(this.state))
    renameSync(`${this.file}.tmp`, this.file)
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
