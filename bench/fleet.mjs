// Bench of run-and-wait at fleet scale: N committed run-and-wait bundles (run by Node 24 as the
// runner runs them) follow N executions at once, against ONE local Control Service. Each
// execution is scripted through the admin API to write a log of LOG_LINES lines (~5 MB, with
// stretches of identical lines) over its running time. Everything is measured from the service's
// side, its journal (GET /_emulator/journal, with each answer's response_bytes), cleared before
// each run: requests per job per minute of execution (status and logs apart), log bytes sent ÷
// log bytes written, the peak request rate in any second ÷ the mean rate; beside them the
// action's peak RSS (max over the N processes, GNU time), the run's wall time, the service's CPU
// time, and failures. Side by side in the same run: "today" is the bundle of commit 8885398
// (dist/run-and-wait/ as it was then, with that commit's action.yml), "new" the working tree's.
// Goals: log bytes sent ÷ written ≤ 1.5, peak ÷ mean rate ≤ 3.
//
//   npm run bench -- fleet [--quick] [--sizes=<n,n,...>] [--seconds=<s>] [--cpu-prof]
//
// Service settings, and why: logs stay readable 3600 s after the end (upstream's Job TTL for
// manual runs, see /work/notes/issue19-facts.md §1 and difference 6) and executions get no
// logs_url (upstream without a log store), so every log byte an action reads comes from the
// service's logs endpoint and is counted; state in memory (no --data-dir): writing the state file
// after each change would measure the emulator's disk, not the clients.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  BenchError,
  cpuSeconds,
  formatBytes,
  GNU_TIME,
  load,
  machine,
  memAvailable,
  MiB,
  GiB,
  nodeForActions,
  nodeVersion,
  onCleanup,
  outDir,
  parseArgs,
  parseGithubOutput,
  peakRssMiB,
  progress,
  requireTools,
  root,
  run,
  runnerEnv,
  staleBundle,
  startEmulator,
  table,
  timed,
  wholeNumber,
  writeResults
} from './lib.mjs'

const TEAM = 'fleet-team'
const TODAY_COMMIT = '8885398'
const SIZES = [50, 200]
const QUICK_SIZES = [20]
/**
 * Running time of each execution. 90 s (60 s with --quick) gives each action ~18 looks at the
 * default poll interval of 5 s, enough to see its pacing; a full run is 4 runs (50 and 200 jobs,
 * today and new) of ~90 s + 1 s submitted + setup and the last looks (~30–60 s on 2 cores),
 * about 10 minutes, within the ~15 the bench may take on 2 shared cores.
 */
const SECONDS = 90
const QUICK_SECONDS = 60
const SUBMIT_SECONDS = 1
const LOG_LINES = 20_000
/** Every REPEAT_EVERY lines a stretch of REPEAT_RUN identical lines (a retry loop's warnings). */
const REPEAT_EVERY = 1000
const REPEAT_RUN = 40
/** The journal keeps this many entries (src/emulator/journal.ts); a run must stay under it. */
const JOURNAL_MAX = 50_000
/** Peak RSS of one action per bundle before one was measured here (the runs of 2026-12-04), to check memory before a size. */
const ASSUMED_RSS_MIB = { today: 130, new: 100 }
const GOALS = { bytesRatio: 1.5, peakRatio: 3 }
const EXECUTION_PATH = /^\/data-jobs\/for-team\/[^/]+\/jobs\/([^/]+)\/executions\/[^/]+$/
const LOGS_PATH = /^\/data-jobs\/for-team\/[^/]+\/jobs\/([^/]+)\/executions\/[^/]+\/logs$/

function usage() {
  console.log(`usage: node bench/fleet.mjs [--quick] [--sizes=<n,n,...>] [--seconds=<s>] [--cpu-prof] [--keep-journal=<dir>] [--only=today|new]

  --quick          ${QUICK_SIZES.join(', ')} jobs, executions of ${QUICK_SECONDS} s (default ${SIZES.join(' and ')} jobs, ${SECONDS} s)
  --sizes=<n,...>  how many actions run at once, per run
  --seconds=<s>    how long each execution runs
  --cpu-prof       profile the local Control Service (node --cpu-prof into bench/out/fleet-prof/)
  --keep-journal=<dir>  write each run's journal there (<bundle>-<n>.json), to see what came when
  --only=today|new one of the two bundles
  env BENCH_NODE=<path>  the Node that runs the actions and the service (default: npx node@24)`)
}

