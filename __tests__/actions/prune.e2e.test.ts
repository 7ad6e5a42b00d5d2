// prune end to end: the committed bundle under Node 24 against the local Control Service, on a git
// repository whose job folders were deleted after they were deployed (helpers/prune-bed.ts). Each
// mode sends exactly its one change (the journal: PATCH of the deployment, DELETE of the
// deployment, DELETE of the job) and the service shows it done; a moved folder and a team that
// differs from the old config.ini are refused with nothing sent; a job that the service has in
// another team is absent in this one (a warning), with nothing but the read that found it.
import { runAction } from '../helpers/runner.js'
import { gone, jobPath, OTHER_TEAM, TEAM, usePruneBed, writes } from '../helpers/prune-bed.js'

const bed = usePruneBed('e2e-prune-access-token-61c2')

const prune = (inputs: Record<string, string>) =>
  runAction(
    'prune',
    {
      'control-service-url': bed.emu.url,
      'access-token': bed.token,
      'jobs-root': 'jobs',
      base: bed.base,
      ...inputs
    },
    { workspace: bed.root, timeoutMs: 30_000 }
  )

const api = async (path: string): Promise<{ status: number; body: unknown }> => {
  const res = await fetch(`${bed.emu.url}${path}`, {
    headers: { Authorization: `Bearer ${bed.token}` }
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : undefined }
}

const results = (outputs: Record<string, string>) =>
  JSON.parse(outputs.results) as Array<{ name: string; result: string; reason?: string }>

test('disable: one PATCH of the deployment, enabled: false', async () => {
  const run = await prune({ deleted: JSON.stringify([gone('jobs/alpha-job')]) })
  expect(run.code).toBe(0)
  expect(writes(bed.emu)).toEqual([`PATCH ${jobPath(TEAM, 'alpha-job')}/deployments/production`])
  expect(results(run.outputs)).toEqual([
    expect.objectContaining({ name: 'alpha-job', team: TEAM, result: 'disabled' })
  ])
  expect(run.outputs).toMatchObject({ pruned: '1', refused: '0' })
  const live = await api(`${jobPath(TEAM, 'alpha-job')}/deployments`)
  expect(live.body).toEqual([expect.objectContaining({ enabled: false })])
  expect(run.summary).toContain('alpha-job')
})

test('undeploy: one DELETE of the deployment; the job stays', async () => {
  const run = await prune({ deleted: JSON.stringify([gone('jobs/bravo-job')]), mode: 'undeploy' })
  expect(run.code).toBe(0)
  expect(writes(bed.emu)).toEqual([`DELETE ${jobPath(TEAM, 'bravo-job')}/deployments/production`])
  expect(results(run.outputs)[0].result).toBe('undeployed')
  expect((await api(`${jobPath(TEAM, 'bravo-job')}/deployments`)).body).toEqual([])
  expect((await api(jobPath(TEAM, 'bravo-job'))).status).toBe(200)
})

test('delete: one DELETE of the job, with the job confirmed by name', async () => {
  const run = await prune({
    deleted: JSON.stringify([gone('jobs/charlie-job')]),
    mode: 'delete',
    'confirm-delete': 'charlie-job'
  })
  expect(run.code).toBe(0)
  expect(writes(bed.emu)).toEqual([`DELETE ${jobPath(TEAM, 'charlie-job')}`])
  expect(results(run.outputs)[0].result).toBe('deleted')
  expect((await api(jobPath(TEAM, 'charlie-job'))).status).toBe(404)
})

test('a folder moved under the same name is refused with nothing sent', async () => {
  const run = await prune({ deleted: JSON.stringify([gone('jobs/old/moved-job')]) })
  expect(run.code).toBe(1)
  expect(bed.emu.journal).toEqual([])
  const [result] = results(run.outputs)
  expect(result).toMatchObject({ name: 'moved-job', result: 'refused' })
  expect(result.reason).toContain('jobs/new/moved-job')
  expect(run.annotations.filter(a => a.level === 'warning').map(a => a.message)).toEqual([
    expect.stringMatching(/^moved-job: refused, nothing changed: a job folder named moved-job/)
  ])
  expect(run.outputs.refused).toBe('1')
})

test('a team input other than the old config.ini names is refused with nothing sent', async () => {
  const run = await prune({
    deleted: JSON.stringify([gone('jobs/alpha-job')]),
    team: OTHER_TEAM,
    mode: 'undeploy'
  })
  expect(run.code).toBe(1)
  expect(bed.emu.journal).toEqual([])
  expect(results(run.outputs)[0].reason).toBe(
    `its config.ini at the base commit names team '${TEAM}', the team input '${OTHER_TEAM}'`
  )
})

test('a job the service has in another team is absent in this one: one read, a warning, nothing changed', async () => {
  const run = await prune({ deleted: JSON.stringify([gone('jobs/wrong-job')]), mode: 'undeploy' })
  expect(run.code).toBe(0)
  expect(run.stdout.split('\n').filter(l => l.startsWith('::warning'))).toEqual([
    expect.stringMatching(
      /^::warning::wrong-job: absent, nothing changed: the Control Service has no job wrong-job in team /
    )
  ])
  expect(bed.emu.journal.map(e => `${e.method} ${e.path} ${e.status}`)).toEqual([
    `GET ${jobPath(TEAM, 'wrong-job')} 404`
  ])
  expect(results(run.outputs)[0]).toMatchObject({ team: TEAM, result: 'absent' })
  // still deployed, in its own team
  const live = await api(`${jobPath(OTHER_TEAM, 'wrong-job')}/deployments`)
  expect(live.body).toEqual([expect.objectContaining({ enabled: true })])
})
