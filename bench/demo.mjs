// Bench of the whole demo pipeline: `npm run demo` (tsx scripts/demo.ts: the local Control Service
// in-process, then upload-sources -> deploy -> run-and-wait (+ its post step) -> fetch-logs ->
// set-properties, each committed bundle run as the runner runs it), started here as
// node_modules/.bin/tsx scripts/demo.ts, without npm in between. Wall time (median of N runs),
// peak RSS (the largest process of the tree), the demo's own clock (from its first step to "done")
// and each step's share (from the demo's "[t s] step" lines, 0.1 s resolution). Baseline in the same
// run, with the same node: bare `node -e 0` and `tsx -e 0` (the launcher's own start-up). Target:
// the demo under 10 s.
//
//   npm run bench -- demo [--quick] [--runs=<n>]
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  BenchError,
  GNU_TIME,
  load,
  machine,
  median,
  onCleanup,
  parseArgs,
  progress,
  requireTools,
  root,
  run,
  table,
  timed,
  wholeNumber,
  writeResults
} from './lib.mjs'

const TSX = join(root, 'node_modules/.bin/tsx')
const DEMO = 'scripts/demo.ts'
const RUNS = 3
const QUICK_RUNS = 1
const BASELINE_RUNS = 5
const LIMIT_S = 10

function usage() {
  console.log(`usage: node bench/demo.mjs [--quick] [--runs=<n>]

  --quick     ${QUICK_RUNS} run of the demo instead of ${RUNS}
  --runs=<n>  this many runs of the demo (the baselines run ${BASELINE_RUNS} times each)
  The demo runs on the node that PATH gives (as \`npm run demo\` does; tsx starts with
  #!/usr/bin/env node), and so do the baselines.`)
}

