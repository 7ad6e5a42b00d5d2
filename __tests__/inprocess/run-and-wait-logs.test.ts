// What following an execution's log costs the Control Service, read from the local service's
// journal (each answer's response_bytes): a 5 MB log streamed by run-and-wait costs at most 1.5
// times its size in logs answers, every line shown once and in order; `logs: none` reads no
// logs; on-failure reads only its last lines; a Retry-After holds the next look back. In process,
// on the service's frozen clock (helpers/inprocess.ts serviceTime): no real wait.
import { startEmulator, type Emulator } from '../../src/emulator/server.js'
import { runInProcess, serviceTime, type ActionTime } from '../helpers/inprocess.js'
import { LocalService } from '../helpers/local-service.js'

const TOKEN = 'inprocess-logs-token-5e1a'
const TEAM = 'logs team'
let emu: Emulator
let svc: LocalService

const run = (inputs: Record<string, string>, time: ActionTime = serviceTime(emu)) =>
  runInProcess(
    'run-and-wait',
    { 'control-service-url': emu.url, 'access-token': TOKEN, team: TEAM, ...inputs },
    { time }
  )

beforeAll(async () => {
  emu = await startEmulator({
    tokens: [TOKEN],
    frozenClock: true,
    submitSeconds: 1,
    executionSeconds: 12,
    deploymentSeconds: 1,
    // as upstream: a manual execution's pod, and its log, stay an hour after it ended
    logsRetentionSeconds: 3600
  })
  svc = new LocalService(emu, TEAM, TOKEN)
})
afterAll(() => emu.close())

/** 20,000 lines of about 250 bytes (5 MB), with stretches of identical lines every 1,000. */
function bigLog(): string[] {
  const lines: string[] = []
  for (let i = 0; lines.length < 20_000; i++) {
    if (i % 1000 === 999) lines.push(...Array<string>(40).fill('retrying the connection'))
    else lines.push(`row batch ${i}: ${'loaded '.repeat(35)}`)
  }
  return lines.slice(0, 20_000)
}

/** The journal's GETs of the logs of `job`'s executions. */
const logReads = (job: string) =>
  emu.journal.filter(
    e => e.method === 'GET' && e.path.includes(`/jobs/${job}/`) && e.path.endsWith('/logs')
  )

/** The printed log lines without kubelet timestamps (the local service adds them, as upstream). */
const printed = (lines: Array<{ group?: string; text: string }>): string[] =>
  lines.filter(l => l.group).map(l => l.text.replace(/^\S+Z /, ''))

test('a 5 MB log streamed costs at most 1.5 times its size in logs answers, each line once', async () => {
  const job = 'big-log-job'
  await svc.deploy(job)
  const logs = bigLog()
  await svc.script(job, { status: 'succeeded', seconds: 600, logs })
  const r = await run({ 'job-name': job })
  expect(r.failure).toBeUndefined()
  expect(printed(r.lines)).toEqual(logs)
  const sent = logReads(job).reduce((sum, e) => sum + (e.response_bytes ?? 0), 0)
  // the log as the service has it at the end, read whole once (what its size is, as sent)
  const id = r.outputs['execution-id']
  const whole = await svc.call('GET', `${svc.execPath(job, id)}/logs`)
  expect(whole.status).toBe(200)
  const text = await whole.text()
  const entry = emu.journal.at(-1)
  // the journal fills response_bytes when the service's answer finishes, maybe after the client read it
  for (let i = 0; i < 1000 && entry?.response_bytes == null; i++)
    await new Promise(resolve => setImmediate(resolve))
  const size = entry?.response_bytes ?? 0
  expect(size).toBe(Buffer.byteLength(text))
  expect(size).toBeGreaterThan(5_000_000)
  expect(sent / size).toBeLessThanOrEqual(1.5)
  // and the step says what it cost, in its debug log
  expect(r.lines).toContainEqual(
    expect.objectContaining({
      level: 'debug',
      text: expect.stringMatching(/^Control Service: \d+ requests, \d+ bytes of answers read$/)
    })
  )
})

test('logs: none reads no logs at all', async () => {
  const job = 'no-logs-job'
  await svc.deploy(job)
  await svc.script(job, { status: 'user_error', seconds: 30, logs: ['a', 'b', 'c'] })
  const r = await run({ 'job-name': job, logs: 'none' })
  expect(r.outputs.status).toBe('user_error')
  expect(logReads(job)).toEqual([])
  expect(r.lines.filter(l => l.group)).toEqual([])
})

