// The end-to-end tests run the action bundles under Node 24, the runtime of GitHub Actions. A
// bundle older than its sources is refused (helpers/fresh-dist.ts), and every run goes through the
// leak scan (helpers/leaks.ts): a token or secret in what it printed or wrote fails the test.
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import {
  ROOT,
  runAction as run,
  type ActionRun,
  type RunOptions
} from '../../scripts/action-runner.js'
import { parse } from 'yaml'
import { expectFreshBundle } from './fresh-dist.js'
import { findLeaks, registerSecret, SECRET_NAME } from './leaks.js'
import { node24 } from './node24.js'

export {
  parseAnnotations,
  parseFileCommands,
  parseGroups,
  type ActionRun,
  type RunOptions
} from '../../scripts/action-runner.js'

/** The string values of a `secrets` input (YAML or JSON); none when it does not parse. */
function secretValues(text: string): string[] {
  try {
    const map: unknown = parse(text)
    if (map === null || typeof map !== 'object') return []
    return Object.values(map).filter((v): v is string => typeof v === 'string')
  } catch {
    return []
  }
}

/** The folder of the bundle that action `name` ('' for the root action.yml) runs. */
function bundleOf(name: string, phase: RunOptions['phase']): string {
  const dir = name === '' || name === '.' ? ROOT : join(ROOT, 'actions', name)
  const meta = parse(readFileSync(join(dir, 'action.yml'), 'utf8')) as {
    runs: { main: string; post?: string }
  }
  return dirname(join(dir, (phase === 'post' ? meta.runs.post : undefined) ?? meta.runs.main))
}

export async function runAction(
  name: string,
  inputs: Record<string, string>,
  o: RunOptions = {}
): Promise<ActionRun> {
  expectFreshBundle(bundleOf(name, o.phase))
  for (const [k, v] of [...Object.entries(inputs), ...Object.entries(o.env ?? {})])
    if (SECRET_NAME.test(k)) registerSecret(v, ...secretValues(v))
  const result = await run(name, inputs, { node: node24(), ...o })
  const leaks = findLeaks(result)
  if (leaks.length)
    throw new Error(`${name || 'the root action'} leaked a secret: ${leaks.join('; ')}`)
  return result
}
