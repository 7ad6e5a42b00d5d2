// Shared helpers of the benches (bench/*.mjs): the Node 24 the actions run on, the local Control
// Service, timed child processes (wall time and peak RSS), the machine, tables and output files.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  statfsSync,
  writeFileSync
} from 'node:fs'
import { cpus, loadavg, totalmem, availableParallelism, release, type as osType } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse as parseYaml } from 'yaml'
import { HASH_FILE, sourcesHash } from '../scripts/sources-hash.mjs'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..')
export const outDir = join(root, 'bench', 'out')

export const MiB = 1024 * 1024
export const GiB = 1024 * MiB

const started = performance.now()

/** A progress line: elapsed time since the bench started, then the text. */
export function progress(text) {
  const s = ((performance.now() - started) / 1000).toFixed(1)
  console.log(`${`[${s}s]`.padEnd(9)}${text}`)
}

/** Thrown for a condition the bench cannot go on with; run() prints its message without a stack. */
export class BenchError extends Error {}

/**
 * Runs a bench's main function: a BenchError (or any error) prints, and the process exits 1;
 * cleanups registered with onCleanup run in every case, also on Ctrl-C.
 */
export async function run(main) {
  const stop = signal => {
    console.error(`\nreceived ${signal}, cleaning up`)
    cleanup().finally(() => process.exit(130))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  let code
  try {
    code = (await main()) ?? 0
  } catch (e) {
    console.error(e instanceof BenchError ? `\nFAILED: ${e.message}` : e)
    code = 1
  } finally {
    await cleanup()
  }
  process.exit(code)
}

const cleanups = []
/** Runs at the end (last registered first). */
export function onCleanup(fn) {
  cleanups.push(fn)
}
async function cleanup() {
  while (cleanups.length) {
    const fn = cleanups.pop()
    try {
      await fn()
    } catch (e) {
      console.error(`cleanup: ${e.message}`)
    }
  }
}

/** Checks that the given programs exist; one clear message listing every missing one. */
export function requireTools(tools) {
  const missing = []
  for (const { name, path, hint } of tools) {
    const found = path
      ? existsSync(path)
      : spawnSync('sh', ['-c', `command -v ${name}`]).status === 0
    if (!found) missing.push(`${path ?? name} is not installed${hint ? ` (${hint})` : ''}`)
  }
  if (missing.length) throw new BenchError(`missing tools:\n  ${missing.join('\n  ')}`)
}

/** Refuses to start when `dir`'s file system has less than `bytes` free. */
export function requireFreeSpace(dir, bytes, why) {
  const fs = statfsSync(dir)
  const free = fs.bavail * fs.bsize
  if (free < bytes)
    throw new BenchError(
      `${dir} has ${formatBytes(free)} free, but ${why} needs about ${formatBytes(bytes)}`
    )
  return free
}

let node24
/** The path of a Node 24 binary (BENCH_NODE overrides), as the runner runs `using: node24`. */
export function nodeForActions() {
  if (node24) return node24
  if (process.env.BENCH_NODE) node24 = process.env.BENCH_NODE
  else {
    progress('resolving Node 24 (npx -y node@24) ...')
    let out
    try {
      out = execFileSync('npx', ['-y', 'node@24', '-p', 'process.execPath'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe']
      })
    } catch (e) {
      throw new BenchError(`could not get Node 24 with npx: ${e.stderr || e.message}`)
    }
    node24 = out.trim().split('\n').pop().trim()
  }
  if (!existsSync(node24)) throw new BenchError(`no Node binary at ${node24}`)
  return node24
}

/** The 1-minute load average: other work on the machine skews timings (shown with them). */
export function load() {
  return loadavg()[0].toFixed(2)
}

/** The version a Node binary reports. */
export function nodeVersion(node) {
  return execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()
}

/** CPU, cores, memory and OS, for the header of a report. */
export function machine() {
  const list = cpus()
  const model = list[0]?.model?.trim() || 'unknown CPU'
  let modelName = model
  try {
    // os.cpus() may give a terse model under a hypervisor; lscpu's "Model name" is the same source.
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find(l => l.startsWith('model name'))
    if (line) modelName = line.split(':')[1].trim()
  } catch {
    // not Linux: os.cpus() it is
  }
  return {
    cpu: modelName,
    cores: list.length,
    parallelism: availableParallelism(),
    memory: formatBytes(totalmem()),
    os: `${osType()} ${release()}`
  }
}

/**
 * Starts the local Control Service (the committed bundle) on a free port; stopped at cleanup.
 * Without `dataDir` its state stays in memory (nothing written per request); `nodeArgs` go to
 * Node before the bundle (e.g. --cpu-prof).
 */
export async function startEmulator({ node, dataDir, args = [], nodeArgs = [] }) {
  const child = spawn(
    node,
    [
      ...nodeArgs,
      join(root, 'dist/emulator/index.js'),
      '--port',
      '0',
      ...(dataDir ? ['--data-dir', dataDir] : []),
      ...args
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] }
  )
  let log = ''
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new BenchError(`the local Control Service did not start:\n${log}`)),
      20000
    )
    const onData = chunk => {
      log += chunk
      const m = /listening on (http:\/\/\S+)/.exec(log)
      if (m) {
        clearTimeout(timer)
        resolve(m[1])
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', code => {
      clearTimeout(timer)
      reject(new BenchError(`the local Control Service exited with code ${code}:\n${log}`))
    })
  })
  let stopped = false
  child.once('exit', (code, signal) => {
    if (!stopped) progress(`WARNING: the local Control Service ended (${signal ?? code}):\n${log}`)
  })
  const stop = async () => {
    if (stopped || child.exitCode !== null) return
    stopped = true
    const ended = new Promise(r => child.once('exit', r))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await ended
    clearTimeout(timer)
  }
  onCleanup(stop)
  return { url, child, stop, log: () => log }
}

