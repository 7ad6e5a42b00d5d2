// Bench of the actions' cold start: every committed action bundle (dist/<name>/index.js but the
// emulator's, named by the action.yml that runs it) is spawned under Node 24 as the runner spawns
// it (INPUT_* with the action.yml defaults, the GITHUB_* files, cwd the workspace) with valid
// inputs, its control-service-url pointing at a loopback HTTP server of this bench that notes when
// the FIRST request arrives and answers every request 401 with an empty body (no auth is set, so
// each action fails at once with one clear line). Per action: spawn -> first request (median of N
// runs), spawn -> exit, peak RSS, bundle size. changed-jobs sends no request (git only): its
// figure is spawn -> exit in a small git repository made here. Baseline, measured in the same run
// and the same way: bare `node -e 0` (spawn -> exit) under the same Node 24, and for reference a
// bare `node` that sends one http.get (spawn -> first request). Target: cold start (spawn -> first
// request) at most 2x bare node.
//
//   npm run bench -- start [--quick] [--runs=<n>]
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parse as parseYaml } from 'yaml'
import {
  BenchError,
  formatBytes,
  GNU_TIME,
  load,
  machine,
  median,
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
  table,
  timed,
  wholeNumber,
  writeResults
} from './lib.mjs'

const TEAM = 'bench-team'
const JOB = 'bench-start-job'
/** Cold start (spawn -> first request) over bare `node -e 0` (spawn -> exit), at most. */
const RATIO_LIMIT = 2
const RUNS = 7
const QUICK_RUNS = 3

function usage() {
  console.log(`usage: node bench/start.mjs [--quick] [--runs=<n>]

  --quick        ${QUICK_RUNS} runs of each instead of ${RUNS}
  --runs=<n>     this many timed runs of each (after one untimed warm-up run)
  env BENCH_NODE=<path>  the Node that runs the actions and the baseline (default: npx node@24)`)
}

/** Each action.yml (actions/*, and the root one) with the bundle its runs.main names. */
function actions() {
  const ymls = [
    ...readdirSync(join(root, 'actions')).map(d => join(root, 'actions', d, 'action.yml')),
    join(root, 'action.yml')
  ]
  const byBundle = new Map()
  for (const yml of ymls) {
    let meta
    try {
      meta = parseYaml(readFileSync(yml, 'utf8'))
    } catch {
      continue
    }
    if (!meta?.runs?.main) continue
    const bundle = resolve(dirname(yml), meta.runs.main)
    const dir = relative(root, dirname(yml))
    const name = dir === '' ? 'root action (pipeline)' : dir.replace(/^actions\//, '')
    byBundle.set(bundle, { name, yml, bundle })
  }
  const list = []
  const distDir = join(root, 'dist')
  for (const d of readdirSync(distDir).sort()) {
    const bundle = join(distDir, d, 'index.js')
    if (d === 'emulator' || !statSync(join(distDir, d)).isDirectory()) continue
    const a = byBundle.get(bundle)
    if (!a) throw new BenchError(`no action.yml runs ${relative(root, bundle)}`)
    // a bundle rebuilt since the last commit is measured as it is now, and marked
    const changed =
      spawnSync('git', ['diff', '--quiet', 'HEAD', '--', bundle], { cwd: root }).status === 1
    list.push({ ...a, dist: d, bytes: statSync(bundle).size, changed })
  }
  return list
}

/** Valid inputs of each action (by its dist folder); changed-jobs compares HEAD~1 with HEAD. */
function inputsFor(dist, url) {
  const conn = { 'control-service-url': url }
  const byName = { 'job-name': JOB, team: TEAM }
  switch (dist) {
    case 'changed-jobs':
      return { base: 'HEAD~1', head: 'HEAD' }
    case 'upload-sources':
    case 'deploy':
    case 'pipeline':
    case 'validate':
      return { ...conn, 'job-path': JOB }
    case 'run-and-wait':
    case 'fetch-logs':
      return { ...conn, ...byName }
    case 'set-properties':
      return { ...conn, ...byName, properties: 'rows: 100\n' }
    case 'plan':
      return { ...conn, 'job-path': JOB, team: TEAM }
    case 'prune':
      // a job whose folder is gone (one that still has a folder is refused before any request)
      return { ...conn, 'job-name': 'retired-job', team: TEAM }
    case 'drift':
      return { ...conn, 'jobs-root': '.', team: TEAM }
    default:
      throw new BenchError(`the bench has no inputs for dist/${dist}: add them to inputsFor()`)
  }
}

/** A request for the table: the job's own path shortened, a query named but not shown. */
function shortRequest(r) {
  if (!r) return '(none)'
  const [path, query] = r.split('?')
  const short = path
    .replace(`/data-jobs/for-team/${TEAM}/jobs/${JOB}`, '<job>')
    .replace(`/data-jobs/for-team/${TEAM}`, '<team>')
  return query ? `${short}?${query.split('=')[0]}=…` : short
}

/** The workspace: a git repository of two commits holding the job folder. */
function makeWorkspace(dir) {
  const job = join(dir, JOB)
  mkdirSync(job, { recursive: true })
  writeFileSync(
    join(job, 'config.ini'),
    `[owner]\nteam = ${TEAM}\n\n[job]\nschedule_cron = 0 6 * * *\npython_version = 3.11\n`
  )
  writeFileSync(join(job, '10_step.sql'), 'select 1;\n')
  const git = args => {
    const r = spawnSync('git', args, {
      cwd: dir,
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'bench',
        GIT_AUTHOR_EMAIL: 'bench@example.com',
        GIT_COMMITTER_NAME: 'bench',
        GIT_COMMITTER_EMAIL: 'bench@example.com'
      }
    })
    if (r.status !== 0) throw new BenchError(`git ${args.join(' ')} failed: ${r.stderr}`)
  }
  git(['init', '-q', '-b', 'main'])
  writeFileSync(join(dir, 'README.md'), 'bench\n')
  git(['add', '-A'])
  git(['commit', '-q', '-m', 'first'])
  writeFileSync(join(job, '20_step.py'), 'def run(job_input):\n    pass\n')
  git(['add', '-A'])
  git(['commit', '-q', '-m', 'second'])
}

