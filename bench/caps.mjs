// Bench of the answer caps' memory: the committed fetch-logs bundle, spawned under Node 24 as the
// runner spawns it, against a loopback server of this bench that offers 600 MB where the action
// reads an answer (an execution: JSON, capped at 32 MiB; logs: capped at 256 MiB), announces
// 600 MB in Content-Length, or sends a 600 MB error page (of which the action reads 64 KiB). Per
// case: peak RSS (GNU time's %M), the bytes the server got to send before the connection closed,
// and the wall time. Baseline, in the same run and the same way: the same bundle against a small
// answer it refuses at once (what loading the bundle and one request cost). The hostile-transport
// suite asserts what the server got to send; the memory this costs is a figure of this bench.
// Target: a case's peak RSS at most the baseline's plus its cap plus 96 MiB of buffers read past
// the cap and not yet collected (before the caps, 600 MB took 1.9 GiB).
//
//   npm run bench -- caps [--quick]
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  BenchError,
  formatBytes,
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
  table,
  timed,
  writeResults
} from './lib.mjs'

const HUGE = 600 * 1000 * 1000
const EXECUTION = 'bench-caps-1'
/** A case's peak RSS may exceed the baseline's plus its cap by this much at most. */
const OVERHEAD_MIB = 96

function usage() {
  console.log(`usage: node bench/caps.mjs [--quick]

  --quick        accepted, changes nothing (each case takes about a second)
  env BENCH_NODE=<path>  the Node that runs the action (default: npx node@24)`)
}

const EXECUTION_JSON = JSON.stringify({
  id: EXECUTION,
  job_name: 'bench-caps',
  status: 'succeeded',
  type: 'manual',
  start_time: '2026-12-04T10:00:00Z',
  end_time: '2026-12-04T10:01:00Z',
  started_by: 'bench',
  op_id: 'bench-op'
})

/** Writes `bytes` of 'a' as the reader takes them; resolves `done` with the bytes written. */
function lazy(res, bytes, status, headers, done) {
  const chunk = Buffer.alloc(64 * 1024, 'a')
  let sent = 0
  res.writeHead(status, headers)
  res.once('close', () => done(sent))
  const pump = () => {
    while (sent < bytes && !res.destroyed) {
      sent += chunk.length
      if (!res.write(chunk)) return void res.once('drain', pump)
    }
    if (sent >= bytes) res.end()
  }
  pump()
}

const JSON_TYPE = { 'content-type': 'application/json' }
/** Each case: its cap in MiB (undefined for the baseline) and how the server answers. */
const CASES = [
  {
    name: 'baseline: a small answer, refused at once',
    respond: (req, res, done) => lazy(res, 1024, 200, JSON_TYPE, done)
  },
  {
    name: '600 MB execution (JSON cap 32 MiB)',
    cap: 32,
    respond: (req, res, done) => lazy(res, HUGE, 200, JSON_TYPE, done)
  },
  {
    name: '600 MB logs (logs cap 256 MiB)',
    cap: 256,
    respond: (req, res, done) =>
      req.url.split('?')[0].endsWith('/logs')
        ? lazy(res, HUGE, 200, JSON_TYPE, done)
        : res.writeHead(200, JSON_TYPE).end(EXECUTION_JSON)
  },
  {
    name: 'Content-Length: 600 MB (refused unread)',
    cap: 0,
    respond: (req, res, done) =>
      lazy(res, HUGE, 200, { ...JSON_TYPE, 'content-length': HUGE }, done)
  },
  {
    name: '600 MB error page (64 KiB read)',
    cap: 0,
    respond: (req, res, done) => lazy(res, HUGE, 400, { 'content-type': 'text/html' }, done)
  }
]

await run(async () => {
  const o = parseArgs(process.argv.slice(2), usage)
  if (o.help) return usage()
  requireTools([GNU_TIME])
  const node = nodeForActions()
  const dir = mkdtempSync(join(tmpdir(), 'bench-caps-'))
  onCleanup(() => rmSync(dir, { recursive: true, force: true }))

  let current
  let offered
  const server = createServer((req, res) => {
    req.resume()
    current.respond(req, res, n => (offered = n))
  })
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))
  onCleanup(() => new Promise(resolve => server.close(resolve)))
  const url = `http://127.0.0.1:${server.address().port}`

  const m = machine()
  console.log(`${m.cpu}, ${m.cores} cores, ${m.memory}; Node ${nodeVersion(node)}; load ${load()}`)
  const rows = []
  const results = []
  let failures = 0
  let baseline
  for (const [i, c] of CASES.entries()) {
    current = c
    offered = undefined
    progress(`${c.name} ...`)
    const { env, main } = runnerEnv({
      actionYml: join(root, 'actions', 'fetch-logs', 'action.yml'),
      inputs: {
        'control-service-url': url,
        team: 'team',
        'job-name': 'bench-caps',
        'execution-id': EXECUTION
      },
      dir: join(dir, `run-${i}`),
      workspace: dir
    })
    const r = await timed(node, [join(root, 'actions', 'fetch-logs', main)], {
      cwd: dir,
      env,
      label: c.name,
      timeFile: join(dir, `time-${i}`)
    })
    if (r.code !== 1) throw new BenchError(`${c.name}: exit code ${r.code}, expected 1`)
    await new Promise(resolve => setTimeout(resolve, 50))
    if (c.cap === undefined) baseline = r.rssMiB
    const limit = c.cap === undefined ? undefined : Math.ceil(baseline + c.cap + OVERHEAD_MIB)
    const ok = limit === undefined || r.rssMiB <= limit
    if (!ok) failures++
    rows.push([
      c.name,
      `${r.rssMiB.toFixed(1)} MiB`,
      limit === undefined ? '-' : `${limit} MiB${ok ? '' : ' EXCEEDED'}`,
      offered === undefined ? '-' : formatBytes(offered),
      `${r.wall.toFixed(2)} s`
    ])
    results.push({ case: c.name, rssMiB: r.rssMiB, limitMiB: limit, offered, wall: r.wall })
  }
  console.log(
    `\n${table(['case', 'peak RSS', 'at most', 'server got to send', 'wall'], rows, [1, 2, 3, 4])}`
  )
  console.log(`(each 600 MB case offers ${formatBytes(HUGE)})`)
  console.log(`\nresults: ${writeResults('caps', { machine: m, results })}`)
  if (failures) throw new BenchError(`${failures} case(s) over their memory target`)
})