async function call(url, method, path, body) {
  const res = await fetch(`${url}${path}`, {
    method,
    // admin POSTs need the JSON type, also without a body (src/emulator/admin.ts)
    headers: method === 'GET' ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
  })
  const text = await res.text()
  if (res.status >= 300)
    throw new BenchError(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 500)}`)
  return text ? JSON.parse(text) : undefined
}

const jobName = i => `fleet-job-${String(i + 1).padStart(3, '0')}`
const jobPath = job => `/data-jobs/for-team/${TEAM}/jobs/${job}`

/**
 * The log job `i` writes: LOG_LINES lines of 150–350 bytes (~5 MB), VDK-like, with a stretch of
 * REPEAT_RUN identical lines every REPEAT_EVERY lines. The same for the same job on every run.
 */
function jobLog(i) {
  const job = jobName(i)
  const lines = []
  let seed = i * 7919 + 1
  const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0), seed >>> 8)
  for (let n = 0; n < LOG_LINES; n++) {
    if (n % REPEAT_EVERY >= REPEAT_EVERY - REPEAT_RUN) {
      lines.push(
        `WARN  ${job} warehouse connection busy, waiting before the next attempt (the query stays queued)`
      )
      continue
    }
    const step = 10 + (n % 7) * 10
    const head = `INFO  ${job} step_${step}.py:${(n * 37) % 400} batch ${n + 1}/${LOG_LINES}: rows=${next() % 100000} `
    lines.push(head + 'x'.repeat(150 + (next() % 200) - Math.min(head.length, 150)))
  }
  return lines
}

/** Creates the N jobs, uploads one small job folder to each, deploys it, waits until all live. */
async function deployJobs(url, n, zip) {
  const names = Array.from({ length: n }, (_, i) => jobName(i))
  const one = async job => {
    await call(url, 'POST', `/data-jobs/for-team/${TEAM}/jobs`, {
      job_name: job,
      description: 'fleet bench',
      config: {}
    })
    const res = await fetch(`${url}${jobPath(job)}/sources`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: zip
    })
    const uploaded = await res.json()
    if (res.status >= 300 || !uploaded.version_sha)
      throw new BenchError(
        `uploading ${job} failed: HTTP ${res.status} ${JSON.stringify(uploaded)}`
      )
    await call(url, 'POST', `${jobPath(job)}/deployments`, { job_version: uploaded.version_sha })
  }
  await inBatches(names, 10, one)
  const until = Date.now() + 60_000
  for (const job of names) {
    while (!(await call(url, 'GET', `${jobPath(job)}/deployments`)).length) {
      if (Date.now() > until) throw new BenchError(`${job}'s deployment did not go live in 60 s`)
      await new Promise(r => setTimeout(r, 100))
    }
  }
}

/** Runs `fn` over `items`, `width` at a time. */
async function inBatches(items, width, fn) {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(fn))
}

/** The job folder every job deploys (one step), zipped once with zip -qr. */
function jobZip(tmp) {
  const src = join(tmp, 'src', 'fleet-job')
  mkdirSync(src, { recursive: true })
  writeFileSync(join(src, 'config.ini'), `[owner]\nteam = ${TEAM}\n`)
  writeFileSync(join(src, '10_step.sql'), 'select 1;\n')
  execFileSync('zip', ['-qr', join(tmp, 'job.zip'), 'fleet-job'], { cwd: join(tmp, 'src') })
  return readFileSync(join(tmp, 'job.zip'))
}

/** Today's bundle: dist/run-and-wait/ and its action.yml as they were at TODAY_COMMIT. */
function todaysBundle(tmp) {
  const dir = join(tmp, 'today')
  const git = args => execFileSync('git', args, { cwd: root, maxBuffer: 64 * MiB })
  let files
  try {
    files = git(['ls-tree', '--name-only', TODAY_COMMIT, 'dist/run-and-wait/'])
      .toString()
      .trim()
      .split('\n')
  } catch (e) {
    throw new BenchError(`cannot read dist/run-and-wait/ of commit ${TODAY_COMMIT}: ${e.message}`)
  }
  mkdirSync(join(dir, 'dist/run-and-wait'), { recursive: true })
  mkdirSync(join(dir, 'actions/run-and-wait'), { recursive: true })
  for (const f of [...files, 'actions/run-and-wait/action.yml'])
    writeFileSync(join(dir, f), git(['show', `${TODAY_COMMIT}:${f}`]))
  if (!existsSync(join(dir, 'dist/run-and-wait/index.js')))
    throw new BenchError(`commit ${TODAY_COMMIT} has no dist/run-and-wait/index.js`)
  return {
    name: 'today',
    main: join(dir, 'dist/run-and-wait/index.js'),
    actionYml: join(dir, 'actions/run-and-wait/action.yml')
  }
}

