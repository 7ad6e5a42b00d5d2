// What the local Control Service's own tests share (__tests__/emulator/*.test.ts, one file per
// resource as src/emulator/api/): a service started in the test process with fast timings, the
// contract-checked Api over it, the admin API and GraphQL calls, a job ready to run, and the
// service's clock held still while a test looks at a phase.
import type { ServiceClock } from '../../src/emulator/clock.js'
import type { ExecutionRecord } from '../../src/emulator/model.js'
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/server.js'
import { Api } from './api.js'
import { Contract, specAvailable, SPEC_PATH } from './contract.js'
import { createJob, deployLive, enc, jobFiles, teamPath, upload, zipOf } from './fixtures.js'

if (!specAvailable()) console.warn(`SKIPPED: the official OpenAPI spec is not at ${SPEC_PATH}`)
/** The official API's tests check every call against the spec: without it they are skipped. */
export const describeIfSpec = specAvailable() ? describe : describe.skip

export const FAST: EmulatorOptions = {
  executionSeconds: 0.6,
  submitSeconds: 0.15,
  deploymentSeconds: 0.2
}
export const TEAM = 'data team'

let contract: Promise<Contract> | undefined
const running: Emulator[] = []

/** A service with FAST timings (and `options`), and the contract-checked Api over it. */
export async function service(options: EmulatorOptions = {}): Promise<{ emu: Emulator; api: Api }> {
  contract ??= Contract.load()
  const emu = await startEmulator({ ...FAST, ...options })
  running.push(emu)
  return { emu, api: new Api(emu.url, await contract) }
}

/** Stops every service `service()` started (for afterAll). */
export async function closeServices(): Promise<void> {
  await Promise.all(running.splice(0).map(e => e.close()))
}

/** A call of the admin API, /_emulator/<path>, with its JSON answer. */
export const admin = async (
  emu: Emulator,
  method: string,
  path: string,
  body?: unknown,
  token?: string
) => {
  const res = await fetch(`${emu.url}/_emulator/${path}`, {
    method,
    headers: {
      'Content-Type': 'application/json',
      ...(token ? { Authorization: `Bearer ${token}` } : {})
    },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const text = await res.text()
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined }
}

/** The jobsQuery GraphQL, as GET .../jobs?query=…&variables=…. */
export const gql = async (api: Api, query: string, variables?: object, team = TEAM) => {
  const vars = variables ? `&variables=${enc(JSON.stringify(variables))}` : ''
  return api.call('GET', `${teamPath(team)}/jobs?query=${enc(query)}${vars}`)
}

/** A job created, uploaded and live, ready to run. */
export async function liveJob(api: Api, job: string, team = TEAM): Promise<string> {
  await createJob(api, team, job)
  const version = await upload(api, team, job, await zipOf(jobFiles(job)))
  await deployLive(api, team, job, version)
  return version
}

/**
 * Runs `fn` with the service's clock frozen: what a read shows in between (submitted, some log
 * lines, a build not done yet) then holds until `fn` moves the clock on, however slow the
 * machine. The clock runs again afterwards, from where it stands.
 */
export async function frozenClock(
  emu: Emulator,
  fn: (clock: ServiceClock) => Promise<void>
): Promise<void> {
  emu.clock.freeze()
  try {
    await fn(emu.clock)
  } finally {
    emu.clock.resume()
  }
}

/** The service's record of an execution, to look at what no API shows. */
export function executionRecord(emu: Emulator, job: string, id: string): ExecutionRecord {
  const e = emu.state.jobs[job]?.executions.find(x => x.id === id)
  if (!e) throw new Error(`no execution ${id} of ${job}`)
  return e
}
