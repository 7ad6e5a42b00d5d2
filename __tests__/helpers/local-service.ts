// The local Control Service in the test process, and what end-to-end tests do with it besides
// running actions: official calls with the token, admin scripts and faults, its state and journal,
// and its clock. A test that asserts on a phase (submitted, running, some log lines so far) runs
// the service with a frozen clock and moves it on itself (`phase`), once the action has looked:
// what the action sees then depends on the test's steps, never on the machine's speed.
import type { ServiceClock } from '../../src/emulator/clock.js'
import { executionStatus, type ExecutionRecord } from '../../src/emulator/model.js'
import type { Emulator } from '../../src/emulator/server.js'
import { jobFiles, until, zipOf } from './fixtures.js'

const enc = encodeURIComponent

export interface ExecutionJson {
  id: string
  status: string
  start_time: string
  end_time?: string
  started_by: string
  type?: string
  logs_url?: string
}

export class LocalService {
  constructor(
    readonly emu: Emulator,
    readonly team: string,
    readonly token: string
  ) {}

  jobPath(job: string): string {
    return `/data-jobs/for-team/${enc(this.team)}/jobs/${enc(job)}`
  }

  execPath(job: string, id: string): string {
    return `${this.jobPath(job)}/executions/${enc(id)}`
  }

