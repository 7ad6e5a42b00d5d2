// Bench of run-and-wait's end detection: the committed bundle (dist/run-and-wait/index.js, run by
// Node 24 as the runner runs it) follows executions of a scripted length on the local Control
// Service with poll-interval-seconds P. From the service's journal (GET /_emulator/journal: every
// request with its arrival time) and the execution's end_time — both from the service's clock —
// come: the detection delay (the first status request at or after end_time, minus end_time), the
// number of status requests (GET .../executions/<id>) against the execution's length over P, the
// rate of status requests per interval P, and the shortest gap between two of them. Baseline in the
// same run: a reference poller of this bench (a GET of the status every P on a fixed schedule, no
// logs) follows an execution of the same length the same way; an ideal poller notices the end
// within P and makes one status request per interval. Targets: the end detected within P + 1 s;
// at most one status request per interval.
//
//   npm run bench -- wait [--quick] [--poll-interval-seconds=<s>] [--durations=<s,s,...>]
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  BenchError,
  bundleIdentity,
  GNU_TIME,
  load,
  machine,
  nodeForActions,
  nodeVersion,
  onCleanup,
  parseArgs,
  parseGithubOutput,
  progress,
  requireTools,
  root,
  run,
  runnerEnv,
  startEmulator,
  table,
  timed,
  writeResults
} from './lib.mjs'

const TEAM = 'bench-team'
const JOB = 'bench-wait-job'
const ACTION = join(root, 'dist/run-and-wait/index.js')
const ACTION_YML = join(root, 'actions/run-and-wait/action.yml')
/** 5.6 s (6.1 s with the 0.5 s submitted) ends just after a look at ~6.0 s: the worst phase. */
const DURATIONS = [3, 5.6, 8, 15]
const QUICK_DURATIONS = [3, 8]
const POLL_SECONDS = 2
/** Targets: the end noticed within P + this; no two status requests closer than P - this. */
const DETECT_SLACK_S = 1
const GAP_TOLERANCE_MS = 20
const TERMINAL = new Set(['succeeded', 'user_error', 'platform_error', 'cancelled', 'skipped'])
const jobPath = `/data-jobs/for-team/${encodeURIComponent(TEAM)}/jobs/${JOB}`

const NUM = /^\d+(\.\d+)?$/

function usage() {
  console.log(`usage: node bench/wait.mjs [--quick] [--poll-interval-seconds=<s>] [--durations=<s,s,...>]

  --quick                      executions of ${QUICK_DURATIONS.join(' and ')} s (default ${DURATIONS.join(', ')} s)
  --poll-interval-seconds=<s>  the action's poll-interval-seconds, and the reference's (default ${POLL_SECONDS})
  --durations=<s,s,...>        how long the executions run, in seconds
  env BENCH_NODE=<path>        the Node that runs the action and the service (default: npx node@24)`)
}

