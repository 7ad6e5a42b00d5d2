// npm run bench [-- <name>... ] [-- --flags]: runs every bench (bench/*.mjs but this file and
// lib.mjs), one after the other, each in its own process; arguments starting with "-" go to every
// bench, other arguments pick benches by name (e.g. `npm run bench -- upload --quick`).
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const NOT_BENCHES = new Set(['run.mjs', 'lib.mjs'])

const all = readdirSync(here)
  .filter(f => f.endsWith('.mjs') && !NOT_BENCHES.has(f) && !f.startsWith('_'))
  .map(f => f.slice(0, -'.mjs'.length))
  .sort()
const args = process.argv.slice(2)
const flags = args.filter(a => a.startsWith('-'))
const names = args.filter(a => !a.startsWith('-'))
const unknown = names.filter(n => !all.includes(n))
if (unknown.length) {
  console.error(`no bench named ${unknown.join(', ')}; the benches: ${all.join(', ')}`)
  process.exit(1)
}
const chosen = names.length ? names : all

const failed = []
for (const name of chosen) {
  console.log(`\n=== bench: ${name} ${flags.join(' ')}`.trimEnd())
  const res = spawnSync(process.execPath, [join(here, `${name}.mjs`), ...flags], {
    stdio: 'inherit'
  })
  if (res.status !== 0) failed.push(`${name} (${res.signal ?? `exit ${res.status}`})`)
}
console.log(
  `\n=== ${chosen.length - failed.length} of ${chosen.length} bench(es) passed${failed.length ? `; failed: ${failed.join(', ')}` : ''}`
)
process.exit(failed.length ? 1 : 0)
