// The bed of prune's tests (in process and end to end): a git repository whose job folders were
// deployed to the local Control Service and then deleted — three in the team, one moved to another
// folder under the same name, and one whose config.ini at the base names the team although the
// job lives in another team on the service — with the base commit to read the old config.ini at.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator, type Emulator } from '../../src/emulator/server.js'
import { commitFiles, git } from './gitrepo.js'
import { runInProcess, serviceTime } from './inprocess.js'

export const TEAM = 'prune team'
export const OTHER_TEAM = 'other team'
export const ini = (team: string) => `[owner]\nteam = ${team}\n\n[job]\nschedule_cron = 0 6 * * *\n`
const LOAD = 'def run(job_input):\n    pass\n'

export interface PruneBed {
  emu: Emulator
  token: string
  root: string
  /** The commit before the folders were deleted (their config.ini is read there). */
  base: string
}

/** One `deleted` entry, as changed-jobs writes it. */
export const gone = (path: string): { path: string; name: string } => ({
  path,
  name: path.split('/').at(-1) ?? ''
})

/** The path of a job of `team` on the service. */
export const jobPath = (team: string, job: string): string =>
  `/data-jobs/for-team/${encodeURIComponent(team)}/jobs/${job}`

/** Sets the bed up before the file's tests and removes it after them. */
export function usePruneBed(token: string): PruneBed {
  const bed = { token } as PruneBed
  beforeAll(async () => {
    bed.emu = await startEmulator({ tokens: [token], frozenClock: true, deploymentSeconds: 30 })
    bed.root = mkdtempSync(join(tmpdir(), 'prune-'))
    git(bed.root, 'init', '-q', '-b', 'main')
    const jobs = ['alpha-job', 'bravo-job', 'charlie-job', 'delta-job', 'old/moved-job']
    commitFiles(
      bed.root,
      Object.fromEntries([
        ...jobs.flatMap(j => [
          [`jobs/${j}/config.ini`, ini(TEAM)],
          [`jobs/${j}/10_load.py`, LOAD]
        ]),
        ['jobs/wrong-job/config.ini', ini(OTHER_TEAM)],
        ['jobs/wrong-job/10_load.py', LOAD]
      ]),
      'the jobs'
    )
    for (const j of [...jobs.filter(j => j !== 'delta-job'), 'wrong-job']) {
      const run = await runInProcess(
        'deploy',
        { 'control-service-url': bed.emu.url, 'access-token': token, 'job-path': `jobs/${j}` },
        { workspace: bed.root, time: serviceTime(bed.emu) }
      )
      expect(run.outputs['deployment-status']).toBe('live')
    }
    // delta-job exists but is not deployed
    const delta = await runInProcess(
      'upload-sources',
      { 'control-service-url': bed.emu.url, 'access-token': token, 'job-path': 'jobs/delta-job' },
      { workspace: bed.root }
    )
    expect(delta.failure).toBeUndefined()
    // wrong-job's config.ini now names the team, but the service has it in the other team
    bed.base = commitFiles(bed.root, { 'jobs/wrong-job/config.ini': ini(TEAM) }, 'relabel')
    commitFiles(
      bed.root,
      {
        'jobs/alpha-job': null,
        'jobs/bravo-job': null,
        'jobs/charlie-job': null,
        'jobs/delta-job': null,
        'jobs/wrong-job': null,
        'jobs/old': null,
        'jobs/new/moved-job/config.ini': ini(TEAM),
        'jobs/new/moved-job/10_load.py': LOAD
      },
      'retire jobs, move one'
    )
  })
  afterAll(async () => {
    await bed.emu.close()
    rmSync(bed.root, { recursive: true, force: true })
  })
  beforeEach(() => {
    bed.emu.journal.splice(0)
  })
  return bed
}

/** The requests the service saw that change something: "METHOD path". */
export const writes = (emu: Emulator): string[] =>
  emu.journal.filter(e => e.method !== 'GET').map(e => `${e.method} ${e.path}`)
