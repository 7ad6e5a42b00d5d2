// The hash of what a bundle is built from: every file under src/, package-lock.json (the bundled
// packages), tsconfig.json and the build script. scripts/build.mjs writes it beside each bundle
// (dist/<name>/sources.sha256), and the end-to-end tests compare it with the working tree so that
// they never run a bundle older than its sources. Contents only, never mtimes: a fresh clone gives
// every file the time of the checkout.
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** The file beside each bundle that holds the hash of the sources it was built from. */
export const HASH_FILE = 'sources.sha256'

/** The files a build reads, relative to the repository root with '/', sorted. */
export function buildInputs(root = ROOT) {
  const files = ['package-lock.json', 'tsconfig.json', 'scripts/build.mjs'].filter(f =>
    existsSync(path.join(root, f))
  )
  for (const d of readdirSync(path.join(root, 'src'), { withFileTypes: true, recursive: true }))
    if (d.isFile())
      files.push(
        path
          .relative(root, path.join(d.parentPath ?? d.path, d.name))
          .split(path.sep)
          .join('/')
      )
  return files.sort()
}

/** sha256 over each input's path and bytes, in order: the same on any machine and checkout. */
export function sourcesHash(root = ROOT) {
  const hash = createHash('sha256')
  for (const file of buildInputs(root)) {
    const bytes = readFileSync(path.join(root, file))
    hash.update(`${file}\0${bytes.length}\0`)
    hash.update(bytes)
  }
  return hash.digest('hex')
}