async function call(url, method, path, body, headers = {}) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
  })
  const text = await res.text()
  if (res.status >= 300)
    throw new BenchError(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 500)}`)
  return { res, json: text ? JSON.parse(text) : undefined }
}

/** Creates the job, uploads a one-step folder (zipped with zip -qr), deploys it, waits live. */
async function deployJob(url, tmp) {
  await call(url, 'POST', `/data-jobs/for-team/${encodeURIComponent(TEAM)}/jobs`, {
    job_name: JOB,
    description: 'wait bench',
    config: {}
  })
  const src = join(tmp, 'src')
  mkdirSync(join(src, JOB), { recursive: true })
  writeFileSync(join(src, JOB, 'config.ini'), `[owner]\nteam = ${TEAM}\n`)
  writeFileSync(join(src, JOB, '10_step.sql'), 'select 1;\n')
  const zip = spawnSync('zip', ['-qr', join(tmp, 'job.zip'), JOB], { cwd: src, encoding: 'utf8' })
  if (zip.status !== 0) throw new BenchError(`zip failed: ${zip.stderr}`)
  const res = await fetch(`${url}${jobPath}/sources`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: readFileSync(join(tmp, 'job.zip'))
  })
  const uploaded = await res.json()
  if (res.status >= 300 || !uploaded.version_sha)
    throw new BenchError(
      `uploading the sources failed: HTTP ${res.status} ${JSON.stringify(uploaded)}`
    )
  await call(url, 'POST', `${jobPath}/deployments`, { job_version: uploaded.version_sha })
  const until = Date.now() + 30_000
  while (Date.now() < until) {
    const { json } = await call(url, 'GET', `${jobPath}/deployments`)
    if (json.length && json[0].job_version === uploaded.version_sha) return uploaded.version_sha
    await new Promise(r => setTimeout(r, 100))
  }
  throw new BenchError('the deployment did not go live within 30 s')
}

/** The reference poller: starts an execution, GETs its status every P (fixed schedule). */
async function referencePoller(url, pollMs, timeoutMs) {
  const { res } = await call(url, 'POST', `${jobPath}/deployments/production/executions`, {
    started_by: 'manual/bench-reference',
    args: {}
  })
  const id = decodeURIComponent(res.headers.get('location').split('/').pop())
  const t0 = performance.now()
  for (let k = 0; ; k++) {
    const wait = t0 + k * pollMs - performance.now()
    if (wait > 0) await new Promise(r => setTimeout(r, wait))
    const { json } = await call(url, 'GET', `${jobPath}/executions/${encodeURIComponent(id)}`)
    if (TERMINAL.has(json.status)) return id
    if (performance.now() - t0 > timeoutMs)
      throw new BenchError(`the reference poller: execution ${id} did not end in time`)
  }
}

/** The figures of one followed execution, from the journal and the execution. */
function figures({ journal, execution, pollMs, exitAt }) {
  const statusPath = `${jobPath}/executions/${encodeURIComponent(execution.id)}`
  const status = journal.filter(e => e.method === 'GET' && e.path === statusPath)
  const logs = journal.filter(e => e.path === `${statusPath}/logs`)
  const start = Date.parse(execution.start_time)
  const end = Date.parse(execution.end_time)
  const times = status.map(e => Date.parse(e.at))
  const detectAt = times.find(t => t >= end)
  const gaps = times.slice(1).map((t, i) => t - times[i])
  const detectIndex = times.indexOf(detectAt)
  const span = detectAt - times[0]
  return {
    id: execution.id,
    status: execution.status,
    lengthS: (end - start) / 1000,
    intervals: (end - start) / pollMs,
    statusRequests: status.length,
    logRequests: logs.length,
    allRequests: journal.length,
    detectDelayS: detectAt === undefined ? NaN : (detectAt - end) / 1000,
    // after the detecting look: status requests that were not needed
    afterDetect: detectIndex < 0 ? 0 : status.length - detectIndex - 1,
    perInterval: span > 0 ? (detectIndex / span) * pollMs : NaN,
    minGapMs: gaps.length ? Math.min(...gaps) : NaN,
    meanGapMs: gaps.length ? gaps.reduce((a, b) => a + b, 0) / gaps.length : NaN,
    exitDelayS: exitAt === undefined ? undefined : (exitAt - end) / 1000,
    requestTimes: status.map(e => e.at)
  }
}

async function main() {
  const opts = {
    poll: POLL_SECONDS,
    ...parseArgs(process.argv.slice(2), usage, {
      options: {
        '--poll-interval-seconds': [
          'poll',
          v => (NUM.test(v) && Number(v) > 0 ? Number(v) : undefined)
        ],
        '--durations': [
          'durations',
          v => (v.split(',').every(d => NUM.test(d)) ? v.split(',').map(Number) : undefined)
        ]
      }
    })
  }
  if (opts.help) return usage()
  const durations = opts.durations ?? (opts.quick ? QUICK_DURATIONS : DURATIONS)
  const pollMs = opts.poll * 1000
  requireTools([
    { name: 'zip', hint: 'the job is uploaded zipped with it: apt-get install zip' },
    GNU_TIME
  ])
  const node = nodeForActions()
  const nodeV = nodeVersion(node)
  const m = machine()
  console.log(`machine:   ${m.cpu}, ${m.cores} cores, ${m.memory} RAM, ${m.os}`)
  const bundle = bundleIdentity(ACTION)
  console.log(`action:    ${ACTION} on Node ${nodeV} (${node})`)
  console.log(
    `bundle:    git blob ${bundle.blob.slice(0, 12)}${bundle.changed ? ' (differs from HEAD: uncommitted changes)' : ' (as committed)'}`
  )
  console.log(
    `executions: ${durations.join(', ')} s running (after 0.5 s submitted), poll-interval-seconds ${opts.poll}${opts.quick ? ' (--quick)' : ''}`
  )

  const tmp = mkdtempSync(join(tmpdir(), 'vdk-bench-wait-'))
  onCleanup(() => rmSync(tmp, { recursive: true, force: true }))
  const workspace = join(tmp, 'workspace')
  mkdirSync(workspace, { recursive: true })
  const service = await startEmulator({
    node,
    dataDir: join(tmp, 'service'),
    args: ['--submit-seconds', '0.5', '--deployment-seconds', '0.2']
  })
  const url = service.url
  progress(`local Control Service at ${url}`)
  const version = await deployJob(url, tmp)
  progress(`job ${JOB} deployed (version ${version.slice(0, 12)})`)
  const script = seconds =>
    call(url, 'POST', `/_emulator/jobs/${encodeURIComponent(TEAM)}/${JOB}/next-execution`, {
      seconds
    })
  const journal = async () => (await call(url, 'GET', '/_emulator/journal')).json
  const execution = async id =>
    (await call(url, 'GET', `${jobPath}/executions/${encodeURIComponent(id)}`)).json

  const results = []
  for (const seconds of durations) {
    // (a) the action, as the runner runs it
    await script(seconds)
    await call(url, 'DELETE', '/_emulator/journal')
    const dir = join(tmp, `run-${seconds}`)
    const { env, files } = runnerEnv({
      actionYml: ACTION_YML,
      inputs: {
        'control-service-url': url,
        team: TEAM,
        'job-name': JOB,
        'poll-interval-seconds': String(opts.poll),
        'timeout-seconds': String(seconds + 120)
      },
      dir,
      workspace
    })
    progress(`${seconds} s: the action follows the execution ... (load average ${load()})`)
    const action = await timed(node, [ACTION], {
      cwd: workspace,
      env,
      label: 'run-and-wait',
      timeFile: join(tmp, 'time')
    })
    // the bench's and the service's Date.now() read the same system clock
    const exitAt = Date.now()
    const outputs = parseGithubOutput(readFileSync(files.GITHUB_OUTPUT, 'utf8'))
    if (action.code !== 0 || !outputs['execution-id'])
      throw new BenchError(
        `run-and-wait failed (exit ${action.signal ?? action.code}):\n${action.stdout}${action.stderr}`
      )
    const a = figures({
      journal: await journal(),
      execution: await execution(outputs['execution-id']),
      pollMs,
      exitAt
    })
    a.wallS = action.wall
    a.rssMiB = action.rssMiB
    progress(
      `${seconds} s: action noticed the end after ${a.detectDelayS.toFixed(2)} s (exit ${a.exitDelayS.toFixed(2)} s after it), ${a.statusRequests} status + ${a.logRequests} log requests`
    )

    // (b) the reference poller, on an execution of the same length
    await script(seconds)
    await call(url, 'DELETE', '/_emulator/journal')
    progress(`${seconds} s: the reference poller follows the execution ...`)
    const id = await referencePoller(url, pollMs, (seconds + 60) * 1000)
    const b = figures({ journal: await journal(), execution: await execution(id), pollMs })
    progress(`${seconds} s: reference noticed the end after ${b.detectDelayS.toFixed(2)} s`)
    results.push({ seconds, action: a, reference: b })
  }

  // the table and the targets
  const f = (v, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '-')
  console.log('')
  console.log(
    `machine: ${m.cpu}, ${m.cores} cores; Node ${nodeV}; poll interval P = ${opts.poll} s; times from the service's journal`
  )
  const rows = []
  for (const r of results)
    for (const [who, x] of [
      ['run-and-wait', r.action],
      ['reference', r.reference]
    ])
      rows.push([
        `${r.seconds} s`,
        who,
        f(x.lengthS),
        f(x.intervals, 1),
        x.statusRequests,
        x.logRequests,
        f(x.detectDelayS),
        f(x.detectDelayS / opts.poll),
        f(x.perInterval),
        f(x.minGapMs / 1000, 3),
        f(x.meanGapMs / 1000, 3),
        x.exitDelayS === undefined ? '-' : f(x.exitDelayS)
      ])
  console.log(
    table(
      [
        'execution',
        'poller',
        'length s',
        'length/P',
        'status reqs',
        'log reqs',
        'detect delay s',
        'delay/P',
        'status reqs per P',
        'min gap s',
        'mean gap s',
        'exit after end s'
      ],
      rows,
      [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    )
  )
  const limit = opts.poll + DETECT_SLACK_S
  const detected = results.every(r => r.action.detectDelayS <= limit)
  const paced = results.every(
    r => !(r.action.minGapMs < pollMs - GAP_TOLERANCE_MS) && !(r.action.perInterval > 1)
  )
  const worst = Math.max(...results.map(r => r.action.detectDelayS))
  console.log('')
  console.log(
    `target: end detected within P + ${DETECT_SLACK_S} s (${f(limit, 1)} s): ${detected ? 'yes' : 'NO'} (run-and-wait: ${results.map(r => `${r.seconds} s ${f(r.action.detectDelayS)} s`).join(', ')}; worst ${f(worst / opts.poll)} P; reference: ${results.map(r => `${f(r.reference.detectDelayS)} s`).join(', ')})`
  )
  console.log(
    `target: at most one status request per interval P (no two closer than P - ${GAP_TOLERANCE_MS} ms, at most 1 per P on average): ${paced ? 'yes' : 'NO'} (run-and-wait: ${results.map(r => `${r.seconds} s ${f(r.action.perInterval)} per P, min gap ${f(r.action.minGapMs / 1000, 3)} s`).join('; ')})`
  )
  console.log(`targets ${detected && paced ? 'HOLD' : 'DO NOT HOLD'}`)
  const file = writeResults('wait', {
    date: new Date().toISOString(),
    machine: m,
    node: nodeV,
    bundle,
    pollSeconds: opts.poll,
    durations,
    quick: opts.quick,
    results,
    targets: { detected, paced }
  })
  progress(`results written to ${file}`)
  return 0
}

await run(main)
