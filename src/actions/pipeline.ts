// The root action: the common on-merge pipeline for one job in one step — deploy (which uploads
// and waits until live), then optionally run-and-wait and set-properties. It is made of the
// single actions' own definitions: the same input names, the same checks, the same core calls.
import type { InputSource, Problems } from '../core/connection.js'
import { parseBoolean } from '../core/connection.js'
import { deploy, type DeployConfig } from './deploy.js'
import { runAndWait, type RunConfig } from './run-and-wait.js'
import { joined, type ActionDefinition, type Outcome, type SummaryTable } from './runtime.js'
import { setProperties, type SetPropertiesConfig } from './set-properties.js'

export interface PipelineConfig {
  deploy: DeployConfig
  run?: RunConfig
  properties?: SetPropertiesConfig
}

/** The inputs as one part sees them: `names` maps its input names to the pipeline's ("" = unset). */
function renamed(src: InputSource, names: Record<string, string>): InputSource {
  return {
    ...src,
    input: name => (name in names ? (names[name] ? src.input(names[name]) : '') : src.input(name))
  }
}

/** Problems as the user reads them: a part's input names replaced by the pipeline's. */
function saying(problems: Problems, names: Record<string, string>): Problems {
  const view = Object.create(problems) as Problems
  view.add = (message: string) => {
    const name = Object.keys(names).find(n => names[n] && message.startsWith(`${n} `))
    problems.add(name ? `${names[name]}${message.slice(name.length)}` : message)
  }
  return view
}

/** Whether any set-properties input is given. */
const hasProperties = (src: InputSource): boolean =>
  ['properties', 'properties-file', 'remove', 'secrets'].some(n => src.input(n) !== '')

export const pipeline: ActionDefinition<PipelineConfig> = {
  name: 'vdk-actions',

  async config(src: InputSource, problems: Problems): Promise<PipelineConfig> {
    const run = parseBoolean('run', src.input('run'), false, problems)
    // every part checks its inputs (the shared ones are said once); the whole is checked at the end
    const parts = problems.deferred()
    // the inputs that two parts would read with different meanings have their own names here
    const forDeploy = { wait: '', 'timeout-seconds': 'deploy-timeout-seconds' }
    const forRun = { wait: 'run-wait', 'timeout-seconds': 'run-timeout-seconds' }
    const forProperties = {
      mode: 'properties-mode',
      'dry-run': '',
      'show-values': 'properties-show-values'
    }
    const d = await deploy.config(renamed(src, forDeploy), saying(parts, forDeploy))
    // the run's inputs are checked even with run: false; a wrong value is wrong either way
    const r = await runAndWait.config(renamed(src, forRun), saying(parts, forRun))
    const p = hasProperties(src)
      ? await setProperties.config(renamed(src, forProperties), saying(parts, forProperties))
      : undefined
    problems.check()
    return { deploy: d, run: run ? r : undefined, properties: p }
  },

  connection: c => c.deploy.connection,

  async run(c, ctx) {
    const tables: SummaryTable[] = []
    const outputs: Outcome['outputs'] = {}
    const parts: Array<[string, () => Promise<Outcome>]> = [
      ['deploy', () => deploy.run(c.deploy, ctx)]
    ]
    if (c.run) {
      const run = c.run
      parts.push(['run-and-wait', () => runAndWait.run(run, ctx)])
    }
    if (c.properties) {
      const props = c.properties
      parts.push(['set-properties', () => setProperties.run(props, ctx)])
    }
    for (const [name, part] of parts) {
      ctx.info(`— ${name} —`)
      const outcome = await part()
      Object.assign(outputs, outcome.outputs)
      if (outcome.summary) tables.push(outcome.summary)
      if (outcome.failure)
        return {
          outputs,
          summary: merge(tables),
          failure: `${name}: ${outcome.failure}`,
          annotations: outcome.annotations
        }
    }
    return { outputs, summary: merge(tables) }
  },

  post: (c, ctx) =>
    c.run ? (runAndWait.post?.(c.run, ctx) ?? Promise.resolve()) : Promise.resolve()
}

/** One table: the rows of each part under its own heading. */
function merge(tables: SummaryTable[]): SummaryTable | undefined {
  if (!tables.length) return undefined
  return {
    heading: 'VDK data job pipeline',
    columns: ['Step', 'Result'],
    rows: tables.map(t => [
      t.heading,
      joined(
        t.rows.map(r => joined(r, ' · ')),
        'line'
      )
    ])
  }
}
