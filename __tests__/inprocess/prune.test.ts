// prune in process (no build), changed-jobs' `deleted` output as its input, as in a workflow: the
// jobs changed-jobs lists are disabled, a job the service has in another team is refused (the
// step fails, the others are still done), a second run changes nothing more; one job-name/team
// pair is undeployed; a job that is not deployed is left as it is.
import { runInProcess } from '../helpers/inprocess.js'
import { jobPath, TEAM, usePruneBed, writes } from '../helpers/prune-bed.js'

const bed = usePruneBed('inprocess-prune-token-8e0d')

const prune = (inputs: Record<string, string>) =>
  runInProcess(
    'prune',
    {
      'control-service-url': bed.emu.url,
      'access-token': bed.token,
      'jobs-root': 'jobs',
      ...inputs
    },
    { workspace: bed.root }
  )

const resultsOf = (outputs: Record<string, string>): Record<string, string> =>
  Object.fromEntries(
    (JSON.parse(outputs.results) as Array<{ name: string; result: string }>).map(r => [
      r.name,
      r.result
    ])
  )

test("changed-jobs' deleted output, disabled; the job of another team absent in this one", async () => {
  const changed = await runInProcess(
    'changed-jobs',
    { base: bed.base, 'jobs-root': 'jobs' },
    { workspace: bed.root }
  )
  // the moved folder is not deleted: changed-jobs lists it as changed
  expect(JSON.parse(changed.outputs.deleted)).toHaveLength(5)
  bed.emu.journal.splice(0)
  const run = await prune({ deleted: changed.outputs.deleted, base: bed.base })
  expect(resultsOf(run.outputs)).toEqual({
    'alpha-job': 'disabled',
    'bravo-job': 'disabled',
    'charlie-job': 'disabled',
    'delta-job': 'not deployed',
    'wrong-job': 'absent'
  })
  expect(run.reason).toBeUndefined()
  expect(writes(bed.emu)).toEqual(
    ['alpha-job', 'bravo-job', 'charlie-job'].map(
      j => `PATCH ${jobPath(TEAM, j)}/deployments/production`
    )
  )
  expect(run.outputs).toMatchObject({ pruned: '3', refused: '0' })

  // again: nothing more to do, nothing sent that changes anything
  bed.emu.journal.splice(0)
  const again = await prune({ deleted: changed.outputs.deleted, base: bed.base })
  expect(resultsOf(again.outputs)['alpha-job']).toBe('already disabled')
  expect(writes(bed.emu)).toEqual([])
})

test('a job-name and team pair, undeployed', async () => {
  const run = await prune({ 'job-name': 'bravo-job', team: TEAM, mode: 'undeploy' })
  expect(run.reason).toBeUndefined()
  expect(resultsOf(run.outputs)).toEqual({ 'bravo-job': 'undeployed' })
  expect(writes(bed.emu)).toEqual([`DELETE ${jobPath(TEAM, 'bravo-job')}/deployments/production`])
  // the first test disabled it
  expect(run.log).toContainEqual(
    expect.stringMatching(/^bravo-job: undeployed \(version [0-9a-f]+, disabled\)$/)
  )
})

test('without a base commit, the team input is the team; without either, refused', async () => {
  const deleted = JSON.stringify([{ path: 'jobs/delta-job', name: 'delta-job' }])
  const none = await prune({ deleted })
  expect(none.reason).toBe('1 of 1 job(s) refused, nothing changed for them: delta-job')
  expect(none.log).toContain(
    'delta-job: refused, nothing changed: no team: its config.ini at the base commit cannot be read or names none, and the team input is not set'
  )
  expect(bed.emu.journal).toEqual([])
  const withTeam = await prune({ deleted, team: TEAM })
  expect(withTeam.reason).toBeUndefined()
  expect(resultsOf(withTeam.outputs)).toEqual({ 'delta-job': 'not deployed' })
})