/**
 * Runs `cmd args` under /usr/bin/time: wall seconds (measured here, around the process), peak RSS
 * in MiB (time's %M, the process' maximum resident set), exit code, stdout and stderr. Prints a
 * "still running" line every `tickSeconds` (0: never). With `outFile`, stdout and stderr go to
 * that file instead of memory (many processes at once, each printing megabytes) and come back ''.
 */
export async function timed(
  cmd,
  args,
  { cwd, env, label, timeFile, tickSeconds = 15, outFile } = {}
) {
  const t0 = performance.now()
  const out = outFile ? openSync(outFile, 'w') : 'pipe'
  const child = spawn('/usr/bin/time', ['-f', '%e %M', '-o', timeFile, cmd, ...args], {
    cwd,
    env,
    stdio: ['ignore', out, out]
  })
  if (outFile) closeSync(out)
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', c => (stdout += c))
  child.stderr?.on('data', c => (stderr += c))
  const ticker =
    tickSeconds > 0
      ? setInterval(
          () =>
            progress(
              `  ... ${label ?? cmd} still running (${((performance.now() - t0) / 1000).toFixed(0)} s)`
            ),
          tickSeconds * 1000
        )
      : undefined
  const { code, signal } = await new Promise(resolve =>
    child.once('exit', (code, signal) => resolve({ code, signal }))
  )
  clearInterval(ticker)
  const wall = (performance.now() - t0) / 1000
  // time writes "Command exited with non-zero status N" before the format line on failure.
  const line = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? ''
  const [, kib] = line.split(/\s+/).map(Number)
  return {
    code,
    signal,
    wall,
    rssMiB: Number.isFinite(kib) ? kib / 1024 : NaN,
    stdout,
    stderr
  }
}

/** The outputs of an action, from the file GITHUB_OUTPUT named (`name<<delim\nvalue\ndelim`). */
export function parseGithubOutput(text) {
  const out = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^=<]+)<<(.+)$/.exec(lines[i])
    if (m) {
      const [, name, delim] = m
      const value = []
      for (i++; i < lines.length && lines[i] !== delim; i++) value.push(lines[i])
      out[name] = value.join('\n')
    } else if (lines[i].includes('=')) {
      const at = lines[i].indexOf('=')
      out[lines[i].slice(0, at)] = lines[i].slice(at + 1)
    }
  }
  return out
}

export function formatBytes(n) {
  if (n >= GiB) return `${(n / GiB).toFixed(2)} GiB`
  if (n >= MiB) return `${(n / MiB).toFixed(1)} MiB`
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`
  return `${n} B`
}

/** A plain-text table; columns listed in `right` are right-aligned. */
export function table(headers, rows, right = []) {
  const cells = [headers, ...rows].map(r => r.map(String))
  const widths = headers.map((_, i) => Math.max(...cells.map(r => r[i].length)))
  const line = r =>
    r
      .map((c, i) => (right.includes(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd()
  return [
    line(cells[0]),
    widths.map(w => '-'.repeat(w)).join('  '),
    ...cells.slice(1).map(line)
  ].join('\n')
}

/** Writes a bench's results as JSON under bench/out/ (ignored by git); the path. */
export function writeResults(name, data) {
  mkdirSync(outDir, { recursive: true })
  const file = join(outDir, `${name}.json`)
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`)
  return file
}

/** The middle value (the mean of the two middle ones for an even count); NaN for none. */
export function median(values) {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b)
  if (!v.length) return NaN
  const mid = Math.floor(v.length / 2)
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2
}

