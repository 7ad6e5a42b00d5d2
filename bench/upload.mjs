// Bench of upload-sources: the committed action bundle (dist/upload-sources/index.js, run by Node 24
// as the runner runs it) uploads generated job trees to the local Control Service, against the
// baseline `zip -qr` + `curl -X POST -T` of the same tree to the same service. Wall time and
// peak RSS of each; one table; whether the targets hold (issue 19: the action's peak RSS flat as
// the tree grows, within 10 % from 100 MiB to 1 GiB, and at most 100 MiB on the 1 GiB tree; its
// wall time at most 1.3x zip + curl). Peak RSS is GNU time's %M of the node process itself (time
// runs node directly, no wrapper in between).
//
//   npm run bench -- upload [--quick] [--request-timeout-seconds=<s>] [--cpu-prof]
import { randomFillSync } from 'node:crypto'
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { statSync, writeFileSync, writevSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import {
  BenchError,
  bundleIdentity,
  formatBytes,
  GiB,
  GNU_TIME,
  load,
  machine,
  MiB,
  nodeForActions,
  nodeVersion,
  onCleanup,
  outDir,
  parseArgs,
  parseGithubOutput,
  progress,
  requireFreeSpace,
  requireTools,
  root,
  run,
  startEmulator,
  table,
  timed,
  writeResults
} from './lib.mjs'

const TEAM = 'bench-team'
const ACTION = join(root, 'dist/upload-sources/index.js')
const ACTION_YML = join(root, 'actions/upload-sources/action.yml')

/** The trees: `files` counts config.ini; `bytes` is the total of the other files. */
const TREES = [
  { name: 'small', files: 6, bytes: 20 * 1024, quick: true },
  { name: 'medium', files: 2000, bytes: 100 * MiB, quick: true },
  { name: 'large', files: 20000, bytes: 1 * GiB, quick: false }
]

/**
 * Targets (issue 19): the action's peak RSS is at most RSS_LIMIT_MIB on the largest tree measured,
 * and grows at most RSS_FLAT_FACTOR from the first tree of RATIO_MIN_BYTES to the largest. Loading
 * the bundle alone takes about 65 MiB (bare node about 42), so the limit leaves the upload 35 MiB.
 */
const RSS_LIMIT_MIB = 100
const RSS_FLAT_FACTOR = 1.1
/** The action's wall time over zip + curl, checked on trees of at least RATIO_MIN_BYTES. */
const RATIO_LIMIT = 1.3
const RATIO_MIN_BYTES = 50 * MiB

function usage() {
  console.log(`usage: node bench/upload.mjs [--quick] [--request-timeout-seconds=<s>] [--cpu-prof]

  --quick                        only the small and medium trees (skips the 1 GiB one)
  --request-timeout-seconds=<s>  the action's request-timeout-seconds input (default: its
                                 action.yml default, as a workflow that does not set it)
  --cpu-prof                     run the action with --cpu-prof; profiles go to bench/out/profiles/
  env BENCH_NODE=<path>          the Node that runs the action and the service (default: npx node@24)`)
}

/**
 * Writes a job tree: config.ini, then `files - 1` files of incompressible content spread over
 * nested folders. One random buffer is reused; each file starts with its own header and takes a
 * different slice, so no two files are the same and no file compresses.
 */
function generateTree(dir, tree, random) {
  mkdirSync(dir, { recursive: true })
  const ini = `[owner]\nteam = ${TEAM}\n\n[job]\ndescription = upload bench (${tree.name})\n`
  writeFileSync(join(dir, 'config.ini'), ini)
  const n = tree.files - 1
  const base = Math.floor(tree.bytes / n)
  const spread = Math.max(1, Math.floor(base / 2))
  // Sizes between base/2 and 3*base/2, in pairs that add up to 2*base, so the total is exact.
  const sizes = Array.from({ length: n }, (_, i) => {
    if (n % 2 === 1 && i === n - 1) return base
    const delta = ((i >> 1) * 7919) % spread
    return i % 2 === 0 ? base + delta : base - delta
  })
  sizes[0] += tree.bytes - base * n
  // About 50 files a folder, the folders two levels deep (a/b/file).
  const leaves = Math.max(1, Math.ceil(n / 50))
  const tops = Math.max(1, Math.ceil(Math.sqrt(leaves)))
  const made = new Set()
  for (let i = 0; i < n; i++) {
    const leaf = i % leaves
    const folder = n <= 10 ? '' : join(`pkg${leaf % tops}`, `mod${leaf}`)
    if (folder && !made.has(folder)) {
      mkdirSync(join(dir, folder), { recursive: true })
      made.add(folder)
    }
    const header = Buffer.from(`# ${tree.name} file ${i} of ${n}\n`)
    const body = Math.max(0, sizes[i] - header.length)
    const at = (i * 1_000_003) % (random.length - body)
    const fd = openSync(join(dir, folder, `f${String(i).padStart(5, '0')}.bin`), 'w')
    try {
      writevSync(fd, [header.subarray(0, sizes[i]), random.subarray(at, at + body)])
    } finally {
      closeSync(fd)
    }
  }
  return { files: tree.files, bytes: tree.bytes + Buffer.byteLength(ini) }
}

/** The inputs' defaults from action.yml, as the runner passes them (INPUT_<NAME>). */
function defaultInputs() {
  try {
    const def = parseYaml(readFileSync(ACTION_YML, 'utf8'))
    return Object.fromEntries(
      Object.entries(def.inputs ?? {})
        .filter(([, v]) => v && v.default !== undefined)
        .map(([k, v]) => [`INPUT_${k.toUpperCase()}`, String(v.default)])
    )
  } catch {
    return {}
  }
}

/** The bench's own environment, without anything a runner or a VDK setup would have set. */
function cleanEnv() {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(INPUT_|GITHUB_|RUNNER_|ACTIONS_|VDK_)/i.test(k) && !/_proxy$/i.test(k)
    )
  )
  return { ...env, NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost' }
}