/** Runs N actions at once, each following its job's execution; their exits and the journal. */
async function fleetRun({ url, service, node, variant, n, seconds, tmp, workspace, journalDir }) {
  await call(url, 'POST', '/_emulator/reset')
  await deployJobs(url, n, jobZip(join(tmp, `zip-${variant.name}-${n}`)))
  let written = 0
  for (let i = 0; i < n; i++) {
    const lines = jobLog(i)
    written += Buffer.byteLength(lines.join('\n'))
    await call(url, 'POST', `/_emulator/jobs/${TEAM}/${jobName(i)}/next-execution`, {
      seconds,
      submitSeconds: SUBMIT_SECONDS,
      logs: lines
    })
  }
  await call(url, 'DELETE', '/_emulator/journal')
  const cpu0 = cpuSeconds(service.child.pid)
  progress(`${variant.name}, ${n} jobs: ${n} actions start at once (load average ${load()})`)
  const t0 = performance.now()
  const runs = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const dir = join(tmp, `run-${variant.name}-${n}`, String(i))
      const { env, files } = runnerEnv({
        actionYml: variant.actionYml,
        inputs: {
          'control-service-url': url,
          team: TEAM,
          'job-name': jobName(i),
          'timeout-seconds': String(seconds + 900)
        },
        dir,
        workspace
      })
      const r = await timed(node, [variant.main], {
        cwd: workspace,
        env,
        timeFile: join(dir, 'time'),
        outFile: join(dir, 'out'),
        tickSeconds: 0
      })
      const outputs = parseGithubOutput(readFileSync(files.GITHUB_OUTPUT, 'utf8'))
      const ok = r.code === 0 && outputs.status === 'succeeded'
      const tail = ok ? '' : readFileSync(join(dir, 'out'), 'utf8').slice(-600)
      return { job: jobName(i), ok, code: r.signal ?? r.code, rssMiB: r.rssMiB, wall: r.wall, tail }
    })
  )
  const wall = (performance.now() - t0) / 1000
  const serviceCpu = cpuSeconds(service.child.pid) - cpu0
  const journal = await call(url, 'GET', '/_emulator/journal')
  if (journal.length >= JOURNAL_MAX)
    throw new BenchError(
      `the journal reached its ${JOURNAL_MAX} entries: requests were dropped; use fewer jobs or shorter executions`
    )
  if (journal.length && journal[0].response_bytes === undefined)
    throw new BenchError('the local Control Service records no response_bytes: run npm run build')
  const executions = {}
  // the logs as the service serves them whole at the end (each line with its kubelet time, as
  // JSON): what one read of each costs, after the journal was taken
  let served = 0
  for (let i = 0; i < n; i++) {
    const list = await call(url, 'GET', `${jobPath(jobName(i))}/executions`)
    executions[jobName(i)] = list.at(-1)
    const id = list.at(-1)?.id
    if (id)
      served += Buffer.byteLength(
        JSON.stringify(await call(url, 'GET', `${jobPath(jobName(i))}/executions/${id}/logs`))
      )
  }
  if (journalDir) {
    mkdirSync(journalDir, { recursive: true })
    writeFileSync(join(journalDir, `${variant.name}-${n}.json`), JSON.stringify(journal))
  }
  return figures({ journal, runs, executions, written, served, wall, serviceCpu, n, variant })
}

