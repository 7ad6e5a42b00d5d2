// The shapes of the Control Service's answers (src/core/answers.ts): what the actions read is
// checked before it is used, a wrong field is named without its value, nulls read as absent, and a
// logs_url never carries its credentials into a log line, an output or a link.
import {
  executionAnswer,
  jobAnswer,
  latestExecutionsAnswer,
  shapeProblem
} from '../../src/core/answers.js'

const execution = (fields: Record<string, unknown>) => ({
  id: 'job-1700000000',
  status: 'running',
  ...fields
})

describe('answers of the Control Service', () => {
  test('nulls (unset fields, as its Jackson writes them) read as absent', () => {
    const read = executionAnswer.safeParse(
      execution({ message: null, logs_url: null, end_time: null, deployment: null })
    )
    expect(read.success && read.data).toEqual({ id: 'job-1700000000', status: 'running' })
    const job = jobAnswer.safeParse({ job_name: 'a-job-1', description: null, config: null })
    expect(job.success && job.data).toEqual({ job_name: 'a-job-1', description: '', config: {} })
  })

  test.each([
    [execution({ status: 'finished\n::warning::x' }), 'status: expected one of submitted, running'],
    [execution({ id: '../../x' }), 'id: expected an id of letters, digits, ., _ and -'],
    [execution({ id: 42 }), 'id: expected string'],
    [execution({ message: { nested: true } }), 'message: expected string']
  ])('an execution of another shape is named by its field, not its value: %j', (value, said) => {
    const read = executionAnswer.safeParse(value)
    expect(read.success).toBe(false)
    if (read.success) return
    const problem = shapeProblem(read.error.issues)
    expect(problem).toContain(said)
    expect(problem).not.toMatch(/::warning|\.\.\/|nested/)
  })

  test("a job's contacts are lists of addresses (deploy joins them)", () => {
    const read = jobAnswer.safeParse({
      job_name: 'a-job-1',
      config: { contacts: { notified_on_job_deploy: 'ops@example.com' } }
    })
    expect(read.success).toBe(false)
    if (!read.success)
      expect(shapeProblem(read.error.issues)).toBe(
        'config.contacts.notified_on_job_deploy: expected array'
      )
  })

  test('a logs_url is kept without its user name and password', () => {
    const read = executionAnswer.safeParse(
      execution({ logs_url: 'https://ci:hunter2@logs.example.com/x?user=a@b.example' })
    )
    expect(read.success && read.data.logs_url).toBe(
      'https://***@logs.example.com/x?user=a@b.example'
    )
    const latest = latestExecutionsAnswer.safeParse({
      content: [{ id: 'job-1', status: 'SUCCEEDED', logsUrl: 'http://u:p@h.example/l' }]
    })
    expect(latest.success && latest.data.content[0].logsUrl).toBe('http://***@h.example/l')
  })
})