async function createJob(url, job) {
  const res = await fetch(`${url}/data-jobs/for-team/${encodeURIComponent(TEAM)}/jobs`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ job_name: job, description: '', config: {} })
  })
  if (res.status >= 300)
    throw new BenchError(`could not create job ${job}: HTTP ${res.status} ${await res.text()}`)
}

const uploadUrl = (url, job) =>
  `${url}/data-jobs/for-team/${encodeURIComponent(TEAM)}/jobs/${job}/sources`

async function main() {
  const opts = parseArgs(process.argv.slice(2), usage, {
    flags: { '--cpu-prof': 'cpuProf' },
    options: {
      '--request-timeout-seconds': ['requestTimeout', v => (/^\d+$/.test(v) ? v : undefined)]
    }
  })
  if (opts.help) return usage()
  const { quick } = opts
  const trees = TREES.filter(t => !quick || t.quick)

  requireTools([
    { name: 'zip', hint: 'the baseline zips with it: apt-get install zip' },
    { name: 'curl', hint: 'the baseline uploads with it: apt-get install curl' },
    GNU_TIME
  ])
  // Per tree at most: the tree, the baseline's zip, the service's stored blobs and its copy of the
  // body being read, plus slack.
  const biggest = Math.max(...trees.map(t => t.bytes))
  const free = requireFreeSpace(tmpdir(), 4 * biggest + 2 * GiB, 'the biggest tree')

  const node = nodeForActions()
  const m = machine()
  const nodeV = nodeVersion(node)
  console.log(`machine: ${m.cpu}, ${m.cores} cores, ${m.memory} RAM, ${m.os}`)
  const bundle = bundleIdentity(ACTION)
  console.log(`action:  ${ACTION} on Node ${nodeV} (${node})`)
  console.log(
    `bundle:  git blob ${bundle.blob.slice(0, 12)}${bundle.changed ? ' (differs from HEAD: uncommitted changes)' : ' (as committed)'}`
  )
  console.log(`temp:    ${tmpdir()} (${formatBytes(free)} free)`)
  console.log(`trees:   ${trees.map(t => t.name).join(', ')}${quick ? ' (--quick)' : ''}`)

  const tmp = mkdtempSync(join(tmpdir(), 'vdk-bench-upload-'))
  onCleanup(() => {
    progress(`removing ${tmp}`)
    rmSync(tmp, { recursive: true, force: true })
  })
  const workspace = join(tmp, 'workspace')
  const runnerTemp = join(tmp, 'runner-temp')
  mkdirSync(workspace, { recursive: true })
  mkdirSync(runnerTemp, { recursive: true })

  const service = await startEmulator({ node, dataDir: join(tmp, 'service') })
  progress(`local Control Service at ${service.url}`)

  const random = Buffer.allocUnsafe(8 * MiB)
  randomFillSync(random)
  const inputs = defaultInputs()
  if (opts.requestTimeout) inputs['INPUT_REQUEST-TIMEOUT-SECONDS'] = opts.requestTimeout
  console.log(
    `inputs:  request-timeout-seconds ${inputs['INPUT_REQUEST-TIMEOUT-SECONDS'] ?? '(unset)'}${opts.requestTimeout ? ' (--request-timeout-seconds)' : ' (action.yml default)'}`
  )
  const profileDir = join(outDir, 'profiles')
  if (opts.cpuProf) mkdirSync(profileDir, { recursive: true })
  const results = []
  let failure

  for (const tree of trees) {
    try {
      results.push(await measureTree(tree))
    } catch (e) {
      if (!(e instanceof BenchError)) throw e
      failure = e
      results.push({ tree: tree.name, files: tree.files, bytes: tree.bytes, failed: true })
      break
    }
  }

  async function measureTree(tree) {
    const dir = join(workspace, tree.name)
    progress(`${tree.name}: generating ${tree.files} files, ${formatBytes(tree.bytes)} ...`)
    const t0 = performance.now()
    const made = generateTree(dir, tree, random)
    progress(
      `${tree.name}: generated in ${((performance.now() - t0) / 1000).toFixed(1)} s (${formatBytes(made.bytes)})`
    )
    const jobs = { action: `bench-${tree.name}-action`, baseline: `bench-${tree.name}-curl` }
    await createJob(service.url, jobs.action)
    await createJob(service.url, jobs.baseline)

    // (a) the action, as the runner runs it.
    const outputFile = join(tmp, `output-${tree.name}`)
    writeFileSync(outputFile, '')
    writeFileSync(join(tmp, `summary-${tree.name}`), '')
    const env = {
      ...cleanEnv(),
      ...inputs,
      'INPUT_CONTROL-SERVICE-URL': service.url,
      'INPUT_JOB-PATH': tree.name,
      'INPUT_JOB-NAME': jobs.action,
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: join(tmp, `summary-${tree.name}`),
      GITHUB_WORKSPACE: workspace,
      RUNNER_TEMP: runnerTemp
    }
    progress(`${tree.name}: action uploading ... (load average ${load()})`)
    const profile = opts.cpuProf
      ? [
          '--cpu-prof',
          `--cpu-prof-dir=${profileDir}`,
          `--cpu-prof-name=upload-${tree.name}.cpuprofile`
        ]
      : []
    const action = await timed(node, [...profile, ACTION], {
      cwd: workspace,
      env,
      label: 'the action',
      timeFile: join(tmp, 'time-action')
    })
    const outputs = parseGithubOutput(readFileSync(outputFile, 'utf8'))
    const shown = () =>
      `exit ${action.signal ?? action.code}\n--- stdout ---\n${action.stdout}--- stderr ---\n${action.stderr}--- outputs ---\n${JSON.stringify(outputs, null, 2)}`
    if (action.code !== 0)
      throw new BenchError(`the action failed on the ${tree.name} tree:\n${shown()}`)
    if (outputs['file-count'] !== String(made.files))
      throw new BenchError(
        `the action's file-count is ${outputs['file-count']}, but the ${tree.name} tree has ${made.files} files:\n${shown()}`
      )
    progress(
      `${tree.name}: action ${action.wall.toFixed(2)} s, peak RSS ${action.rssMiB.toFixed(1)} MiB, ${outputs['file-count']} files, archive ${formatBytes(Number(outputs['archive-bytes']))}, version ${outputs['job-version']}`
    )

    // (b) the baseline: zip -qr, then curl of the zip. `curl --data-binary @file` would read the
    // whole file into memory first and refuses files over 1 GiB ("option --data-binary: out of
    // memory", curl's file-to-memory limit), so the large tree could not be measured; `-X POST -T`
    // sends the same request (POST, Content-Length, the same body) streamed from the file.
    const zipFile = join(tmp, `${tree.name}.zip`)
    rmSync(zipFile, { force: true }) // zip -r would update an existing archive
    progress(`${tree.name}: baseline zip -qr ... (load average ${load()})`)
    const zip = await timed('zip', ['-qr', zipFile, tree.name], {
      cwd: workspace,
      env: cleanEnv(),
      label: 'zip',
      timeFile: join(tmp, 'time-zip')
    })
    if (zip.code !== 0)
      throw new BenchError(`zip failed (exit ${zip.code}):\n${zip.stdout}${zip.stderr}`)
    const zipBytes = statSync(zipFile).size
    progress(`${tree.name}: baseline curl -X POST -T ...`)
    const curl = await timed(
      'curl',
      [
        '-s',
        '-S',
        '-X',
        'POST',
        '-T',
        zipFile,
        '-H',
        'Content-Type: application/octet-stream',
        '-w',
        '\n%{http_code}',
        uploadUrl(service.url, jobs.baseline)
      ],
      { cwd: workspace, env: cleanEnv(), label: 'curl', timeFile: join(tmp, 'time-curl') }
    )
    const [answer, status] = [
      curl.stdout.slice(0, curl.stdout.lastIndexOf('\n')),
      curl.stdout.slice(curl.stdout.lastIndexOf('\n') + 1)
    ]
    if (curl.code !== 0 || !/^2\d\d$/.test(status) || !/version_sha/.test(answer))
      throw new BenchError(
        `the baseline upload failed (curl exit ${curl.code}, HTTP ${status}):\n${answer}${curl.stderr}`
      )
    rmSync(zipFile, { force: true })
    const baseline = {
      wall: zip.wall + curl.wall,
      rssMiB: Math.max(zip.rssMiB, curl.rssMiB),
      zip: { wall: zip.wall, rssMiB: zip.rssMiB },
      curl: { wall: curl.wall, rssMiB: curl.rssMiB },
      zipBytes
    }
    progress(
      `${tree.name}: baseline ${baseline.wall.toFixed(2)} s (zip ${zip.wall.toFixed(2)} s, ${zip.rssMiB.toFixed(1)} MiB; curl ${curl.wall.toFixed(2)} s, ${curl.rssMiB.toFixed(1)} MiB), zip ${formatBytes(zipBytes)}`
    )

    rmSync(dir, { recursive: true, force: true })
    return {
      tree: tree.name,
      files: made.files,
      bytes: made.bytes,
      action: {
        wall: action.wall,
        rssMiB: action.rssMiB,
        archiveBytes: Number(outputs['archive-bytes']),
        version: outputs['job-version']
      },
      baseline,
      ratio: action.wall / baseline.wall
    }
  }

  // The table and the targets.
  const done = results.filter(r => !r.failed)
  const cell = (r, f) => (r.failed ? 'FAILED' : f(r))
  console.log('')
  console.log(
    `machine: ${m.cpu}, ${m.cores} cores; action on Node ${nodeV}; load average now ${load()} (other work skews wall times)`
  )
  console.log(
    table(
      [
        'tree',
        'files',
        'size',
        'action wall s',
        'baseline wall s',
        'ratio',
        'action peak RSS MiB',
        'baseline peak RSS MiB'
      ],
      results.map(r => [
        r.tree,
        r.files.toLocaleString('en-US'),
        formatBytes(r.bytes),
        cell(r, r => r.action.wall.toFixed(2)),
        cell(r, r => r.baseline.wall.toFixed(2)),
        cell(r, r => `${r.ratio.toFixed(2)}x`),
        cell(r, r => r.action.rssMiB.toFixed(1)),
        cell(r, r => r.baseline.rssMiB.toFixed(1))
      ]),
      [1, 2, 3, 4, 5, 6, 7]
    )
  )
  const rss = done.map(r => r.action.rssMiB)
  const maxRss = Math.max(...rss)
  const checked = done.filter(r => r.bytes >= RATIO_MIN_BYTES)
  // flat: from the first tree of RATIO_MIN_BYTES and more to the largest (10x the data), the peak
  // grows by at most RSS_FLAT_FACTOR; the small tree measures the start-up, shown beside it
  const bigRss = checked.map(r => r.action.rssMiB)
  const flat = bigRss.length > 1 && Math.max(...bigRss) <= bigRss[0] * RSS_FLAT_FACTOR
  const largest = done.at(-1)
  const under = largest !== undefined && largest.action.rssMiB <= RSS_LIMIT_MIB
  const fast = checked.length > 0 && checked.every(r => r.ratio <= RATIO_LIMIT)
  const yes = ok => (ok ? 'yes' : 'NO')
  const incomplete = failure ? ' (of the trees that completed)' : ''
  console.log('')
  console.log(
    `target: action peak RSS flat as the tree grows (on trees of ${formatBytes(RATIO_MIN_BYTES)} and more, max <= ${RSS_FLAT_FACTOR}x the first's, i.e. within ${Math.round((RSS_FLAT_FACTOR - 1) * 100)} %)${incomplete}: ${bigRss.length > 1 ? yes(flat) : 'not judged (one tree that large; run without --quick)'} (${done.map(r => `${r.tree} ${r.action.rssMiB.toFixed(1)}`).join(' -> ')} MiB)`
  )
  console.log(
    `target: action peak RSS at most ${RSS_LIMIT_MIB} MiB on the largest tree${quick ? ' (--quick: not the 1 GiB one)' : ''}: ${yes(under)} (${largest ? `${largest.tree} ${largest.action.rssMiB.toFixed(1)} MiB` : 'none measured'}; max of all ${maxRss.toFixed(1)} MiB)`
  )
  console.log(
    `target: action wall <= ${RATIO_LIMIT}x zip + curl, on trees of ${formatBytes(RATIO_MIN_BYTES)} and more (the small tree measures start-up): ${yes(fast)} (${checked.map(r => `${r.tree} ${r.ratio.toFixed(2)}x`).join(', ') || 'none measured'})`
  )
  console.log(
    failure
      ? 'targets NOT MET: the run failed (below)'
      : `targets ${flat && under && fast ? 'HOLD' : 'DO NOT HOLD'}`
  )
  const file = writeResults('upload', {
    date: new Date().toISOString(),
    machine: m,
    node: nodeV,
    bundle,
    inputs,
    quick,
    results,
    failure: failure?.message,
    targets: { flat, under, fast }
  })
  progress(`results written to ${file}`)
  if (failure) throw failure
  return 0
}

await run(main)
