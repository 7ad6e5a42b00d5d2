// A job's config.ini from text to the config the service keeps, in process: parseIni as Python's
// configparser reads it, readJobConfig's fields and their lines (with the problems of values),
// jobConfigFromIni merging config.ini into the service's config (config.ini owns schedule,
// contacts and notifications; the rest is kept), iniOwnedView; and the base and head an event's
// payload names (eventRefs). Real files in a temporary folder.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { iniGet, parseIni } from '../../src/core/configini.js'
import { Problems, type InputSource } from '../../src/core/inputs.js'
import { eventRefs } from '../../src/core/event.js'
import {
  CONFIG_DEFAULTS,
  iniOwnedView,
  jobConfigFromIni,
  readJobConfig,
  type JobConfigIni
} from '../../src/core/jobdir.js'
import type { DataJobConfig } from '../../src/core/types.js'

let tmp: string
let jobDir: string
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'jobconfig-test-'))
  jobDir = join(tmp, 'my-job')
  mkdirSync(jobDir)
})
afterEach(() => rmSync(tmp, { recursive: true, force: true }))

const writeIni = (text: string): void => writeFileSync(join(jobDir, 'config.ini'), text)

describe('parseIni', () => {
  test('reads sections, keys in any case, both separators, comments and continuation lines', () => {
    const ini = parseIni(
      [
        '\uFEFF# a comment', // 1: a byte order mark is not part of the text
        '[owner]', // 2
        'Team = data-team', // 3
        '; another comment', // 4
        '[contacts]', // 5
        'notified_on_job_deploy: a@example.com,', // 6
        '    b@example.com', // 7: continues line 6
        '[job]', // 8
        'schedule_cron = 0 * * * *', // 9
        'empty =' // 10
      ].join('\r\n')
    )
    expect(ini.problems).toEqual([])
    expect(iniGet(ini, 'owner', 'TEAM')).toEqual({ value: 'data-team', line: 3 })
    expect(iniGet(ini, 'contacts', 'notified_on_job_deploy')).toEqual({
      value: 'a@example.com,\nb@example.com',
      line: 6
    })
    expect(iniGet(ini, 'job', 'schedule_cron')).toEqual({ value: '0 * * * *', line: 9 })
    expect(iniGet(ini, 'job', 'empty')).toEqual({ value: '', line: 10 })
    expect(iniGet(ini, 'job', 'absent')).toBeUndefined()
    expect(iniGet(ini, 'absent', 'team')).toBeUndefined()
    // section names keep their case, as configparser's do
    expect(iniGet(ini, 'OWNER', 'team')).toBeUndefined()
  })

  test('a blank line ends a value: an indented line after it is a line of its own', () => {
    const ini = parseIni('[owner]\nteam = a\n\n  other = b\n')
    expect(ini.problems).toEqual([])
    expect(iniGet(ini, 'owner', 'team')?.value).toBe('a')
    expect(iniGet(ini, 'owner', 'other')).toEqual({ value: 'b', line: 4 })
  })

  test('a value may hold = and : (only the first one separates)', () => {
    const ini = parseIni('[job]\nurl = http://x/?a=b\n')
    expect(iniGet(ini, 'job', 'url')?.value).toBe('http://x/?a=b')
  })
})