test('logs: on-failure reads only its last lines each time, and prints them on failure', async () => {
  const job = 'tail-logs-job'
  await svc.deploy(job)
  const logs = bigLog().slice(0, 5000)
  await svc.script(job, { status: 'user_error', seconds: 60, logs })
  const r = await run({ 'job-name': job, logs: 'on-failure' })
  expect(r.outputs.status).toBe('user_error')
  const reads = logReads(job)
  expect(reads.length).toBeGreaterThan(2)
  expect(reads.every(e => e.query.tail_lines === '20')).toBe(true)
  expect(printed(r.lines)).toEqual(logs.slice(-20))
})

test('a Retry-After on the logs holds the next look back, and the logs are said unavailable once', async () => {
  const job = 'retry-after-job'
  await svc.deploy(job)
  await svc.script(job, { status: 'succeeded', seconds: 120, logs: ['a', 'b', 'c', 'd'] })
  await svc.fault({ method: 'GET', path: '/logs$', status: 503, retryAfter: 40, times: 2 })
  const time = serviceTime(emu)
  const sleeps: number[] = []
  const r = await run(
    { 'job-name': job },
    { ...time, sleep: (ms, signal) => (sleeps.push(ms), time.sleep(ms, signal)) }
  )
  expect(r.failure).toBeUndefined()
  // the looks sleep 5 s, but the one after a 503 with Retry-After: 40 waits 40 s
  expect(sleeps.filter(ms => ms >= 40_000)).toHaveLength(2)
  expect(r.log.filter(l => l.startsWith('(logs unavailable for now'))).toHaveLength(1)
  expect(printed(r.lines)).toEqual(['a', 'b', 'c', 'd'])
})

/** A log built to break a follower: identical stretches at every seam, a burst of 3,000 lines in one write, CRLF, a lone CR, a 40 KiB line (three 16 KiB records), an empty line. */
function hostileLog(): string[] {
  const same = Array<string>(70).fill('same line')
  const burst = Array.from({ length: 3000 }, (_, i) => `burst ${i % 3}`).join('\n')
  return [
    'start',
    ...same,
    burst,
    'crlf\r\nnext',
    'progress 50%\rprogress 100%',
    'L'.repeat(40_000),
    '',
    ...same,
    'end'
  ]
}

describe.each([true, false])(
  'hostile logs through the service (kubelet timestamps: %s)',
  timestamps => {
    test('every line of the log once, in order', async () => {
      const job = `hostile-${timestamps}-job`
      await svc.deploy(job)
      await svc.script(job, { status: 'succeeded', seconds: 90, logs: hostileLog(), timestamps })
      const r = await run({ 'job-name': job, 'poll-interval-seconds': '3' })
      expect(r.failure).toBeUndefined()
      const whole = await svc.call('GET', `${svc.execPath(job, r.outputs['execution-id'])}/logs`)
      const { logs } = (await whole.json()) as { logs: string }
      expect(r.lines.filter(l => l.group).map(l => l.text)).toEqual(logs.split('\n'))
      expect(r.log.join('\n')).not.toContain('starts again')
    })

    test('a container that restarts: the lines before, a line saying so, then the new log whole', async () => {
      const job = `restart-${timestamps}-job`
      await svc.deploy(job)
      const logs = hostileLog()
      await svc.script(job, {
        status: 'succeeded',
        seconds: 90,
        logs,
        timestamps,
        restartAtLines: [2000]
      })
      const r = await run({ 'job-name': job, 'poll-interval-seconds': '3' })
      const whole = await svc.call('GET', `${svc.execPath(job, r.outputs['execution-id'])}/logs`)
      const after = ((await whole.json()) as { logs: string }).logs.split('\n')
      const printed = r.lines.filter(l => l.group).map(l => l.text)
      expect(printed.slice(-after.length)).toEqual(after)
      // what came before the restart: the first container's lines, from its start, in order
      const before = printed.slice(0, -after.length).map(l => l.replace(/^\S+Z /, ''))
      expect(before.length).toBeGreaterThan(0)
      expect(before).toEqual(
        [
          'start',
          ...Array<string>(70).fill('same line'),
          ...Array.from({ length: 3000 }, (_, i) => `burst ${i % 3}`)
        ].slice(0, before.length)
      )
      expect(r.log.filter(l => l.includes('starts again'))).toHaveLength(1)
    })
  }
)
