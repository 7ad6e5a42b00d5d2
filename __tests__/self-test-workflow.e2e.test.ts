// The self-test workflow (.github/workflows/self-test.yml), run here the way the runner runs it,
// so that the file cannot rot unnoticed: its `run:` steps with bash (-e, in the workspace, with
// the job's env, RUNNER_TEMP and the GITHUB_ENV file command), its `uses: ./actions/<name>` steps
// as the committed bundles under Node 24 with their `with:` inputs, `if: always()` honoured, and
// the post steps of the actions that have one, last, in reverse order. Expressions are the ones
// the file uses — `${{ env.X }}` and `${{ steps.<id>.outputs.<name> }}` — and anything else fails
// the test, as does a `uses:` other than this repository's actions and actions/checkout (the
// checkout is this working tree).
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import { ROOT } from '../scripts/action-runner.js'
import { parseFileCommands, runAction, type ActionRun } from './helpers/runner.js'

interface Step {
  id?: string
  name?: string
  if?: string
  run?: string
  uses?: string
  with?: Record<string, string>
}
interface Workflow {
  jobs: Record<string, { env?: Record<string, string>; steps: Step[] }>
}

const workflow = parse(
  readFileSync(join(ROOT, '.github', 'workflows', 'self-test.yml'), 'utf8')
) as Workflow
const job = workflow.jobs['self-test']

let temp: string
beforeAll(() => {
  temp = mkdtempSync(join(tmpdir(), 'self-test-'))
})
afterAll(() => {
  // the service the workflow started, should a failed step have left it running
  try {
    process.kill(Number(readFileSync(join(temp, 'local-service.pid'), 'utf8')), 'SIGTERM')
  } catch {
    // gone already, or never started
  }
  rmSync(temp, { recursive: true, force: true })
})

/** `${{ … }}` in `text`, with the expressions the workflow uses; any other is an error. */
function expand(
  text: string,
  env: Record<string, string>,
  outputs: Record<string, Record<string, string>>
): string {
  return text.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_, expr: string) => {
    let m = /^env\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(expr)
    if (m) {
      if (!(m[1] in env)) throw new Error(`\${{ ${expr} }}: no such env`)
      return env[m[1]]
    }
    m = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expr)
    if (m) {
      const value = outputs[m[1]]?.[m[2]]
      if (value === undefined) throw new Error(`\${{ ${expr} }}: no such output`)
      return value
    }
    throw new Error(`\${{ ${expr} }}: an expression this test does not evaluate; extend expand()`)
  })
}

/** A `run:` step: bash -e in the workspace; what it writes to GITHUB_ENV joins the job's env. */
async function runScript(script: string, env: Record<string, string>): Promise<number | null> {
  const envFile = join(temp, 'github-env')
  writeFileSync(envFile, '')
  const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
    cwd: ROOT,
    env: { ...process.env, ...env, RUNNER_TEMP: temp, GITHUB_ENV: envFile, GITHUB_WORKSPACE: ROOT },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout.on('data', c => (output += c))
  child.stderr.on('data', c => (output += c))
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  if (code !== 0) console.error(`run step failed (${code}):\n${output}`)
  Object.assign(env, parseFileCommands(readFileSync(envFile, 'utf8')))
  return code
}

test('the self-test workflow runs green, step after step, as the runner runs it', async () => {
  const env: Record<string, string> = { ...job.env }
  const outputs: Record<string, Record<string, string>> = {}
  const posts: Array<{ name: string; inputs: Record<string, string>; run: ActionRun }> = []
  const results: string[] = []
  let failed = false
  for (const step of job.steps) {
    const label = step.name ?? step.uses ?? step.id ?? '?'
    if (step.if !== undefined && step.if !== 'always()')
      throw new Error(`${label}: if: ${step.if} is not evaluated by this test`)
    if (failed && step.if !== 'always()') {
      results.push(`${label}: skipped`)
      continue
    }
    if (step.run !== undefined) {
      const code = await runScript(step.run, env)
      failed ||= code !== 0
      results.push(`${label}: ${code === 0 ? 'ok' : `exit ${code}`}`)
    } else if (step.uses?.startsWith('actions/checkout@')) {
      results.push(`${label}: ok`) // the checkout is this working tree
    } else if (step.uses?.startsWith('./actions/')) {
      const name = step.uses.slice('./actions/'.length)
      const inputs = Object.fromEntries(
        Object.entries(step.with ?? {}).map(([k, v]) => [k, expand(String(v), env, outputs)])
      )
      const run = await runAction(name, inputs, { workspace: ROOT, env, timeoutMs: 60_000 })
      if (step.id) outputs[step.id] = run.outputs
      posts.unshift({ name, inputs, run })
      failed ||= run.code !== 0
      results.push(`${label}: ${run.code === 0 ? 'ok' : `exit ${run.code}\n${run.stdout}`}`)
    } else {
      throw new Error(`${label}: uses ${step.uses}, which this test does not run`)
    }
  }
  // the post steps, last and in reverse order, with each step's state (run-and-wait has one)
  for (const post of posts) {
    const meta = parse(readFileSync(join(ROOT, 'actions', post.name, 'action.yml'), 'utf8')) as {
      runs: { post?: string }
    }
    if (!meta.runs.post) continue
    const run = await runAction(post.name, post.inputs, {
      workspace: ROOT,
      env,
      phase: 'post',
      state: post.run.state
    })
    results.push(`post ${post.name}: ${run.code === 0 ? 'ok' : `exit ${run.code}\n${run.stdout}`}`)
  }

  expect(results).toEqual([
    'actions/checkout@v5: ok',
    'Start the local Control Service: ok',
    './actions/upload-sources: ok',
    './actions/deploy: ok',
    './actions/run-and-wait: ok',
    './actions/fetch-logs: ok',
    './actions/set-properties: ok',
    './actions/validate: ok',
    'Stop the local Control Service: ok',
    'post run-and-wait: ok'
  ])
  // each output fed the next step: the version deployed, the execution that ran and succeeded
  expect(outputs.upload['job-version']).toMatch(/^[0-9a-f]{40}$/)
  expect(outputs.deploy).toMatchObject({
    'job-version': outputs.upload['job-version'],
    'deployment-status': 'live'
  })
  expect(outputs.run).toMatchObject({ status: 'succeeded' })
  expect(outputs.run['execution-id']).not.toBe('')
  // the service the workflow started was stopped by its last step: it exits once it has closed
  // (waited for as an event, with a bound far beyond it: the step's SIGTERM is already sent)
  const pid = Number(readFileSync(join(temp, 'local-service.pid'), 'utf8'))
  expect(await exited(pid, 20_000)).toBe(true)
})

/** Whether process `pid` is gone within `limitMs` (checked every 50 ms). */
async function exited(pid: number, limitMs: number): Promise<boolean> {
  for (let waited = 0; waited < limitMs; waited += 50) {
    try {
      process.kill(pid, 0)
    } catch {
      return true
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return false
}
