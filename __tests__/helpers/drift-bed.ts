// The bed of drift's tests: the local Control Service with two teams, each with a repository folder
// of job folders deployed by deploy. In the "drift" team every kind of drift is then made through
// the service's API (the config changed, the deployment disabled, the properties written, a job
// created with no folder) or is in the repository (a job never created or never deployed, another
// python version); in the "clean" team nothing is changed.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { startEmulator, type Emulator } from '../../src/emulator/server.js'
import { runInProcess, serviceTime } from './inprocess.js'

export const DRIFT_TOKEN = 'drift-bed-token-6e1d'
export const DRIFT_TEAM = 'drift team'
export const CLEAN_TEAM = 'clean team'
/** The identity the emulator records for a token's deployments (router.ts). */
export const DEPLOYER = 'emulator-user'

const ini = (team: string, cron: string, extra = '') =>
  `[owner]\nteam = ${team}\n\n[job]\nschedule_cron = ${cron}\n${extra}\n[contacts]\nnotified_on_job_deploy = ops@example.com\n`

/** drift's inputs against the bed's service, over `extra`. */
export const driftInputs = (bed: DriftBed, extra: Record<string, string> = {}) => ({
  'control-service-url': bed.emu.url,
  'access-token': DRIFT_TOKEN,
  'jobs-root': 'jobs',
  'deployed-by': DEPLOYER,
  ...extra
})

export interface DriftBed {
  emu: Emulator
  /** The workspace whose jobs/ drifted, and the one that did not. */
  drifted: string
  clean: string
  close(): Promise<void>
}

function writeJobs(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), text)
  }
}

async function call(emu: Emulator, method: string, path: string, body?: unknown) {
  const res = await fetch(`${emu.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${DRIFT_TOKEN}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
  const text = await res.text()
  return text ? (JSON.parse(text) as Record<string, unknown>) : undefined
}

const jobPath = (team: string, job: string) =>
  `/data-jobs/for-team/${encodeURIComponent(team)}/jobs/${job}`

async function deploy(emu: Emulator, root: string, job: string): Promise<void> {
  const r = await runInProcess(
    'deploy',
    { 'control-service-url': emu.url, 'access-token': DRIFT_TOKEN, 'job-path': `jobs/${job}` },
    { workspace: root, time: serviceTime(emu) }
  )
  if (r.outputs['deployment-status'] !== 'live') throw new Error(`${job}: ${r.failure}`)
}

export async function startDriftBed(): Promise<DriftBed> {
  const emu = await startEmulator({ tokens: [DRIFT_TOKEN], frozenClock: true })
  const drifted = mkdtempSync(join(tmpdir(), 'drift-bed-'))
  const clean = mkdtempSync(join(tmpdir(), 'drift-bed-clean-'))
  const job = (name: string, team: string, cron = '0 6 * * *', extra = '') => ({
    [`jobs/${name}/config.ini`]: ini(team, cron, extra),
    [`jobs/${name}/10_load.py`]: 'print(1)\n'
  })
  writeJobs(clean, {
    ...job('clean-a-job', CLEAN_TEAM),
    ...job('clean-b-job', CLEAN_TEAM, '0 7 * * *', 'python_version = 3.11\n'),
    'jobs/clean-b-job/properties.json': '{"rows": 100}'
  })
  for (const name of ['clean-a-job', 'clean-b-job']) await deploy(emu, clean, name)
  await call(
    emu,
    'PUT',
    `${jobPath(CLEAN_TEAM, 'clean-b-job')}/deployments/production/properties`,
    {
      rows: 100
    }
  )

  const deployed = ['config-drift-job', 'disabled-drift-job', 'python-drift-job']
  deployed.push('property-drift-job', 'by-hand-drift-job', 'undeployed-drift-job')
  writeJobs(drifted, {
    ...Object.assign({}, ...deployed.map(n => job(n, DRIFT_TEAM))),
    ...job('missing-drift-job', DRIFT_TEAM),
    'jobs/property-drift-job/properties.yaml': 'rows: 100\nregion: eu\n'
  })
  for (const name of deployed) await deploy(emu, drifted, name)
  // through the service's API, behind the repository's back
  const config = await call(emu, 'GET', jobPath(DRIFT_TEAM, 'config-drift-job'))
  const changed = { ...(config?.config as object), schedule: { schedule_cron: '0 9 * * *' } }
  await call(emu, 'PUT', jobPath(DRIFT_TEAM, 'config-drift-job'), { ...config, config: changed })
  await call(emu, 'PATCH', `${jobPath(DRIFT_TEAM, 'disabled-drift-job')}/deployments/production`, {
    enabled: false
  })
  await call(
    emu,
    'PUT',
    `${jobPath(DRIFT_TEAM, 'property-drift-job')}/deployments/production/properties`,
    { rows: 'one hundred', region: 'eu' }
  )
  await call(emu, 'DELETE', `${jobPath(DRIFT_TEAM, 'undeployed-drift-job')}/deployments/production`)
  await call(emu, 'POST', `/data-jobs/for-team/${encodeURIComponent(DRIFT_TEAM)}/jobs`, {
    job_name: 'orphan-drift-job',
    team: DRIFT_TEAM,
    description: 'made by hand',
    config: { schedule: { schedule_cron: '0 1 * * *' } }
  })
  // the emulator records one identity per service (router.ts): another deployer is written into
  // its state, as a deployment made with another user's token would record it
  const live = emu.state.jobs['by-hand-drift-job'].live
  if (!live) throw new Error('by-hand-drift-job is not deployed')
  live.last_deployed_by = 'jane@example.com'
  // the repository moved on: another python version than the one deployed
  writeJobs(drifted, job('python-drift-job', DRIFT_TEAM, '0 6 * * *', 'python_version = 3.12\n'))
  emu.journal.splice(0)
  return {
    emu,
    drifted,
    clean,
    async close() {
      await emu.close()
      rmSync(drifted, { recursive: true, force: true })
      rmSync(clean, { recursive: true, force: true })
    }
  }
}