describe('readJobConfig', () => {
  test('reads the fields VDK reads, each with its line', () => {
    writeIni(
      [
        '[owner]', // 1
        'team = data-team', // 2
        '[job]', // 3
        'schedule_cron = 0 6 * * *', // 4
        'python_version = 3.11', // 5
        '[contacts]', // 6
        'notified_on_job_failure_user_error = a@example.com; b@example.com', // 7
        'notified_on_job_success = ', // 8
        'enable_execution_notifications = Off', // 9
        'notification_delay_period_minutes = 15' // 10
      ].join('\n')
    )
    const { config, problems } = readJobConfig(jobDir)
    expect(problems).toEqual([])
    expect(config).toEqual({
      file: join(jobDir, 'config.ini'),
      team: { value: 'data-team', line: 2 },
      scheduleCron: { value: '0 6 * * *', line: 4 },
      pythonVersion: { value: '3.11', line: 5 },
      contacts: {
        notified_on_job_failure_user_error: ['a@example.com', 'b@example.com'],
        notified_on_job_success: []
      },
      contactLines: { notified_on_job_failure_user_error: 7, notified_on_job_success: 8 },
      enableExecutionNotifications: false,
      notificationDelayPeriodMinutes: 15
    })
  })

  test('says which line holds a value VDK would refuse, and keeps the rest', () => {
    writeIni(
      [
        '[owner]',
        'team = t',
        '[contacts]',
        'enable_execution_notifications = sometimes', // 4
        'notification_delay_period_minutes = 0' // 5
      ].join('\n')
    )
    const file = join(jobDir, 'config.ini')
    const { config, problems } = readJobConfig(jobDir)
    expect(problems).toEqual([
      {
        file,
        line: 4,
        message: 'enable_execution_notifications must be true or false (or yes/no, on/off, 1/0)'
      },
      {
        file,
        line: 5,
        message: 'notification_delay_period_minutes must be a whole number of minutes above 0'
      }
    ])
    expect(config?.team?.value).toBe('t')
    expect(config?.enableExecutionNotifications).toBeUndefined()
    expect(config?.notificationDelayPeriodMinutes).toBeUndefined()
  })

  test("gives the parser's problems with the file, and a config all the same", () => {
    writeIni('team = t\n[owner]\n')
    const { config, problems } = readJobConfig(jobDir)
    expect(problems).toEqual([
      { file: join(jobDir, 'config.ini'), line: 1, message: expect.stringContaining('[section]') }
    ])
    expect(config?.team).toBeUndefined()
  })

  test('says that a job folder without a config.ini needs one', () => {
    expect(readJobConfig(jobDir)).toEqual({
      problems: [
        {
          file: join(jobDir, 'config.ini'),
          message: `a data job folder needs a config.ini; there is none in ${jobDir}`
        }
      ]
    })
  })

  test('gives the reason a config.ini is not read (here: a folder)', () => {
    mkdirSync(join(jobDir, 'config.ini'))
    expect(readJobConfig(jobDir)).toEqual({
      problems: [
        { file: join(jobDir, 'config.ini'), message: 'is a folder: config.ini must be a file' }
      ]
    })
  })
})

describe('jobConfigFromIni: config.ini merged into the config the service keeps', () => {
  const ini = (fields: Partial<JobConfigIni>): JobConfigIni => ({
    file: 'config.ini',
    contacts: {},
    contactLines: {},
    ...fields
  })
  const current: DataJobConfig = {
    db_default_type: 'impala',
    generate_keytab: true,
    schedule: { schedule_cron: '5 5 * * *' },
    contacts: {
      notified_on_job_failure_user_error: ['old@example.com'],
      notified_on_job_failure_platform_error: ['old@example.com'],
      notified_on_job_success: ['old@example.com'],
      notified_on_job_deploy: ['old@example.com']
    },
    enable_execution_notifications: false,
    notification_delay_period_minutes: 5,
    some_future_field: { kept: true }
  }

  test('config.ini sets schedule, contacts and notifications; the rest of the config is kept', () => {
    const merged = jobConfigFromIni(
      current,
      ini({
        scheduleCron: { value: '0 6 * * *', line: 3 },
        contacts: { notified_on_job_deploy: ['new@example.com'] },
        enableExecutionNotifications: true,
        notificationDelayPeriodMinutes: 30
      })
    )
    expect(merged).toEqual({
      db_default_type: 'impala',
      generate_keytab: true,
      some_future_field: { kept: true },
      schedule: { schedule_cron: '0 6 * * *' },
      contacts: {
        notified_on_job_failure_user_error: [],
        notified_on_job_failure_platform_error: [],
        notified_on_job_success: [],
        notified_on_job_deploy: ['new@example.com']
      },
      enable_execution_notifications: true,
      notification_delay_period_minutes: 30
    })
    // the service's config is not changed in place
    expect(current.schedule).toEqual({ schedule_cron: '5 5 * * *' })
  })

  test("what config.ini does not say is cleared or set to the CLI's defaults", () => {
    const merged = jobConfigFromIni(current, ini({}))
    expect(merged.schedule).toEqual({ schedule_cron: '' })
    expect(Object.values(merged.contacts ?? {})).toEqual([[], [], [], []])
    expect(merged.enable_execution_notifications).toBe(
      CONFIG_DEFAULTS.enable_execution_notifications
    )
    expect(merged.notification_delay_period_minutes).toBe(
      CONFIG_DEFAULTS.notification_delay_period_minutes
    )
  })

  test('a new job gets the config config.ini says, from nothing', () => {
    const merged = jobConfigFromIni({}, ini({ scheduleCron: { value: '@daily', line: 2 } }))
    expect(merged).toEqual({
      schedule: { schedule_cron: '@daily' },
      contacts: {
        notified_on_job_failure_user_error: [],
        notified_on_job_failure_platform_error: [],
        notified_on_job_success: [],
        notified_on_job_deploy: []
      },
      enable_execution_notifications: true,
      notification_delay_period_minutes: 240
    })
  })

  test("iniOwnedView: the same for a config and its merge with an empty config.ini's defaults", () => {
    const merged = jobConfigFromIni(current, ini({}))
    // an absent value reads as the service's default: nothing to update
    expect(iniOwnedView(merged)).toBe(iniOwnedView({ schedule: { schedule_cron: '' } }))
    expect(iniOwnedView(merged)).not.toBe(iniOwnedView(current))
    // fields config.ini does not own are not in the view
    expect(iniOwnedView({ ...merged, db_default_type: 'other' })).toBe(iniOwnedView(merged))
  })
})

