#!/usr/bin/env node
// Checks that the committed dist/ is exactly what `npm run build` produces from the current sources:
// builds into a temporary folder (scripts/build.mjs --out <tmp>) and compares it with dist/ file
// by file, in both directions (each bundle's sources.sha256 included: a dist/ committed without a
// rebuild after a change to src/ fails here too). Exits 1 and lists the files if anything is
// missing, extra or different.
//
// Usage: node scripts/check-dist.mjs [--keep] [--twice]
//   --keep   keep the temporary build for inspection (its path is printed)
//   --twice  build twice and first check that the two builds are byte-identical (determinism)

import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const DIST = path.join(ROOT, 'dist')
const BUILD = path.join(ROOT, 'scripts', 'build.mjs')

const args = process.argv.slice(2)
const keep = args.includes('--keep')
const twice = args.includes('--twice')
const unknown = args.filter(a => a !== '--keep' && a !== '--twice')
if (unknown.length > 0) {
  console.error(`check-dist: unknown argument(s) ${unknown.join(' ')} (usage: [--keep] [--twice])`)
  process.exit(2)
}

/** relative posix path -> absolute path, for every file below dir */
function listFiles(dir) {
  const files = new Map()
  if (!existsSync(dir)) return files
  for (const d of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!d.isFile()) continue
    const abs = path.join(d.parentPath ?? d.path, d.name)
    files.set(path.relative(dir, abs).split(path.sep).join('/'), abs)
  }
  return files
}

function firstDifferentLine(a, b) {
  const la = a.toString('utf8').split('\n')
  const lb = b.toString('utf8').split('\n')
  const n = Math.max(la.length, lb.length)
  for (let i = 0; i < n; i++) if (la[i] !== lb[i]) return i + 1
  return undefined
}

/** Compares two trees; returns human-readable lines, empty when identical. */
function compare(expectedDir, actualDir, expectedName, actualName) {
  const expected = listFiles(expectedDir)
  const actual = listFiles(actualDir)
  const problems = []
  const names = [...new Set([...expected.keys(), ...actual.keys()])].sort()
  for (const name of names) {
    const e = expected.get(name)
    const a = actual.get(name)
    if (!a) {
      problems.push(
        `missing   ${actualName}/${name}  (produced by the build, not in ${actualName}/)`
      )
    } else if (!e) {
      problems.push(
        `extra     ${actualName}/${name}  (in ${actualName}/, not produced by the build)`
      )
    } else {
      const eb = readFileSync(e)
      const ab = readFileSync(a)
      if (!eb.equals(ab)) {
        const line = firstDifferentLine(eb, ab)
        problems.push(
          `different ${actualName}/${name}  (${ab.length} bytes in ${actualName}/, ` +
            `${eb.length} bytes in ${expectedName}` +
            `${line ? `; first difference at line ${line}` : ''})`
        )
      }
    }
  }
  return { problems, count: names.length }
}

function build(outDir) {
  const result = spawnSync(process.execPath, [BUILD, '--out', outDir], {
    cwd: ROOT,
    stdio: 'inherit'
  })
  if (result.status !== 0) {
    console.error(`check-dist: the build failed (exit ${result.status ?? result.signal})`)
    return false
  }
  return true
}

function check(tmp) {
  const fresh = path.join(tmp, 'dist')
  if (!build(fresh)) return 1
  if (twice) {
    const again = path.join(tmp, 'dist2')
    if (!build(again)) return 1
    const { problems, count } = compare(fresh, again, 'build 1', 'build 2')
    if (problems.length > 0) {
      console.error('check-dist: two builds in a row differ, the build is not deterministic:')
      for (const p of problems) console.error(`  ${p}`)
      return 1
    }
    console.log(`two builds in a row are identical (${count} files)`)
  }
  const { problems, count } = compare(fresh, DIST, 'a fresh build', 'dist')
  if (problems.length > 0) {
    console.error(`check-dist: dist/ does not match a fresh build (${problems.length} file(s)):`)
    for (const p of problems) console.error(`  ${p}`)
    console.error('Run `npm run build` and commit dist/.')
    return 1
  }
  console.log(`dist/ matches a fresh build (${count} files)`)
  return 0
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'check-dist-'))
let code
try {
  code = check(tmp)
} finally {
  if (keep) console.log(`fresh build kept in ${tmp}`)
  else rmSync(tmp, { recursive: true, force: true })
}
process.exit(code)
