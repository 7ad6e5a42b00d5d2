#!/usr/bin/env node
// Builds one self-contained ncc bundle per action entry point:
//
//   src/entries/<name>.ts  ->  <out>/<name>/index.js       (ESM, because the package is "type": "module")
//                              <out>/<name>/package.json   ({"type":"module"}, written by ncc)
//                              <out>/<name>/licenses.txt   (licenses of the bundled packages)
//                              <out>/<name>/sources.sha256 (the hash of the sources it was built
//                                                           from: scripts/sources-hash.mjs)
//
// Usage: node scripts/build.mjs [--out <dir>] [<name>...]
//   --out <dir>  output folder, relative to the repository root (default: dist)
//   <name>...    build only these entries (stale folders are then left alone)
//
// Decisions:
// - no minify, no source maps: dist/ is committed and reviewed, so bundles stay readable and
//   diff-friendly (a source map would only duplicate the sources).
// - full ts-loader compile, NOT --transpile-only: with `module: NodeNext`, transpile-only emits
//   CommonJS (ts.transpileModule cannot see "type": "module"), which breaks ESM-only dependencies
//   and top-level await. Side effect: a type error anywhere in the tsconfig program (src/,
//   __tests__/, bench/) fails the build, just like `npm run typecheck`.
// - --no-cache: nothing is written to ~/.cache/ncc (a warm cache saved no time here), so every
//   build, including the one in `npm run check-dist`, starts from the same state.
// - bundles must not depend on where the repository is checked out: ncc runs with the
//   repository root as cwd and gets a relative entry path (webpack's module comments and ids
//   are relative to the cwd).
// - each bundle records the hash of the sources it was built from (taken before the build starts,
//   so an edit during the build leaves it stale), which the end-to-end tests check: they refuse a
//   bundle older than its sources. Per bundle, so that building a few entries stays truthful.
// Entries are built by separate ncc processes, CONCURRENCY at a time.

import { spawn } from 'node:child_process'
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { HASH_FILE, sourcesHash } from './sources-hash.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const ENTRIES_DIR = path.join(ROOT, 'src', 'entries')
const NCC_CLI = path.join(ROOT, 'node_modules', '@vercel', 'ncc', 'dist', 'ncc', 'cli.js')
const CONCURRENCY = Math.max(1, Number(process.env.BUILD_CONCURRENCY) || 2)

function fail(message) {
  console.error(`build: ${message}`)
  process.exit(1)
}

function parseArgs(argv) {
  let out = 'dist'
  const names = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--out') {
      if (i + 1 >= argv.length) fail('--out needs a directory')
      out = argv[++i]
    } else if (arg.startsWith('--out=')) {
      out = arg.slice('--out='.length)
    } else if (arg.startsWith('-')) {
      fail(`unknown option ${arg} (usage: build.mjs [--out <dir>] [<name>...])`)
    } else {
      names.push(arg.replace(/\.ts$/, ''))
    }
  }
  return { outDir: path.resolve(ROOT, out), names }
}

function listEntries() {
  if (!existsSync(ENTRIES_DIR)) return []
  return readdirSync(ENTRIES_DIR, { withFileTypes: true })
    .filter(d => d.isFile() && d.name.endsWith('.ts') && !/\.(d|test|spec)\.ts$/.test(d.name))
    .map(d => d.name.slice(0, -'.ts'.length))
    .sort()
}

function dirSize(dir) {
  let bytes = 0
  let files = 0
  for (const d of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (d.isFile()) {
      bytes += statSync(path.join(d.parentPath ?? d.path, d.name)).size
      files++
    }
  }
  return { bytes, files }
}

const kB = bytes => `${(bytes / 1024).toFixed(1)} kB`

