// Small builders shared by the tests: zips in memory, paths, and the common journeys
// (create → upload → deploy → run) through the contract-checked Api.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import yauzl from 'yauzl'
import yazl from 'yazl'
import type { Api, ApiResponse } from './api.js'

export const enc = encodeURIComponent
export const teamPath = (team: string): string => `/data-jobs/for-team/${enc(team)}`
export const jobPath = (team: string, job: string): string => `${teamPath(team)}/jobs/${enc(job)}`

/** A zip with the given entries (`null` content: a directory entry). */
export async function zipOf(
  entries: Record<string, string | Buffer | null>,
  mtime = new Date(0)
): Promise<Buffer> {
  const zip = new yazl.ZipFile()
  for (const [name, content] of Object.entries(entries)) {
    if (content === null) zip.addEmptyDirectory(name, { mtime })
    else zip.addBuffer(Buffer.from(content), name, { mtime })
  }
  zip.end()
  const chunks: Buffer[] = []
  for await (const c of zip.outputStream as AsyncIterable<Buffer>) chunks.push(c)
  return Buffer.concat(chunks)
}

/** The files of a typical job folder, under one top folder. */
export const jobFiles = (
  top: string,
  extra: Record<string, string> = {}
): Record<string, string | null> => ({
  [`${top}/`]: null,
  [`${top}/config.ini`]: '[owner]\nteam = data team\n\n[job]\nschedule_cron = 0 6 * * *\n',
  [`${top}/10_load.py`]: 'def run(job_input):\n    pass\n',
  [`${top}/20_report.sql`]: 'SELECT 1;\n',
  ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [`${top}/${k}`, v]))
})

export async function createJob(api: Api, team: string, job: string): Promise<ApiResponse> {
  const res = await api.call('POST', `${teamPath(team)}/jobs?name=${enc(job)}`, {
    json: {
      job_name: job,
      team,
      description: `${job} made by a test`,
      config: { schedule: { schedule_cron: '0 6 * * *' } }
    }
  })
  expect(res.status).toBe(201)
  return res
}

export async function upload(
  api: Api,
  team: string,
  job: string,
  zip: Buffer,
  reason = 'test'
): Promise<string> {
  const res = await api.call('POST', `${jobPath(team, job)}/sources?reason=${enc(reason)}`, {
    body: zip,
    headers: { 'Content-Type': 'application/octet-stream' }
  })
  expect(res.status).toBe(200)
  const version = (res.json as { version_sha: string }).version_sha
  expect(version).toMatch(/^[0-9a-f]{40}$/)
  return version
}

export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 10_000
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(r => setTimeout(r, 50))
  }
}

/**
 * POST a deployment of `version` and wait until GET .../deployments shows it live: that version,
 * deployed after the POST (a redeploy of the live version changes its last_deployed_date).
 */
export async function deployLive(
  api: Api,
  team: string,
  job: string,
  version: string,
  extra: object = {},
  query = ''
): Promise<void> {
  type Listed = Array<{ job_version: string; last_deployed_date: string }>
  const list = async () =>
    (await api.call('GET', `${jobPath(team, job)}/deployments`)).json as Listed
  const before = (await list())[0]
  const res = await api.call(
    'POST',
    `${jobPath(team, job)}/deployments${query ? `?${query}` : ''}`,
    {
      json: { job_version: version, ...extra }
    }
  )
  expect(res.status).toBe(202)
  await until(`version ${version} live`, async () => {
    const live = (await list())[0]
    const fresh =
      before?.job_version !== version || live?.last_deployed_date !== before.last_deployed_date
    return live?.job_version === version && fresh ? true : undefined
  })
}

/** Start an execution; its id comes from the Location header, as on the real service. */
export async function startExecution(
  api: Api,
  team: string,
  job: string,
  body: object = { started_by: 'manual/test' }
): Promise<string> {
  const res = await api.call('POST', `${jobPath(team, job)}/deployments/production/executions`, {
    json: body
  })
  expect(res.status).toBe(202)
  expect(res.text).toBe('')
  const location = res.headers.get('location') ?? ''
  expect(location).toMatch(new RegExp(`^${jobPath(team, job)}/executions/[^/]+$`))
  return decodeURIComponent(location.split('/').pop() as string)
}

export interface ExecutionJson {
  id: string
  status: string
  end_time?: string
  logs_url?: string
  message?: string
  started_by?: string
  type?: string
}

export async function readExecution(
  api: Api,
  team: string,
  job: string,
  id: string
): Promise<ExecutionJson> {
  return (await api.call('GET', `${jobPath(team, job)}/executions/${enc(id)}`))
    .json as ExecutionJson
}

export async function waitEnd(
  api: Api,
  team: string,
  job: string,
  id: string,
  timeoutMs = 10_000
): Promise<ExecutionJson> {
  return until(
    `execution ${id} to end`,
    async () => {
      const e = await readExecution(api, team, job, id)
      return e.status === 'submitted' || e.status === 'running' ? undefined : e
    },
    timeoutMs
  )
}

/** The files of a job's current sources as the service at `url` gives them back, by zip path. */
export async function sourcesOf(
  url: string,
  token: string,
  team: string,
  job: string
): Promise<Record<string, string>> {
  const res = await fetch(`${url}${jobPath(team, job)}/sources`, {
    headers: { Authorization: `Bearer ${token}` }
  })
  expect(res.status).toBe(200)
  const zip = await yauzl.fromBufferPromise(Buffer.from(await res.arrayBuffer()), {
    lazyEntries: true
  })
  const out: Record<string, string> = {}
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (e: yauzl.Entry) => {
      if (e.fileName.endsWith('/')) return zip.readEntry()
      void zip.openReadStreamPromise(e).then(async s => {
        const chunks: Buffer[] = []
        for await (const c of s) chunks.push(c as Buffer)
        out[e.fileName] = Buffer.concat(chunks).toString()
        zip.readEntry()
      }, reject)
    })
    zip.on('end', resolve)
    zip.on('error', reject)
    zip.readEntry()
  })
  return out
}

/** A job folder on disk: its config.ini ('' for none) and files {relative path: content}. */
export function writeJobFolder(
  root: string,
  name: string,
  files: Record<string, string>,
  config: string
): string {
  const dir = join(root, name)
  mkdirSync(dir, { recursive: true })
  if (config !== '') writeFileSync(join(dir, 'config.ini'), config)
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true })
    writeFileSync(join(dir, rel), content)
  }
  return dir
}
