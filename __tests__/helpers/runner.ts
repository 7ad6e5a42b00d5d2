// The end-to-end tests run the action bundles under Node 24, the runtime of GitHub Actions.
import { runAction as run, type ActionRun, type RunOptions } from '../../scripts/action-runner.js'
import { node24 } from './node24.js'

export {
  parseAnnotations,
  parseFileCommands,
  parseGroups,
  type ActionRun,
  type RunOptions
} from '../../scripts/action-runner.js'

export const runAction = (
  name: string,
  inputs: Record<string, string>,
  o: RunOptions = {}
): Promise<ActionRun> => run(name, inputs, { node: node24(), ...o })
