// The Control Service's rules for job names, teams and schedules (src/core/jobrules.ts), in
// process: which names and cron expressions pass, and what each refusal says.
import {
  cronProblem,
  folderNameProblem,
  iniTeamProblem,
  JOB_NAME_WORDS,
  jobNameProblem,
  teamProblem
} from '../../src/core/jobrules.js'

describe('job names', () => {
  test.each(['abcdef', 'my-job-1', `a${'b'.repeat(49)}`])('%j is a job name', name => {
    expect(jobNameProblem(name)).toBeUndefined()
    expect(folderNameProblem(name, 'inputs')).toBeUndefined()
    expect(folderNameProblem(name, 'job')).toBeUndefined()
  })

  test.each(['abcde', `a${'b'.repeat(50)}`, '1abcdef', 'My_Job', 'my job x', '-abcdef', ''])(
    '%j is not a job name',
    name => {
      expect(jobNameProblem(name)).toBe(`'${name}' is not a valid job name: ${JOB_NAME_WORDS}`)
    }
  )

  test('the folder name is refused with what to do, in both wordings', () => {
    expect(folderNameProblem('My_Job', 'inputs')).toBe(
      `the job folder's name (job-name defaults to it) 'My_Job' is not a valid job name: ${JOB_NAME_WORDS}; rename the folder or set job-name`
    )
    expect(folderNameProblem('My_Job', 'job')).toBe(
      `the job folder's name 'My_Job' is not a valid job name (job-name defaults to it): ${JOB_NAME_WORDS}; rename the folder or set job-name`
    )
  })
})

describe('teams', () => {
  test.each(['team-a', 'Team A', 'analytics'])('%j is a team', team => {
    expect(teamProblem(team)).toBeUndefined()
  })

  test.each([
    ['', 'is empty'],
    ['  ', 'is empty'],
    ['..', "'..' is not a team name"],
    [' . ', "' . ' is not a team name"],
    ['a\nb', '"a\\nb" holds a line break or another control character']
  ])('%j: %s', (team, problem) => {
    expect(teamProblem(team)).toBe(problem)
  })

  test("config.ini's team is named as [owner] team, and one that spans lines is not shown", () => {
    expect(iniTeamProblem({ value: '..', line: 3 })).toBe("[owner] team '..' is not a team name")
    expect(iniTeamProblem({ value: 'a\n  b', line: 3 })).toMatch(
      /^\[owner\] team must be one line: /
    )
    expect(iniTeamProblem({ value: 'team-a', line: 3 })).toBeUndefined()
  })
})

describe('cronProblem', () => {
  test.each([
    '0 6 * * *',
    '*/15 * * * *',
    '0 0 1,15 * *',
    '0 9-17 * * mon-fri',
    '30 2 * jan,JUL sun',
    '0 0 * * 7',
    '  5  4  *  *  *  '
  ])('%j is a cron expression', expr => {
    expect(cronProblem(expr)).toBeUndefined()
  })

  test.each([
    [
      '',
      "expected 5 fields (minute hour day-of-month month day-of-week), e.g. '0 6 * * *', found 0"
    ],
    [
      '0 6 * *',
      "expected 5 fields (minute hour day-of-month month day-of-week), e.g. '0 6 * * *', found 4"
    ],
    [
      '0 6 * * * *',
      "expected 5 fields (minute hour day-of-month month day-of-week), e.g. '0 6 * * *', found 6"
    ],
    ['60 * * * *', 'minute 60 is out of range: 0 to 59'],
    ['* 24 * * *', 'hour 24 is out of range: 0 to 23'],
    ['* * 0 * *', 'day of month 0 is out of range: 1 to 31'],
    ['* * * 13 *', 'month 13 is out of range: 1 to 12'],
    ['* * * * 8', 'day of week 8 is out of range: 0 to 7'],
    ['* 10-2 * * *', 'hour range 10-2 goes backwards'],
    [
      '*/0 * * * *',
      "minute '*/0' is not valid: expected *, a number from 0 to 59, a range a-b, a list a,b or a step */n"
    ],
    [
      '* * * foo *',
      "month 'foo' is not valid: expected *, a number from 1 to 12 or a name, a range a-b, a list a,b or a step */n"
    ],
    [
      '* * 1-2-3 * *',
      "day of month '1-2-3' is not valid: expected *, a number from 1 to 31, a range a-b, a list a,b or a step */n"
    ],
    [
      '@daily',
      "expected 5 fields (minute hour day-of-month month day-of-week), e.g. '0 6 * * *', found 1"
    ]
  ])('%j: %s', (expr, problem) => {
    expect(cronProblem(expr)).toBe(problem)
  })
})
