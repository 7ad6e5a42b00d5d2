// The local Control Service in the test process, and what end-to-end tests do with it besides
// running actions: official calls with the token, admin scripts and faults, its state and journal.
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
      headers: { 'Content-Type': 'application/json' },
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
    return executionStatus(record, Date.now())
  }

  /** The journal entries of one method and path (the path as sent, percent-encoded). */
  requests(method: string, path: string): Array<{ at: string; status: number | null }> {
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