describe('eventRefs', () => {
  const event = (name: string, payload: unknown): InputSource => {
    const path = join(tmp, 'event.json')
    writeFileSync(path, JSON.stringify(payload))
    return {
      input: () => '',
      env: { GITHUB_EVENT_NAME: name, GITHUB_EVENT_PATH: path },
      mask: () => undefined
    }
  }
  const A = 'a'.repeat(40)
  const B = 'b'.repeat(40)
  const ZERO = '0'.repeat(40)

  test('a push compares before with after; a new branch its first parent', () => {
    const problems = new Problems()
    expect(eventRefs(event('push', { before: A, after: B }), problems)).toEqual({
      base: A,
      head: B,
      mergeBase: false,
      newBranch: false
    })
    expect(eventRefs(event('push', { before: ZERO, after: B }), problems)).toEqual({
      head: B,
      mergeBase: false,
      newBranch: true
    })
    expect(problems.list).toEqual([])
  })

  test('a pull request compares the merge base of its base and head with its head', () => {
    const problems = new Problems()
    const payload = { pull_request: { base: { sha: A }, head: { sha: B } } }
    for (const name of ['pull_request', 'pull_request_target'])
      expect(eventRefs(event(name, payload), problems)).toEqual({
        base: A,
        head: B,
        mergeBase: true,
        newBranch: false
      })
    expect(problems.list).toEqual([])
  })

  test.each([
    ['workflow_dispatch', {}, /^the 'workflow_dispatch' event has no base and head to compare;/],
    ['push', { before: A }, /^the push event payload has no before\/after commits;/],
    ['push', { before: A, after: ZERO }, /^the push deleted its branch/],
    ['pull_request', { pull_request: {} }, /^the pull_request event payload has no pull_request/]
  ])('%s %j: no refs, and one problem saying why', (name, payload, message) => {
    const problems = new Problems()
    expect(eventRefs(event(name, payload), problems)).toBeUndefined()
    expect(problems.list).toEqual([expect.stringMatching(message)])
  })

  test('a payload that cannot be read is a problem naming the file', () => {
    const problems = new Problems()
    const inputs: InputSource = {
      input: () => '',
      env: { GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: join(tmp, 'none.json') },
      mask: () => undefined
    }
    expect(eventRefs(inputs, problems)).toBeUndefined()
    expect(problems.list).toEqual([
      expect.stringMatching(/^the event payload at GITHUB_EVENT_PATH \('.*none\.json'\) cannot/)
    ])
  })
})
