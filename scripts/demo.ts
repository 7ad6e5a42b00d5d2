// npm run demo: the local Control Service in-process, and the committed action bundles run over
// the sample job exactly as the GitHub runner runs them (INPUT_*, GITHUB_OUTPUT, GITHUB_STATE,
// GITHUB_STEP_SUMMARY, the post step): upload → deploy → run-and-wait → fetch-logs →
// set-properties. Each step's log, outputs and job summary are printed.
import { execFileSync } from 'node:child_process'
import { startEmulator } from '../src/emulator/server.js'
import { runAction, type ActionRun } from './action-runner.js'
import { node24 } from './node24.js'

/** The runner's Node (24); this process's when Node 24 cannot be had (offline, say so). */
function actionsNode(): string {
  try {
    return node24()
  } catch (e) {
    console.log(
      `(Node 24, the Actions runtime, is not available: ${(e as Error).message.split('\n')[0]}; running the bundles with this Node ${process.version})`
    )
    return process.execPath
  }
}
const node = actionsNode()

const started = Date.now()
const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`
const JOB = { 'job-path': 'examples/jobs/hello-data-job' }

/** The step's output as the Actions log shows it: groups, errors, no masks or debug lines. */
function show(text: string): void {
  for (const line of text.split('\n')) {
    if (
      !line ||
      line.startsWith('::add-mask::') ||
      line.startsWith('::debug::') ||
      line === '::endgroup::'
    )
      continue
    const group = /^::group::(.*)$/.exec(line)
    const note = /^::(error|warning|notice)[^:]*::(.*)$/.exec(line)
    if (group) console.log(`    ▸ ${group[1]}`)
    else if (note) console.log(`    ${note[1]}: ${note[2]}`)
    else console.log(`    │ ${line}`)
  }
}

/** The job summary (HTML) as text. */
function summary(html: string): string[] {
  const out: string[] = []
  for (const m of html.matchAll(/<h3>(.*?)<\/h3>|<tr>(.*?)<\/tr>/g)) {
    if (m[1]) out.push(`### ${m[1]}`)
    else
      out.push(
        `| ${[...m[2].matchAll(/<t[hd]>(.*?)<\/t[hd]>/g)].map(c => c[1].replace(/<[^>]+>/g, '')).join(' | ')} |`
      )
  }
  return out
}

async function step(
  name: string,
  inputs: Record<string, string>,
  extra: Parameters<typeof runAction>[2] = {}
): Promise<ActionRun> {
  console.log(`\n[${elapsed()}] ${name}${extra.phase === 'post' ? ' (post step)' : ''}`)
  const run = await runAction(name, inputs, { node, ...extra })
  show(run.stdout)
  for (const [k, v] of Object.entries(run.outputs)) console.log(`    output ${k} = ${v}`)
  for (const line of summary(run.summary)) console.log(`    summary ${line}`)
  if (run.code !== 0) throw new Error(`${name} exited with code ${run.code}`)
  return run
}

async function main(): Promise<void> {
  const emu = await startEmulator({
    executionSeconds: 1.5,
    submitSeconds: 0.3,
    deploymentSeconds: 0.5
  })
  console.log(
    `local Control Service on ${emu.url} (in-process); the sample job is ${JOB['job-path']}; the bundles run under Node ${execFileSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim()}`
  )
  const conn = { 'control-service-url': emu.url }
  try {
    await step('upload-sources', { ...conn, ...JOB })
    await step('deploy', { ...conn, ...JOB, 'poll-interval-seconds': '0.5' })
    const run = await step('run-and-wait', {
      ...conn,
      ...JOB,
      arguments: '{"greeting": "hello"}',
      'poll-interval-seconds': '0.4'
    })
    await step('run-and-wait', { ...conn, ...JOB }, { phase: 'post', state: run.state })
    await step('fetch-logs', { ...conn, ...JOB, print: 'false' })
    await step('set-properties', {
      ...conn,
      ...JOB,
      properties: 'greeting: hello\nbatch_size: 500\n',
      secrets: 'warehouse_password: demo-only-secret'
    })
    const counts = new Map<string, number>()
    for (const e of emu.journal) {
      const key = `${e.method} ${e.status} ${decodeURIComponent(e.path).replace(/executions\/[^/]+/, 'executions/{id}')}`
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
    console.log(`\n[${elapsed()}] the service received ${emu.journal.length} requests:`)
    for (const [k, n] of counts) console.log(`  ${String(n).padStart(3)} × ${k}`)
    console.log(
      `\ndone in ${elapsed()}: uploaded, deployed, ran, fetched its logs and set its properties`
    )
  } finally {
    await emu.close()
  }
}

main().catch((e: unknown) => {
  console.error(`demo failed: ${(e as Error).message}`)
  process.exit(1)
})