/**
 * The environment the GitHub runner gives a `node24` action step, as scripts/action-runner.ts
 * builds it: this process's environment without INPUT_/STATE_/GITHUB_/RUNNER_/VDK_ variables or
 * proxies, the file commands (GITHUB_OUTPUT, GITHUB_STATE, GITHUB_STEP_SUMMARY, GITHUB_ENV,
 * GITHUB_PATH; created empty in `dir`), the runner's GITHUB_* variables, INPUT_<NAME> for every
 * input default of the action.yml at `actionYml` (except `${{ }}` expressions; none without one),
 * then `inputs`.
 */
export function runnerEnv({ actionYml, inputs = {}, dir, workspace, extra = {} }) {
  const meta = actionYml ? parseYaml(readFileSync(actionYml, 'utf8')) : {}
  const files = {
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STATE: join(dir, 'state'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    GITHUB_ENV: join(dir, 'env'),
    GITHUB_PATH: join(dir, 'path')
  }
  mkdirSync(dir, { recursive: true })
  for (const f of Object.values(files)) writeFileSync(f, '')
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(INPUT_|STATE_|GITHUB_|RUNNER_|ACTIONS_|VDK_)/i.test(k) && !/_proxy$/i.test(k)
    )
  )
  Object.assign(env, files, {
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    RUNNER_TEMP: dir,
    RUNNER_OS: 'Linux',
    GITHUB_WORKSPACE: workspace,
    GITHUB_REPOSITORY: 'acme/data-jobs',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_WORKFLOW: 'bench',
    GITHUB_ACTOR: 'octocat',
    GITHUB_ACTION: 'bench'
  })
  for (const [k, spec] of Object.entries(meta.inputs ?? {})) {
    const d = spec?.default
    const value = ['string', 'number', 'boolean'].includes(typeof d) ? String(d) : undefined
    if (value !== undefined && !value.includes('${{')) env[`INPUT_${k.toUpperCase()}`] = value
  }
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v
  Object.assign(env, extra)
  return { env, files, main: meta.runs?.main, post: meta.runs?.post }
}

/** GNU time, which the benches measure peak RSS with (requireTools). */
export const GNU_TIME = {
  name: 'time',
  path: '/usr/bin/time',
  hint: 'GNU time measures peak RSS: apt-get install time'
}

/** An option value that is a whole number above 0 (e.g. --runs=<n>), for parseArgs. */
export const wholeNumber = v => (/^[1-9]\d*$/.test(v) ? Number(v) : undefined)

/**
 * A bench's arguments: --quick, --help (-h), `flags` (`--name` sets `flags[name]` true) and
 * `options` (`--name=value` sets `options[name][0]` to `options[name][1](value)`, which returns
 * undefined for a value it does not take). Anything else prints the usage and fails.
 */
export function parseArgs(args, usage, { flags = {}, options = {} } = {}) {
  const o = { quick: false, help: false }
  const bad = []
  for (const a of args) {
    const [k, v] = a.split(/=(.*)/s)
    const option = v === undefined ? undefined : options[k]
    const value = option?.[1](v)
    if (a === '--quick') o.quick = true
    else if (a === '--help' || a === '-h') o.help = true
    else if (v === undefined && Object.hasOwn(flags, k)) o[flags[k]] = true
    else if (option && value !== undefined) o[option[0]] = value
    else bad.push(a)
  }
  if (bad.length) {
    usage()
    throw new BenchError(`unknown argument(s): ${bad.join(' ')}`)
  }
  return o
}

/** Which bundle a bench measured: its git blob id, and whether it differs from the committed one. */
export function bundleIdentity(file) {
  const git = args => spawnSync('git', args, { cwd: root, encoding: 'utf8' })
  const blob = git(['hash-object', file]).stdout.trim() || 'unknown'
  const changed = git(['diff', '--quiet', 'HEAD', '--', file]).status === 1
  return { blob, changed }
}

/**
 * Why the bundle in `dir` (e.g. dist/run-and-wait) is not built from the working tree's sources
 * (its sources.sha256, scripts/build.mjs), or undefined when it is: a bench must not measure a
 * stale bundle.
 */
export function staleBundle(dir) {
  const file = join(dir, HASH_FILE)
  if (!existsSync(join(dir, 'index.js'))) return `${dir}/index.js does not exist: run npm run build`
  if (!existsSync(file)) return `${dir} records no hash of its sources: run npm run build`
  if (readFileSync(file, 'utf8').trim() !== sourcesHash(root))
    return `${dir} was built from other sources than the working tree: run npm run build`
  return undefined
}

/** The memory the kernel says can be used without swapping (MemAvailable), in bytes. */
export function memAvailable() {
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))
  return m ? Number(m[1]) * 1024 : NaN
}

/** CPU seconds (user + system) a running process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // the fields after the command name (which may hold spaces), from the last ')'
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS
  } catch {
    return NaN
  }
}
const CLOCK_TICKS =
  Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100

/** A process' peak resident set so far (VmHWM), in MiB. */
export function peakRssMiB(pid) {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : NaN
  } catch {
    return NaN
  }
}
