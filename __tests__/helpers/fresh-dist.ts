// The guard of the end-to-end tests against a stale dist/: a bundle records the hash of the
// sources it was built from (scripts/build.mjs), and a test that would run it first compares that
// hash with the working tree's. A bundle built from other sources fails the test with one line
// saying what to run, instead of testing code that is no longer there.
import { existsSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { HASH_FILE, sourcesHash } from '../../scripts/sources-hash.mjs'

const ROOT = join(import.meta.dirname, '..', '..')

/** The working tree's hash, once per test file: the sources do not change while it runs. */
let current: string | undefined

/** Why the bundle in `bundleDir` may not be run, or undefined when it is fresh. */
export function staleBundle(bundleDir: string): string | undefined {
  const shown = relative(ROOT, bundleDir) || bundleDir
  const file = join(bundleDir, HASH_FILE)
  if (!existsSync(join(bundleDir, 'index.js')))
    return `${shown}/index.js does not exist: run \`npm run build\``
  if (!existsSync(file))
    return `${shown} records no hash of its sources (${HASH_FILE}): run \`npm run build\``
  current ??= sourcesHash(ROOT)
  if (readFileSync(file, 'utf8').trim() !== current)
    return `${shown} was built from other sources than the working tree (src/, package-lock.json, tsconfig.json, scripts/build.mjs): run \`npm run build\``
  return undefined
}

/** Throws the one line of `staleBundle` when the bundle in `bundleDir` is not fresh. */
export function expectFreshBundle(bundleDir: string): void {
  const why = staleBundle(bundleDir)
  if (!why) return
  const error = new Error(why)
  // the line says it all: no stack, so jest shows no code frame under it
  error.stack = why
  throw error
}