/** The loopback server: notes each run's first request, answers 401 with an empty body. */
async function startServer() {
  let current
  const server = createServer((req, res) => {
    const at = performance.now()
    if (current) {
      current.requests.push({ at, method: req.method, path: req.url })
      current.first ??= at
    }
    req.resume()
    res.writeHead(401, { 'Content-Length': '0', Connection: 'close' })
    res.end()
  })
  await new Promise((ok, fail) => {
    server.once('error', fail)
    server.listen(0, '127.0.0.1', ok)
  })
  onCleanup(
    () =>
      new Promise(r => {
        server.close(() => r())
        server.closeAllConnections()
      })
  )
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    /** Starts noting a run's requests; the returned object fills as they come. */
    watch() {
      current = { requests: [], first: undefined }
      return current
    }
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2), usage, {
    options: { '--runs': ['runs', wholeNumber] }
  })
  if (opts.help) return usage()
  const runs = opts.runs ?? (opts.quick ? QUICK_RUNS : RUNS)
  requireTools([{ name: 'git', hint: 'changed-jobs needs it: apt-get install git' }, GNU_TIME])
  const node = nodeForActions()
  const nodeV = nodeVersion(node)
  const m = machine()
  const list = actions()
  console.log(`machine: ${m.cpu}, ${m.cores} cores, ${m.memory} RAM, ${m.os}`)
  console.log(`node:    ${nodeV} (${node})`)
  if (process.env.NODE_EXTRA_CA_CERTS)
    console.log(
      `env:     NODE_EXTRA_CA_CERTS is set (${process.env.NODE_EXTRA_CA_CERTS}), and passed on: every node process reads it at start-up; a GitHub runner does not set it`
    )
  console.log(`actions: ${list.map(a => a.name).join(', ')}`)
  console.log(
    `runs:    ${runs} timed of each, after one untimed warm-up${opts.quick ? ' (--quick)' : ''}`
  )

  const tmp = mkdtempSync(join(tmpdir(), 'vdk-bench-start-'))
  onCleanup(() => rmSync(tmp, { recursive: true, force: true }))
  const workspace = join(tmp, 'workspace')
  makeWorkspace(workspace)
  const server = await startServer()
  progress(`answering server at ${server.url} (401, empty body, to every request)`)
  const timeFile = join(tmp, 'time')

  // The subjects: two baselines, then every action.
  const subjects = [
    {
      name: 'node -e 0',
      kind: 'baseline',
      args: ['-e', '0'],
      request: false
    },
    {
      name: 'node + http.get',
      kind: 'baseline',
      args: [
        '-e',
        `require('node:http').get(${JSON.stringify(server.url + '/hello')}, r => r.resume()).on('error', () => {})`
      ],
      request: true
    },
    ...list.map(a => ({
      name: a.name,
      kind: 'action',
      action: a,
      args: [a.bundle],
      request: a.dist !== 'changed-jobs'
    }))
  ]
  for (const s of subjects) s.samples = []

  const once = async (s, n) => {
    const dir = join(tmp, `run-${s.action?.dist ?? 'node'}-${n}`)
    const { env, files } = runnerEnv({
      actionYml: s.action?.yml,
      inputs: s.action ? inputsFor(s.action.dist, server.url) : {},
      dir,
      workspace
    })
    const seen = server.watch()
    const t0 = performance.now()
    const r = await timed(node, s.args, { cwd: workspace, env, label: s.name, timeFile })
    await new Promise(ok => setTimeout(ok, 5)) // a request that raced the exit is noted
    const sample = {
      firstMs: seen.first === undefined ? undefined : seen.first - t0,
      exitMs: r.wall * 1000,
      rssMiB: r.rssMiB,
      code: r.signal ?? r.code,
      requests: seen.requests.length,
      firstRequest: seen.requests[0] && `${seen.requests[0].method} ${seen.requests[0].path}`
    }
    const shown = () =>
      `exit ${sample.code}, ${sample.requests} request(s)\n--- output ---\n${r.stdout}${r.stderr}`
    if (s.request && sample.firstMs === undefined)
      throw new BenchError(`${s.name} made no request (were its inputs refused?):\n${shown()}`)
    if (!s.request && sample.requests > 0)
      throw new BenchError(`${s.name} made a request, but none was expected:\n${shown()}`)
    if (s.kind === 'baseline' && sample.code !== 0)
      throw new BenchError(`the baseline ${s.name} failed:\n${shown()}`)
    if (s.action?.dist === 'changed-jobs') {
      const out = parseGithubOutput(readFileSync(files.GITHUB_OUTPUT, 'utf8'))
      if (sample.code !== 0 || out.count !== '1')
        throw new BenchError(
          `changed-jobs should find 1 changed job (exit 0), found ${out.count}:\n${shown()}`
        )
    }
    if (s.action) {
      // the same bundle imported, not run (startIfMain runs nothing when it is not node's main
      // module): the share of the start that is loading and evaluating the bundle
      const load = await timed(
        node,
        [
          '--input-type=module',
          '-e',
          `await import(${JSON.stringify(pathToFileURL(s.action.bundle).href)})`
        ],
        { cwd: workspace, env, label: `${s.name} (import only)`, timeFile }
      )
      if (load.code !== 0)
        throw new BenchError(`importing ${s.action.bundle} failed:\n${load.stdout}${load.stderr}`)
      sample.loadMs = load.wall * 1000
      sample.loadRssMiB = load.rssMiB
    }
    rmSync(dir, { recursive: true, force: true })
    return sample
  }

  progress(`warm-up: one untimed run of each (load average ${load()})`)
  for (const s of subjects) s.warmup = await once(s, 'warmup')
  for (let i = 0; i < runs; i++) {
    progress(`round ${i + 1} of ${runs} (load average ${load()})`)
    // rotate the order, so that no subject always follows the same one
    for (let j = 0; j < subjects.length; j++) {
      const s = subjects[(i + j) % subjects.length]
      s.samples.push(await once(s, i))
    }
  }

  // figures
  for (const s of subjects) {
    s.firstMs = median(s.samples.map(x => x.firstMs))
    s.exitMs = median(s.samples.map(x => x.exitMs))
    s.rssMiB = median(s.samples.map(x => x.rssMiB))
    s.loadMs = median(s.samples.map(x => x.loadMs))
    s.loadRssMiB = median(s.samples.map(x => x.loadRssMiB))
    s.startMs = s.request ? s.firstMs : s.exitMs
    s.measured = s.request ? 'spawn -> 1st request' : 'spawn -> exit'
  }
  const bare = subjects[0]
  const cell = (v, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : '-')
  console.log('')
  console.log(
    `machine: ${m.cpu}, ${m.cores} cores; Node ${nodeV}; median of ${runs} runs; ratios over bare \`node -e 0\` (spawn -> exit ${cell(bare.exitMs, 1)} ms, peak RSS ${cell(bare.rssMiB, 1)} MiB)`
  )
  console.log(
    table(
      [
        'subject',
        'bundle',
        'start measured as',
        'start ms',
        'x node',
        'exit ms',
        'peak RSS MiB',
        'x node',
        'import-only ms',
        'import-only RSS',
        'reqs',
        'exit code',
        'first request'
      ],
      subjects.map(s => [
        s.name,
        s.action ? `${s.action.changed ? '*' : ''}${s.action.bytes.toLocaleString('en-US')}` : '-',
        s.action?.dist === 'changed-jobs' ? 'spawn -> exit (git only)' : s.measured,
        cell(s.startMs, 1),
        `${(s.startMs / bare.exitMs).toFixed(2)}x`,
        cell(s.exitMs, 1),
        cell(s.rssMiB, 1),
        `${(s.rssMiB / bare.rssMiB).toFixed(2)}x`,
        cell(s.loadMs, 1),
        cell(s.loadRssMiB, 1),
        s.samples.at(-1).requests,
        [...new Set(s.samples.map(x => x.code))].join('/'),
        shortRequest(s.samples.at(-1).firstRequest)
      ]),
      [1, 3, 4, 5, 6, 7, 8, 9, 10]
    )
  )
  if (list.some(a => a.changed))
    console.log('* the bundle differs from the committed one (uncommitted changes)')
  const judged = subjects.filter(s => s.kind === 'action' && s.request)
  const worst = judged.reduce((a, b) => (b.startMs > a.startMs ? b : a))
  const holds = judged.every(s => s.startMs <= RATIO_LIMIT * bare.exitMs)
  const git = subjects.find(s => s.action?.dist === 'changed-jobs')
  console.log('')
  console.log(
    `target: cold start (spawn -> first request) <= ${RATIO_LIMIT}x bare node (${cell(RATIO_LIMIT * bare.exitMs, 1)} ms) for every action that sends a request: ${holds ? 'yes' : 'NO'} (slowest ${worst.name} ${cell(worst.startMs, 1)} ms, ${(worst.startMs / bare.exitMs).toFixed(2)}x${
      holds
        ? ''
        : `; over: ${judged
            .filter(s => s.startMs > RATIO_LIMIT * bare.exitMs)
            .map(s => `${s.name} ${(s.startMs / bare.exitMs).toFixed(2)}x`)
            .join(', ')}`
    })`
  )
  if (git)
    console.log(
      `info:   changed-jobs (no request) spawn -> exit ${cell(git.exitMs, 1)} ms = ${(git.exitMs / bare.exitMs).toFixed(2)}x bare node, including its git commands; not judged by the target`
    )
  console.log(`targets ${holds ? 'HOLD' : 'DO NOT HOLD'}`)
  const file = writeResults('start', {
    date: new Date().toISOString(),
    machine: m,
    node: nodeV,
    runs,
    quick: opts.quick,
    server: '401 with an empty body to every request',
    subjects: subjects.map(s => ({
      name: s.name,
      kind: s.kind,
      bundle: s.action && relative(root, s.action.bundle),
      bundleBytes: s.action?.bytes,
      bundleSize: s.action && formatBytes(s.action.bytes),
      bundleChanged: s.action?.changed,
      measured: s.measured,
      startMs: s.startMs,
      exitMs: s.exitMs,
      rssMiB: s.rssMiB,
      ratio: s.startMs / bare.exitMs,
      rssRatio: s.rssMiB / bare.rssMiB,
      warmup: s.warmup,
      samples: s.samples
    })),
    targets: { coldStart: holds }
  })
  progress(`results written to ${file}`)
  return 0
}

await run(main)
