// What a client sees is derived from timestamps and the clock: execution phases, growing logs,
// deployments going live. Checked here with explicit times, no sleeping.
import {
  executionEnd,
  executionStatus,
  settleDeployment,
  visibleLogLines,
  defaultLogs,
  type ExecutionRecord,
  type JobState
} from '../../src/emulator/model.js'

const execution = (over: Partial<ExecutionRecord> = {}): ExecutionRecord => ({
  id: 'e1',
  job_name: 'example-job',
  team: 't',
  type: 'manual',
  started_by: 'manual/test/u',
  args: {},
  op_id: 'op',
  created_at: 1000,
  running_at: 2000,
  end_at: 6000,
  final: 'succeeded',
  logs: ['one', 'two', 'three', 'four'],
  deployment: {
    job_version: 'v',
    python_version: '3.9',
    enabled: true,
    mode: 'release',
    last_deployed_by: 'u',
    last_deployed_date: new Date(0).toISOString()
  },
  ...over
})

describe('execution timeline', () => {
  test('submitted, then running, then its final status', () => {
    const e = execution()
    expect([999, 1000, 1999, 2000, 5999, 6000, 99999].map(t => executionStatus(e, t))).toEqual([
      'submitted',
      'submitted',
      'submitted',
      'running',
      'running',
      'succeeded',
      'succeeded'
    ])
    expect(executionEnd(e, 5999)).toBeUndefined()
    expect(executionEnd(e, 6000)).toBe(6000)
  })

  test('a cancelled execution stays cancelled, ends when cancelled, and its logs stop growing', () => {
    const e = execution({ cancelled_at: 3000 })
    expect(executionStatus(e, 2500)).toBe('cancelled')
    expect(executionStatus(e, 10_000)).toBe('cancelled')
    expect(executionEnd(e, 3000)).toBe(3000)
    expect(visibleLogLines(e, 10_000)).toEqual(['one', 'two'])
  })

  test('a platform error can turn into another status later, as the real watcher may overwrite it', () => {
    const e = execution({ final: 'platform_error', becomes: { status: 'succeeded', at: 7000 } })
    expect(executionStatus(e, 6500)).toBe('platform_error')
    expect(executionStatus(e, 7000)).toBe('succeeded')
  })

  test('log lines appear one by one while it runs, in order, and all are there at the end', () => {
    const e = execution()
    const seen = [1500, 2000, 2999, 3000, 4000, 5000, 5999, 6000].map(
      t => visibleLogLines(e, t).length
    )
    expect(seen).toEqual([0, 1, 1, 2, 3, 4, 4, 4])
    expect(visibleLogLines(e, 4500)).toEqual(['one', 'two', 'three'])
  })
})

describe('deployment settling', () => {
  const job = (): JobState => ({
    job: { job_name: 'example-job', team: 't', description: '', config: {} },
    versions: [],
    executions: [],
    deployment_status: 'NONE',
    pending: {
      started_at: 0,
      ready_at: 1000,
      outcome: 'SUCCESS',
      notify: true,
      target: {
        job_version: 'v2',
        python_version: '3.9',
        enabled: true,
        mode: 'release',
        last_deployed_by: 'u',
        last_deployed_date: ''
      }
    }
  })

  test('nothing changes before the deployment is ready; then the version is live and the status SUCCESS', () => {
    const js = job()
    expect(settleDeployment(js, 999)).toBeUndefined()
    expect(js.live).toBeUndefined()
    expect(settleDeployment(js, 1000)).toMatchObject({ outcome: 'SUCCESS', ready_at: 1000 })
    expect(js.live?.job_version).toBe('v2')
    expect(js.live?.last_deployed_date).toBe(new Date(1000).toISOString())
    expect(js.deployment_status).toBe('SUCCESS')
    expect(settleDeployment(js, 2000)).toBeUndefined()
  })

  test('a failed deployment keeps the previous live version and records its status', () => {
    const js = job()
    js.pending!.outcome = 'USER_ERROR'
    js.live = { ...js.pending!.target, job_version: 'v1' }
    settleDeployment(js, 5000)
    expect(js.live.job_version).toBe('v1')
    expect(js.deployment_status).toBe('USER_ERROR')
  })
})

test('default logs name the steps of the deployed version and end with the outcome', () => {
  const ok = defaultLogs('example-job', 'e1', 'succeeded', ['10_a.sql', '20_b.py'])
  expect(ok).toEqual(
    expect.arrayContaining(['Executing step 10_a.sql.', 'Step 20_b.py completed.'])
  )
  expect(ok.at(-1)).toMatch(/finished successfully/)
  const failed = defaultLogs('example-job', 'e1', 'user_error', ['10_a.sql', '20_b.py'])
  expect(failed).not.toContain('Step 20_b.py completed.')
  expect(failed.at(-1)).toMatch(/20_b\.py raised an exception \(user error\)/)
})
