// Runs a committed action bundle the way the GitHub runner does: INPUT_* with the action.yml
// defaults, the file commands (GITHUB_OUTPUT, GITHUB_STATE, GITHUB_STEP_SUMMARY), the runner's
// GITHUB_* variables, and optionally signals (the runner sends SIGINT, then SIGTERM 7.5 s later).
// Used by the end-to-end tests (under Node 24) and by `npm run demo`.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'

export const ROOT = join(import.meta.dirname, '..')

export interface ActionRun {
  code: number | null
  stdout: string
  outputs: Record<string, string>
  state: Record<string, string>
  summary: string
  /** `::error file=…,line=…::message` and `::warning …` commands. */
  annotations: Array<{ level: string; file?: string; line?: number; message: string }>
  /** The lines a person reads: stdout without workflow commands. */
  log: string
}

export interface ActionYaml {
  inputs?: Record<string, { default?: unknown } | null>
  runs: { main: string; post?: string }
}

/** The folder of action `name` ('' or '.': the root action.yml) and its action.yml. */
export function actionYaml(name: string): { dir: string; meta: ActionYaml } {
  const dir = name === '' || name === '.' ? ROOT : join(ROOT, 'actions', name)
  return { dir, meta: parse(readFileSync(join(dir, 'action.yml'), 'utf8')) as ActionYaml }
}

/**
 * The inputs as the runner gives them when a workflow sets none: each action.yml default that is
 * a plain value (one with an expression, such as ${{ github.token }}, is left unset).
 */
export function defaultInputs(meta: ActionYaml): Record<string, string> {
  const inputs: Record<string, string> = {}
  for (const [k, spec] of Object.entries(meta.inputs ?? {})) {
    const d = spec?.default
    const value =
      typeof d === 'string' || typeof d === 'number' || typeof d === 'boolean'
        ? String(d)
        : undefined
    if (value !== undefined && !value.includes('${{')) inputs[k] = value
  }
  return inputs
}

/** The runner's variables of a workflow run, as the tests' runs see them. */
export const runnerVariables = (name: string, workspace: string): Record<string, string> => ({
  GITHUB_ACTIONS: 'true',
  CI: 'true',
  RUNNER_OS: 'Linux',
  GITHUB_WORKSPACE: workspace,
  GITHUB_REPOSITORY: 'acme/data-jobs',
  GITHUB_RUN_ID: '4242',
  GITHUB_RUN_ATTEMPT: '1',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
  GITHUB_WORKFLOW: 'deploy data jobs',
  GITHUB_ACTOR: 'octocat',
  GITHUB_ACTION: name || 'root'
})

export function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^=<]+)<<(.+)$/.exec(lines[i])
    if (heredoc) {
      const value: string[] = []
      for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) value.push(lines[i])
      out[heredoc[1]] = value.join('\n')
    } else if (lines[i].includes('=')) {
      const at = lines[i].indexOf('=')
      out[lines[i].slice(0, at)] = lines[i].slice(at + 1)
    }
  }
  return out
}

const unescape = (s: string): string =>
  s
    .replace(/%0A/g, '\n')
    .replace(/%0D/g, '\r')
    .replace(/%3A/g, ':')
    .replace(/%2C/g, ',')
    .replace(/%25/g, '%')

export function parseAnnotations(stdout: string): ActionRun['annotations'] {
  const out: ActionRun['annotations'] = []
  for (const line of stdout.split('\n')) {
    const m = /^::(error|warning|notice)(?: ([^:]*))?::(.*)$/.exec(line)
    if (!m) continue
    const props = Object.fromEntries(
      (m[2] ?? '')
        .split(',')
        .filter(Boolean)
        .map(p => p.split('='))
        .map(([k, v]) => [k, unescape(v)])
    )
    out.push({
      level: m[1],
      file: props.file,
      line: props.line ? Number(props.line) : undefined,
      message: unescape(m[3])
    })
  }
  return out
}

/**
 * The lines printed inside ::group:: … ::endgroup:: blocks, in order, as the runner shows them
 * (the ::stop-commands:: markers that keep log lines from acting as commands left out), and the
 * groups' titles. Throws on a group opened twice or left open.
 */
