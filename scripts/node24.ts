// The Node 24 binary (the GitHub Actions runtime) that the end-to-end tests and the demo run the
// bundles with.
// NODE24 may name it; otherwise `npx -y node@24` fetches it from the npm registry once.
import { execFileSync } from 'node:child_process'

let cached: string | undefined

export function node24(): string {
  if (cached) return cached
  if (process.env.NODE24) return (cached = process.env.NODE24)
  if (process.versions.node.startsWith('24.')) return (cached = process.execPath)
  const out = execFileSync('npx', ['-y', 'node@24', '-p', 'process.execPath'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 180_000
  })
  const path = out.trim().split('\n').pop()
  if (!path) throw new Error('npx -y node@24 did not print the path of a Node 24 binary')
  return (cached = path)
}