/** The demo's steps from its "[1.4 s] run-and-wait" lines: name, start, length (seconds). */
function steps(stdout) {
  const marks = []
  for (const line of stdout.split('\n')) {
    const m = /^\[(\d+(?:\.\d+)?) s\] (.+)$/.exec(line)
    if (m) marks.push({ name: m[2].replace(/ requests:$/, ''), at: Number(m[1]) })
  }
  const done = /^done in (\d+(?:\.\d+)?) s/m.exec(stdout)
  const end = done ? Number(done[1]) : marks.at(-1)?.at
  return {
    inside: end,
    steps: marks
      .map((s, i) => ({ name: s.name, at: s.at, seconds: (marks[i + 1]?.at ?? end) - s.at }))
      .filter(s => !/^the service received/.test(s.name))
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2), usage, {
    options: { '--runs': ['runs', wholeNumber] }
  })
  if (opts.help) return usage()
  const runs = opts.runs ?? (opts.quick ? QUICK_RUNS : RUNS)
  requireTools([{ name: 'tsx', path: TSX, hint: 'npm ci installs it' }, GNU_TIME])
  // the node tsx runs on: the first on PATH, as `#!/usr/bin/env node`
  const node = execFileSync('sh', ['-c', 'command -v node'], { encoding: 'utf8' }).trim()
  if (!existsSync(node)) throw new BenchError('no node on PATH')
  const nodeV = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()
  const tsxV = execFileSync(TSX, ['--version'], { encoding: 'utf8', cwd: root })
    .split('\n')[0]
    .trim()
  const m = machine()
  console.log(`machine: ${m.cpu}, ${m.cores} cores, ${m.memory} RAM, ${m.os}`)
  console.log(`demo:    ${TSX} ${DEMO} on ${node} ${nodeV} (${tsxV}); the bundles run on it too`)
  if (process.env.NODE_EXTRA_CA_CERTS)
    console.log(
      `env:     NODE_EXTRA_CA_CERTS is set (${process.env.NODE_EXTRA_CA_CERTS}): every node process reads it at start-up; a GitHub runner does not set it`
    )
  console.log(
    `runs:    demo ${runs}, baselines ${BASELINE_RUNS} each, after one untimed run of each${opts.quick ? ' (--quick)' : ''}`
  )

  const tmp = mkdtempSync(join(tmpdir(), 'vdk-bench-demo-'))
  onCleanup(() => rmSync(tmp, { recursive: true, force: true }))
  const timeFile = join(tmp, 'time')
  const subjects = [
    { name: 'node -e 0', cmd: node, args: ['-e', '0'], runs: BASELINE_RUNS },
    { name: 'tsx -e 0', cmd: TSX, args: ['-e', '0'], runs: BASELINE_RUNS },
    { name: 'demo', cmd: TSX, args: [DEMO], runs }
  ]
  const env = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }
  const once = async s => {
    const r = await timed(s.cmd, s.args, { cwd: root, env, label: s.name, timeFile })
    if (r.code !== 0)
      throw new BenchError(`${s.name} failed (exit ${r.signal ?? r.code}):\n${r.stdout}${r.stderr}`)
    return { wallS: r.wall, rssMiB: r.rssMiB, ...(s.name === 'demo' ? steps(r.stdout) : {}) }
  }
  progress(`warm-up: one untimed run of each (load average ${load()})`)
  for (const s of subjects) await once(s)
  // interleaved, so that a change of the machine's load falls on every subject alike
  for (const s of subjects) s.samples = []
  const rounds = Math.max(...subjects.map(s => s.runs))
  for (let i = 0; i < rounds; i++) {
    progress(`round ${i + 1} of ${rounds} (load average ${load()})`)
    for (const s of subjects) if (s.samples.length < s.runs) s.samples.push(await once(s))
  }
  for (const s of subjects) {
    s.wallS = median(s.samples.map(x => x.wallS))
    s.rssMiB = median(s.samples.map(x => x.rssMiB))
  }
  const [bareNode, bareTsx, demo] = subjects
  demo.insideS = median(demo.samples.map(x => x.inside))

  console.log('')
  console.log(
    `machine: ${m.cpu}, ${m.cores} cores; ${nodeV}, ${tsxV}; median wall (spawn -> exit) of each`
  )
  console.log(
    table(
      ['subject', 'runs', 'wall s', 'x node -e 0', 'x tsx -e 0', 'peak RSS MiB'],
      subjects.map(s => [
        s.name,
        s.runs,
        s.wallS.toFixed(3),
        `${(s.wallS / bareNode.wallS).toFixed(1)}x`,
        `${(s.wallS / bareTsx.wallS).toFixed(2)}x`,
        s.rssMiB.toFixed(1)
      ]),
      [1, 2, 3, 4, 5]
    )
  )
  // each step's median length, in the demo's order
  const names = demo.samples[0].steps.map(x => x.name)
  const stepRows = names.map(name => {
    const secs = demo.samples.map(x => x.steps.find(y => y.name === name)?.seconds)
    return [name, median(secs).toFixed(1)]
  })
  stepRows.push(['(the demo from its first step to "done")', demo.insideS.toFixed(1)])
  stepRows.push([
    '(outside it: tsx, compiling and importing the demo, the exit)',
    (demo.wallS - demo.insideS).toFixed(1)
  ])
  console.log('')
  console.log(table(['demo step (its own clock, 0.1 s)', 'median s'], stepRows, [1]))
  const holds = demo.wallS < LIMIT_S
  console.log('')
  console.log(
    `target: demo under ${LIMIT_S} s: ${holds ? 'yes' : 'NO'} (median ${demo.wallS.toFixed(2)} s of ${runs}; ${(demo.wallS / bareNode.wallS).toFixed(1)}x node -e 0, ${(demo.wallS / bareTsx.wallS).toFixed(1)}x tsx -e 0)`
  )
  console.log(`targets ${holds ? 'HOLD' : 'DO NOT HOLD'}`)
  const file = writeResults('demo', {
    date: new Date().toISOString(),
    machine: m,
    node: nodeV,
    tsx: tsxV,
    quick: opts.quick,
    subjects: subjects.map(({ cmd: _c, ...s }) => s),
    steps: Object.fromEntries(stepRows),
    targets: { under: holds }
  })
  progress(`results written to ${file}`)
  return 0
}

await run(main)