export function parseGroups(stdout: string): { lines: string[]; groups: string[] } {
  const lines: string[] = []
  const groups: string[] = []
  let inside = false
  let stopToken: string | undefined
  for (const line of stdout.split('\n')) {
    if (stopToken) {
      if (line === `::${stopToken}::`) stopToken = undefined
      else if (inside) lines.push(line)
      continue
    }
    const stop = /^::stop-commands::(.+)$/.exec(line)
    if (stop) stopToken = stop[1]
    else if (line.startsWith('::group::')) {
      if (inside) throw new Error('a group was opened inside another')
      inside = true
      groups.push(unescape(line.slice('::group::'.length)))
    } else if (line === '::endgroup::') {
      if (!inside) throw new Error('::endgroup:: without a group')
      inside = false
    } else if (inside) lines.push(line)
  }
  if (inside || stopToken) throw new Error('a group or a stop-commands block was left open')
  return { lines, groups }
}

export interface RunOptions {
  env?: Record<string, string>
  phase?: 'main' | 'post'
  state?: Record<string, string>
  workspace?: string
  timeoutMs?: number
  /** Send these signals, the first after `signalAfterMs`, the next 7.5 s later (as the runner). */
  signalAfterMs?: number
  signals?: NodeJS.Signals[]
  /** The Node binary (default: this process's). */
  node?: string
  /** Called with each chunk of the step's output as it comes. */
  onOutput?: (chunk: string) => void
  /** Called with the step's process once it is spawned (to signal it at a moment of one's own). */
  onSpawn?: (child: ChildProcess) => void
}

export async function runAction(
  name: string,
  inputs: Record<string, string>,
  o: RunOptions = {}
): Promise<ActionRun> {
  const { dir, meta } = actionYaml(name)
  const entry = o.phase === 'post' ? meta.runs.post : meta.runs.main
  if (!entry) throw new Error(`${name} has no runs.${o.phase ?? 'main'}`)
  const tmp = mkdtempSync(join(tmpdir(), `${name || 'root'}-`))
  const files = {
    GITHUB_OUTPUT: join(tmp, 'output'),
    GITHUB_STATE: join(tmp, 'state'),
    GITHUB_STEP_SUMMARY: join(tmp, 'summary'),
    GITHUB_ENV: join(tmp, 'env'),
    GITHUB_PATH: join(tmp, 'path')
  }
  for (const f of Object.values(files)) writeFileSync(f, '')
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(INPUT_|STATE_|GITHUB_|RUNNER_|VDK_)/.test(k)) env[k] = v
  }
  Object.assign(env, files, { RUNNER_TEMP: tmp }, runnerVariables(name, o.workspace ?? ROOT))
  for (const [k, v] of Object.entries({ ...defaultInputs(meta), ...inputs }))
    env[`INPUT_${k.toUpperCase()}`] = v
  for (const [k, v] of Object.entries(o.state ?? {})) env[`STATE_${k}`] = v
  Object.assign(env, o.env)

  const child = spawn(o.node ?? process.execPath, [join(dir, entry)], {
    env,
    cwd: o.workspace ?? ROOT,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  o.onSpawn?.(child)
  let stdout = ''
  const take = (c: Buffer): void => {
    stdout += c.toString()
    o.onOutput?.(c.toString())
  }
  child.stdout.on('data', take)
  child.stderr.on('data', take)
  const timers: NodeJS.Timeout[] = []
  if (o.signalAfterMs !== undefined) {
    ;(o.signals ?? ['SIGINT']).forEach((sig, i) =>
      timers.push(setTimeout(() => child.kill(sig), o.signalAfterMs! + i * 7500))
    )
  }
  const kill = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000)
  const code = await new Promise<number | null>(resolve => child.on('close', c => resolve(c)))
  clearTimeout(kill)
  timers.forEach(clearTimeout)
  return {
    code,
    stdout,
    outputs: parseFileCommands(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
    state: parseFileCommands(readFileSync(files.GITHUB_STATE, 'utf8')),
    summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
    annotations: parseAnnotations(stdout),
    log: stdout
      .split('\n')
      .filter(l => !l.startsWith('::'))
      .join('\n')
  }
}