  async call(method: string, path: string, body?: unknown, raw?: Buffer): Promise<Response> {
    return fetch(`${this.emu.url}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${this.token}`,
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...(raw ? { 'Content-Type': 'application/octet-stream' } : {})
      },
      body: raw ? new Uint8Array(raw) : body === undefined ? undefined : JSON.stringify(body)
    })
  }

  async admin(path: string, body?: unknown, method = 'POST'): Promise<void> {
    const res = await fetch(`${this.emu.url}/_emulator/${path}`, {
      method,
      headers: { Authorization: `Bearer ${this.token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    expect(res.status).toBeLessThan(300)
  }

  /** Creates the job, uploads sources and waits until the deployment is live: it can run. */
  async deploy(job: string): Promise<void> {
    const created = await this.call(
      'POST',
      `/data-jobs/for-team/${enc(this.team)}/jobs?name=${job}`,
      {
        job_name: job,
        team: this.team,
        description: 'made by a test',
        config: {}
      }
    )
    expect(created.status).toBe(201)
    const uploaded = await this.call(
      'POST',
      `${this.jobPath(job)}/sources?reason=test`,
      undefined,
      await zipOf(jobFiles(job))
    )
    expect(uploaded.status).toBe(200)
    const { version_sha: version } = (await uploaded.json()) as { version_sha: string }
    const deployed = await this.call('POST', `${this.jobPath(job)}/deployments`, {
      job_version: version
    })
    expect(deployed.status).toBe(202)
    this.settleDeployments()
    await until(`version ${version} of ${job} live`, async () => {
      const res = await this.call('GET', `${this.jobPath(job)}/deployments`)
      const list = (await res.json()) as Array<{ job_version: string }>
      return list[0]?.job_version === version ? true : undefined
    })
  }

  /** How the next execution of `job` goes (status, seconds, logs, becomes…). */
  script(job: string, script: Record<string, unknown>): Promise<void> {
    return this.admin(`jobs/${enc(this.team)}/${job}/next-execution`, script)
  }

  fault(fault: Record<string, unknown>): Promise<void> {
    return this.admin('faults', fault)
  }

  async start(job: string): Promise<string> {
    const res = await this.call('POST', `${this.jobPath(job)}/deployments/production/executions`, {
      started_by: 'manual/test'
    })
    expect(res.status).toBe(202)
    return decodeURIComponent((res.headers.get('location') ?? '').split('/').pop() as string)
  }

  async read(job: string, id: string): Promise<ExecutionJson> {
    const res = await this.call('GET', this.execPath(job, id))
    expect(res.status).toBe(200)
    return (await res.json()) as ExecutionJson
  }

  async cancel(job: string, id: string): Promise<number> {
    return (await this.call('DELETE', this.execPath(job, id))).status
  }

  /** The executions of `job` as the service holds them (no request, so nothing in the journal). */
  executions(job: string): ExecutionRecord[] {
    return this.emu.state.jobs[job]?.executions ?? []
  }

  status(record: ExecutionRecord): string {
    return executionStatus(record, this.clock.now())
  }

  get clock(): ServiceClock {
    return this.emu.clock
  }

  /** Moves the clock on to when every deployment being built is live (or has failed). */
  settleDeployments(): void {
    for (const js of Object.values(this.emu.state.jobs))
      if (js.pending) this.clock.advanceTo(js.pending.ready_at)
  }

  /** Where the journal is now: a request after this moment has a higher `seq`. */
  mark(): number {
    return this.emu.journal.at(-1)?.seq ?? 0
  }

  /** True when a client has read `path` (GET) after the journal's `mark`. */
  readSince(path: string, mark: number): boolean {
    return this.emu.journal.some(j => j.seq > mark && j.method === 'GET' && j.path === path)
  }

  /** Waits until a client has read execution `id` of `job` (GET) after the journal's `mark`. */
  async lookedAt(job: string, id: string, mark: number): Promise<void> {
    const path = this.execPath(job, id)
    await until(`a look at execution ${id} after request ${mark}`, () =>
      Promise.resolve(this.readSince(path, mark) || undefined)
    )
  }

  /** Moves the clock on to when execution `id` of `job` runs. */
  toRunning(job: string, id: string): void {
    this.clock.advanceTo(this.record(job, id).running_at)
  }

  /**
   * Starts an action run (`start`) whose execution of `job` — the next one, or the `n`-th — the
   * test then takes through its phases with the (frozen) clock; see DrivenRun.
   */
  act<R>(job: string, start: () => Promise<R>, o: DriveOptions = {}): DrivenRun<R> {
    return new DrivenRun(this, job, start, o.n ?? this.executions(job).length + 1, o.look)
  }

  /**
   * Runs the action, takes its execution through `phases` (waiting at each until the action has
   * looked), lets it end, and returns the action's result and the execution's id.
   */
  async drive<R>(
    job: string,
    start: () => Promise<R>,
    phases: Phase[] = ['running'],
    o: DriveOptions = {}
  ): Promise<{ run: R; id: string }> {
    const driven = this.act(job, start, o)
    if (await driven.started()) for (const p of phases) if (!(await driven.to(p))) break
    return { run: await driven.end(), id: driven.id }
  }

  /** The journal entries of one method and path (the path as sent, percent-encoded). */
  requests(
    method: string,
    path: string
  ): Array<{ at: string; seq: number; status: number | null }> {
    return this.emu.journal.filter(j => j.method === method && j.path === path)
  }

  record(job: string, id: string): ExecutionRecord {
    const e = this.emu.state.jobs[job]?.executions.find(x => x.id === id)
    if (!e) throw new Error(`no execution ${id} of ${job}`)
    return e
  }
  async serviceLogs(job: string, id: string): Promise<string> {
    return (
      (await (await this.call('GET', `${this.execPath(job, id)}/logs`)).json()) as { logs: string }
    ).logs
  }
}

/** `running` (its first moment) or a fraction of its running time (0.5: half its log lines are there). */
export type Phase = 'running' | number

/** When execution `e` is at `phase`, on the service's clock. */
export const momentOf = (e: ExecutionRecord, phase: Phase): number =>
  phase === 'running' ? e.running_at : e.running_at + Math.round((e.end_at - e.running_at) * phase)

export interface DriveOptions {
  /** Which execution of the job the action starts (1 = its first; default: the next one). */
  n?: number
  /** What counts as a look: a read of the execution (default), or of its logs (the last request
   * of a look while it runs, so that the lines it saw belong to the phase). */
  look?: 'execution' | 'logs'
}

/**
 * One action run and the execution it starts, in the hands of the test: the service's clock
 * (frozen) moves only when the test says, and each step waits until the action has looked at the
 * execution since, so the action sees every phase the test chose, whatever the machine's speed.
 * Each wait gives up (false) when the action has ended first: its result then tells why.
 */
export class DrivenRun<R> {
  id = ''
  readonly result: Promise<R>
  private done = false
  private record?: ExecutionRecord

  constructor(
    private readonly svc: LocalService,
    private readonly job: string,
    start: () => Promise<R>,
    private readonly n: number,
    private readonly look: 'execution' | 'logs' = 'execution'
  ) {
    this.result = start().finally(() => (this.done = true))
  }

  /** True once the action's run has ended. */
  get finished(): boolean {
    return this.done
  }

  private wait(what: string, check: () => boolean): Promise<boolean> {
    return until(
      what,
      () => Promise.resolve(check() ? true : this.finished ? false : undefined),
      20_000
    )
  }

  private looked(mark: number): boolean {
    const path = this.svc.execPath(this.job, this.id)
    return this.svc.readSince(this.look === 'logs' ? `${path}/logs` : path, mark)
  }

  /** Waits until the action has started its execution (its first look may come later). */
  async begun(): Promise<boolean> {
    const begun = await this.wait(
      `execution ${this.n} of ${this.job} to start`,
      () => this.svc.executions(this.job).length >= this.n
    )
    if (!begun) return false
    this.record = this.svc.executions(this.job)[this.n - 1]
    this.id = this.record.id
    return true
  }

  /** Waits until the action has started its execution and looked at it (still submitted). */
  async started(): Promise<boolean> {
    if (!(await this.begun())) return false
    return this.wait(`a look at ${this.id} while submitted`, () =>
      this.svc.readSince(this.svc.execPath(this.job, this.id), 0)
    )
  }

  /** Moves the clock on to `phase` and waits until the action has looked at it since. */
  async to(phase: Phase): Promise<boolean> {
    const e = this.record
    if (!e) throw new Error('to() before started()')
    const mark = this.svc.mark()
    this.svc.clock.advanceTo(momentOf(e, phase))
    return this.wait(`a look at ${this.id} at ${phase}`, () => this.looked(mark))
  }

  /** Lets the execution end (its scripted end) and returns the action's result. */
  async end(): Promise<R> {
    if (this.record && !this.finished) this.svc.clock.advanceTo(this.record.end_at)
    return this.result
  }
}