/** The figures of one run, from the journal (and the actions' exits). */
function figures({ journal, runs, executions, written, served, wall, serviceCpu, n, variant }) {
  const perJob = {}
  let logBytes = 0
  const seconds = new Map()
  for (const e of journal) {
    const s = Math.floor(Date.parse(e.at) / 1000)
    seconds.set(s, (seconds.get(s) ?? 0) + 1)
    const logs = e.method === 'GET' && LOGS_PATH.exec(e.path)
    const status = e.method === 'GET' && EXECUTION_PATH.exec(e.path)
    const job = (logs || status)?.[1]
    if (!job) continue
    const j = (perJob[job] ??= { status: 0, logs: 0 })
    if (logs) {
      j.logs++
      logBytes += e.response_bytes ?? 0
    } else j.status++
  }
  // per minute of each job's execution (start to end, by the service)
  let statusRate = 0
  let logsRate = 0
  for (const [job, x] of Object.entries(executions)) {
    const minutes = (Date.parse(x?.end_time) - Date.parse(x?.start_time)) / 60000
    if (!(minutes > 0)) continue
    statusRate += (perJob[job]?.status ?? 0) / minutes / n
    logsRate += (perJob[job]?.logs ?? 0) / minutes / n
  }
  const keys = [...seconds.keys()]
  const first = Math.min(...keys)
  const span = keys.length ? Math.max(...keys) - first + 1 : NaN
  const mean = journal.length / span
  const peak = Math.max(0, ...seconds.values())
  // when the busiest second was, and what it held
  const peakSecond = keys.find(k => seconds.get(k) === peak)
  const peakKinds = {}
  for (const e of journal) {
    if (Math.floor(Date.parse(e.at) / 1000) !== peakSecond) continue
    const kind = `${e.method} ${LOGS_PATH.test(e.path) ? 'logs' : EXECUTION_PATH.test(e.path) ? 'execution' : e.path.split('/').slice(-1)[0]}`
    peakKinds[kind] = (peakKinds[kind] ?? 0) + 1
  }
  const failed = runs.filter(r => !r.ok)
  return {
    variant: variant.name,
    n,
    requests: journal.length,
    statusPerJobMin: statusRate,
    logsPerJobMin: logsRate,
    logBytesSent: logBytes,
    logBytesWritten: written,
    bytesRatio: logBytes / written,
    logBytesServed: served,
    servedRatio: logBytes / served,
    peakPerS: peak,
    meanPerS: mean,
    peakRatio: peak / mean,
    peakAtS: peakSecond - first,
    peakKinds,
    maxRssMiB: Math.max(...runs.map(r => r.rssMiB).filter(Number.isFinite)),
    wallS: wall,
    serviceCpuS: serviceCpu,
    failures: failed.length,
    failed: failed.map(({ job, code, tail }) => ({ job, code, tail }))
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2), usage, {
    flags: { '--cpu-prof': 'cpuProf' },
    options: {
      '--sizes': [
        'sizes',
        v => (v.split(',').every(x => wholeNumber(x)) ? v.split(',').map(Number) : undefined)
      ],
      '--seconds': ['seconds', wholeNumber],
      '--keep-journal': ['journalDir', v => v || undefined],
      '--only': ['only', v => (v === 'today' || v === 'new' ? v : undefined)]
    }
  })
  if (opts.help) return usage()
  const sizes = opts.sizes ?? (opts.quick ? QUICK_SIZES : SIZES)
  const seconds = opts.seconds ?? (opts.quick ? QUICK_SECONDS : SECONDS)
  requireTools([
    { name: 'zip', hint: 'the job is uploaded zipped with it: apt-get install zip' },
    { name: 'git', hint: `today's bundle is read from commit ${TODAY_COMMIT}` },
    GNU_TIME
  ])
  for (const dir of ['dist/run-and-wait', 'dist/emulator']) {
    const why = staleBundle(join(root, dir))
    if (why) throw new BenchError(why)
  }
  const node = nodeForActions()
  const nodeV = nodeVersion(node)
  const m = machine()
  console.log(`machine:    ${m.cpu}, ${m.cores} cores, ${m.memory} RAM, ${m.os}`)
  console.log(`node:       ${nodeV} (${node}); load average ${load()}`)
  console.log(
    `executions: ${seconds} s running (after ${SUBMIT_SECONDS} s submitted), ${LOG_LINES} log lines each; sizes ${sizes.join(', ')}${opts.quick ? ' (--quick)' : ''}`
  )

  const tmp = mkdtempSync(join(tmpdir(), 'vdk-bench-fleet-'))
  onCleanup(() => rmSync(tmp, { recursive: true, force: true }))
  const workspace = join(tmp, 'workspace')
  mkdirSync(workspace, { recursive: true })
  const variants = [
    ...(opts.only === 'new' ? [] : [todaysBundle(tmp)]),
    ...(opts.only === 'today'
      ? []
      : [
          {
            name: 'new',
            main: join(root, 'dist/run-and-wait/index.js'),
            actionYml: join(root, 'actions/run-and-wait/action.yml')
          }
        ])
  ]
  const profDir = join(outDir, 'fleet-prof')
  if (opts.cpuProf) mkdirSync(profDir, { recursive: true })
  const service = await startEmulator({
    node,
    nodeArgs: opts.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [],
    args: [
      '--submit-seconds',
      String(SUBMIT_SECONDS),
      '--deployment-seconds',
      '0',
      '--logs-retention',
      '3600',
      '--logs-url-template',
      ''
    ]
  })
  progress(`local Control Service at ${service.url} (pid ${service.child.pid})`)

  const results = []
  // per bundle: today's reads whole logs and needs more memory than the new one
  const rssSeen = {}
  for (const n of sizes) {
    for (const variant of variants) {
      const rss = rssSeen[variant.name] ?? ASSUMED_RSS_MIB[variant.name]
      const need = n * rss * MiB + 2 * GiB
      const free = memAvailable()
      if (free < need) {
        progress(
          `${variant.name}, ${n} jobs: SKIPPED: needs about ${formatBytes(need)} (${n} × ${rss.toFixed(0)} MiB + 2 GiB), ${formatBytes(free)} available`
        )
        results.push({
          variant: variant.name,
          n,
          skipped: `memory: ${formatBytes(free)} available, ${formatBytes(need)} needed`
        })
        continue
      }
      const r = await fleetRun({
        url: service.url,
        service,
        node,
        variant,
        n,
        seconds,
        tmp,
        workspace,
        journalDir: opts.journalDir
      })
      if (Number.isFinite(r.maxRssMiB))
        rssSeen[variant.name] = Math.max(rssSeen[variant.name] ?? 0, r.maxRssMiB)
      progress(
        `${variant.name}, ${n} jobs: ${r.requests} requests in ${r.wallS.toFixed(0)} s, ${formatBytes(r.logBytesSent)} of logs sent for ${formatBytes(r.logBytesWritten)} written, ${r.failures} failed; service CPU ${r.serviceCpuS.toFixed(1)} s; busiest second ${r.peakAtS} s after the first request: ${JSON.stringify(r.peakKinds)}`
      )
      for (const f of r.failed.slice(0, 3))
        progress(`  ${f.job} failed (exit ${f.code}): ...${f.tail}`)
      results.push(r)
    }
  }
  const serviceRssMiB = peakRssMiB(service.child.pid)
  await service.stop()

  const f = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '-')
  console.log('')
  console.log(
    `machine: ${m.cpu}, ${m.cores} cores, ${m.memory}; Node ${nodeV}; executions of ${seconds} s, ${LOG_LINES} lines (~${formatBytes(results.find(r => r.logBytesWritten)?.logBytesWritten / (results.find(r => r.logBytesWritten)?.n ?? 1) || 0)}) each; load average ${load()}`
  )
  const rows = results.map(r =>
    r.skipped
      ? [r.n, r.variant, `skipped (${r.skipped})`, '', '', '', '', '', '', '', '', '']
      : [
          r.n,
          r.variant,
          f(r.statusPerJobMin),
          f(r.logsPerJobMin),
          f(r.bytesRatio, 2),
          f(r.servedRatio, 2),
          `${r.peakPerS}/${f(r.meanPerS)}`,
          f(r.peakRatio, 2),
          f(r.maxRssMiB, 0),
          f(r.wallS, 0),
          f(r.serviceCpuS, 1),
          `${r.failures}/${r.n}`
        ]
  )
  console.log(
    table(
      [
        'N',
        'bundle',
        'status req/job/min',
        'logs req/job/min',
        'log bytes sent/written',
        'sent/served whole',
        'peak/mean req/s',
        'peak÷mean',
        'action peak RSS MiB',
        'wall s',
        'service CPU s',
        'failed'
      ],
      rows,
      [0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    )
  )
  console.log(
    `goals: log bytes sent ÷ written ≤ ${GOALS.bytesRatio} (written: the job's lines; served whole: one read of the whole log at the end, with the kubelet's time on each line, as JSON); peak request rate in any second ÷ mean ≤ ${GOALS.peakRatio}. Service peak RSS ${f(serviceRssMiB, 0)} MiB.`
  )
  for (const r of results.filter(x => !x.skipped && x.variant === 'new'))
    console.log(
      `  new, N=${r.n}: bytes ${r.bytesRatio <= GOALS.bytesRatio ? 'MET' : 'NOT MET'}, peak ${r.peakRatio <= GOALS.peakRatio ? 'MET' : 'NOT MET'}`
    )
  const file = writeResults('fleet', {
    date: new Date().toISOString(),
    machine: m,
    node: nodeV,
    quick: opts.quick,
    seconds,
    logLines: LOG_LINES,
    todayCommit: TODAY_COMMIT,
    goals: GOALS,
    serviceRssMiB,
    results
  })
  progress(`results written to ${file}`)
  if (opts.cpuProf) progress(`the service's CPU profile is in ${profDir}`)
  // a failing action is a figure of the table (the old client may fail under load), not a crash
  return 0
}

await run(main)
