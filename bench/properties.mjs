// Bench of set-properties on big properties files: the set-properties bundle is spawned under
// Node 24 as the runner spawns it, with `properties-file` a .json file (1, 2 and 5 MB) or a .yaml
// file (0.25, 0.5 and 1 MB: YAML is read up to 1 MiB) holding a mapping of ~14,000 keys a MB,
// each a small nested mapping, and dry-run: true, against the local Control Service (the committed
// bundle). Per format and size: wall time (spawn -> exit), peak RSS, and the growth: the time of
// the largest size over the smallest, against the size ratio. Target: linear growth, i.e. that
// ratio at most 1.5x the size ratio (before, the yaml parser compared each key with every earlier
// one: a 5 MB JSON file took 17 s, 2 MB 27 s on a loaded machine), and the largest JSON file read
// in under 3 s.
//
//   npm run bench -- properties [--quick]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
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
const JOB = 'bench-props-job'
/** Sizes in MB, per format. */
const SIZES = { json: [1, 2, 5], yaml: [0.25, 0.5, 1] }
const QUICK_SIZES = { json: [0.5, 1], yaml: [0.25, 0.5] }
/** The largest size's time over the smallest's, at most this times the size ratio. */
const GROWTH_LIMIT = 1.5
/** The largest JSON file is read in under this many seconds. */
const JSON_SECONDS = 3

function usage() {
  console.log(`usage: node bench/properties.mjs [--quick]

  --quick          JSON ${QUICK_SIZES.json.join(', ')} MB and YAML ${QUICK_SIZES.yaml.join(', ')} MB only
  env BENCH_NODE=<path>  the Node that runs the action (default: npx node@24)`)
}

/** A properties mapping of about `mb` MB as JSON text, and the same as block YAML. */
function properties(mb) {
  const json = []
  const yaml = []
  let size = 2
  for (let i = 0; size < mb * 1e6; i++) {
    const entry = `"key_${i}":{"name":"value ${i}","n":${i},"ok":true,"list":[1,2,"x"]}`
    json.push(entry)
    yaml.push(`key_${i}:\n  name: value ${i}\n  n: ${i}\n  ok: true\n  list: [1, 2, x]`)
    size += entry.length + 1
  }
  return { json: `{${json.join(',')}}`, yaml: `${yaml.join('\n')}\n`, keys: json.length }
}

async function main() {
  const o = parseArgs(process.argv.slice(2), usage)
  if (o.help) return usage()
  requireTools([GNU_TIME])
  const sizes = o.quick ? QUICK_SIZES : SIZES
  const node = nodeForActions()
  const dir = mkdtempSync(join(tmpdir(), 'vdk-bench-props-'))
  onCleanup(() => rmSync(dir, { recursive: true, force: true }))
  const service = await startEmulator({ node, dataDir: join(dir, 'service') })
  const created = await fetch(
    `${service.url}/data-jobs/for-team/${encodeURIComponent(TEAM)}/jobs`,
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ job_name: JOB, team: TEAM, config: {} })
    }
  )
  if (created.status !== 201) throw new BenchError(`creating the job answered ${created.status}`)
  const workspace = join(dir, 'workspace')
  mkdirSync(workspace)
  const bundle = join(root, 'dist', 'set-properties', 'index.js')
  const identity = bundleIdentity(bundle)
  progress(
    `Node ${nodeVersion(node)}, bundle ${identity.blob.slice(0, 12)}${identity.changed ? ' (differs from HEAD)' : ''}, load ${load()}`
  )

  const results = []
  for (const format of ['json', 'yaml']) {
    for (const mb of sizes[format]) {
      const text = properties(mb)
      const file = `props-${mb}.${format}`
      writeFileSync(join(workspace, file), text[format])
      const { env, main } = runnerEnv({
        actionYml: join(root, 'actions', 'set-properties', 'action.yml'),
        dir: join(dir, `run-${format}-${mb}`),
        workspace,
        inputs: {
          'control-service-url': service.url,
          'job-name': JOB,
          team: TEAM,
          'properties-file': file,
          'dry-run': 'true'
        }
      })
      const r = await timed(node, [join(root, 'actions', 'set-properties', main)], {
        cwd: workspace,
        env,
        label: `${format} ${mb} MB`,
        timeFile: join(dir, 'time')
      })
      if (r.code !== 0)
        throw new BenchError(`${format} ${mb} MB: exit ${r.code ?? r.signal}\n${r.stdout}`)
      if (!r.stdout.includes(`would change ${text.keys} key(s)`))
        throw new BenchError(`${format} ${mb} MB: not every key was read\n${r.stdout.slice(-500)}`)
      progress(
        `${format} ${mb} MB (${text.keys} keys): ${r.wall.toFixed(2)} s, ${r.rssMiB.toFixed(0)} MiB`
      )
      results.push({ format, mb, keys: text.keys, seconds: r.wall, rssMiB: r.rssMiB })
    }
  }

  console.log(
    `\n${table(
      ['format', 'size', 'keys', 'wall', 'peak RSS'],
      results.map(r => [
        r.format,
        `${r.mb} MB`,
        r.keys,
        `${r.seconds.toFixed(2)} s`,
        `${r.rssMiB.toFixed(0)} MiB`
      ]),
      [1, 2, 3, 4]
    )}`
  )
  const failures = []
  for (const format of ['json', 'yaml']) {
    const sizeRatio = sizes[format].at(-1) / sizes[format][0]
    const of = results.filter(r => r.format === format)
    const growth = of.at(-1).seconds / of[0].seconds
    const ok = growth <= GROWTH_LIMIT * sizeRatio
    console.log(
      `${format}: ${sizeRatio}x the size took ${growth.toFixed(1)}x the time (linear: ${sizeRatio}x, limit ${(GROWTH_LIMIT * sizeRatio).toFixed(1)}x) ${ok ? 'ok' : 'FAILED'}`
    )
    if (!ok) failures.push(`${format} grows faster than linearly (${growth.toFixed(1)}x)`)
  }
  const largestJson = results.filter(r => r.format === 'json').at(-1)
  if (largestJson.seconds > JSON_SECONDS)
    failures.push(
      `the ${largestJson.mb} MB JSON file took ${largestJson.seconds.toFixed(1)} s (target < ${JSON_SECONDS} s)`
    )
  const file = writeResults('properties', {
    machine: machine(),
    node: nodeVersion(node),
    bundle: identity,
    load: load(),
    results
  })
  progress(`results: ${file}`)
  if (failures.length) throw new BenchError(failures.join('; '))
}

await run(main)