function buildOne(name, outDir, hash) {
  const target = path.join(outDir, name)
  const args = [
    NCC_CLI,
    'build',
    // relative to ROOT (the cwd) so that nothing machine-specific can leak into the bundle
    path.posix.join('src', 'entries', `${name}.ts`),
    '-o',
    target,
    '--license',
    'licenses.txt',
    '--no-cache',
    '--quiet'
  ]
  // a failed build leaves no hash behind: the bundle then counts as stale
  rmSync(path.join(target, HASH_FILE), { force: true })
  const started = performance.now()
  return new Promise(resolve => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', chunk => (output += chunk))
    child.stderr.on('data', chunk => (output += chunk))
    child.on('error', err => resolve({ name, ok: false, output: String(err) }))
    child.on('close', code => {
      const seconds = (performance.now() - started) / 1000
      const ok = code === 0 && existsSync(path.join(target, 'index.js'))
      if (ok) writeFileSync(path.join(target, HASH_FILE), `${hash}\n`)
      resolve({ name, ok, output, seconds, target })
    })
  })
}

async function runPool(items, limit, worker) {
  const results = []
  let next = 0
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await worker(items[i])
    }
  })
  await Promise.all(lanes)
  return results
}

function removeStale(outDir, entries) {
  if (!existsSync(outDir)) return
  for (const d of readdirSync(outDir, { withFileTypes: true })) {
    if (d.isDirectory() && !entries.includes(d.name)) {
      rmSync(path.join(outDir, d.name), { recursive: true, force: true })
      console.log(
        `removed ${path.relative(ROOT, path.join(outDir, d.name)) || d.name}/ (no src/entries/${d.name}.ts)`
      )
    }
  }
}

async function main() {
  const { outDir, names } = parseArgs(process.argv.slice(2))
  // guard against `--out .`, `--out src` or `--out ..`: stale-folder removal would delete them
  const rel = path.relative(ROOT, outDir)
  const inside = (parent, child) => !path.relative(parent, child).startsWith('..')
  if (inside(outDir, ROOT) || /^(src|__tests__|scripts|node_modules|\.git)(\/|$)/.test(rel)) {
    fail(`refusing to write bundles into ${outDir}`)
  }
  if (!existsSync(NCC_CLI)) fail(`ncc not found at ${NCC_CLI}; run npm ci`)

  const entries = listEntries()
  const unknown = names.filter(n => !entries.includes(n))
  if (unknown.length > 0)
    fail(`no such entry: ${unknown.map(n => `src/entries/${n}.ts`).join(', ')}`)
  const selected = names.length > 0 ? names : entries

  if (names.length === 0) removeStale(outDir, entries)
  if (selected.length === 0) {
    console.log('no entries in src/entries/, nothing to build')
    return
  }

  const started = performance.now()
  const hash = sourcesHash(ROOT)
  const results = await runPool(selected, CONCURRENCY, name => buildOne(name, outDir, hash))
  const shown = file => {
    const rel = path.relative(process.cwd(), file)
    return rel.startsWith('..') ? file : rel.split(path.sep).join('/') || '.'
  }
  let failed = 0
  for (const r of results) {
    if (r.ok) {
      const js = statSync(path.join(r.target, 'index.js')).size
      const all = dirSize(r.target)
      console.log(
        `${shown(path.join(r.target, 'index.js')).padEnd(36)} ${kB(js).padStart(10)}` +
          `  (${all.files} files, ${kB(all.bytes)} total, ${r.seconds.toFixed(1)} s)`
      )
      if (r.output.trim()) console.log(r.output.trimEnd())
    } else {
      failed++
      // drop ncc's internal stack frames, keep the messages
      const message = r.output
        .split('\n')
        .filter(line => !/^\s+at /.test(line))
        .join('\n')
        .trimEnd()
      console.error(`FAILED ${r.name} (src/entries/${r.name}.ts):\n${message}`)
    }
  }
  const total = ((performance.now() - started) / 1000).toFixed(1)
  if (failed > 0) fail(`${failed} of ${selected.length} bundle(s) failed`)
  console.log(`built ${selected.length} bundle(s) into ${shown(outDir)}/ in ${total} s`)
}

await main()
