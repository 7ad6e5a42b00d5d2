// The root action: the common on-merge pipeline for one job in one step — deploy (which uploads
// and waits until live), then optionally run-and-wait and set-properties. It is made of the
// single actions' own definitions: the same input names, the same checks, the same core calls.
import { parseBoolean, type InputSource, type Problems } from '../core/inputs.js'
import { deploy, type DeployConfig } from './deploy.js'
import { runAndWait, type RunConfig } from './run-and-wait.js'
import { joined, type ActionDefinition, type Outcome, type SummaryTable } from './runtime.js'
import { setProperties, type SetPropertiesConfig } from './set-properties.js'

export interface PipelineConfig {
  deploy: DeployConfig
  run?: RunConfig
  properties?: SetPropertiesConfig
}

/**
 * The names of a part's inputs that the pipeline gives other names: the part's name → the
 * pipeline's ("" = the part sees it unset), for the inputs two parts would read with different
 * meanings.
 */
type PartNames = Record<string, string>

/** The inputs as one part sees them: its renamed inputs read under the pipeline's names. */
function partInputs(inputs: InputSource, names: PartNames): InputSource {
  return {
    ...inputs,
    input: name =>
      name in names ? (names[name] ? inputs.input(names[name]) : '') : inputs.input(name)
  }
}

/** The part's problems as the user reads them: each input named as the pipeline names it. */
function partProblems(problems: Problems, names: PartNames): Problems {
  const view = Object.create(problems) as Problems
  view.add = (inputOrMessage: string, message?: string) => {
    if (message === undefined) problems.add(inputOrMessage)
    else problems.add(names[inputOrMessage] || inputOrMessage, message)
  }
  return view
}

/** Whether any set-properties input is given. */
const hasProperties = (inputs: InputSource): boolean =>
  ['properties', 'properties-file', 'remove', 'secrets'].some(n => inputs.input(n) !== '')

export const pipeline: ActionDefinition<PipelineConfig> = {
  name: 'vdk-actions',

  async config(inputs: InputSource, problems: Problems): Promise<PipelineConfig> {
    const run = parseBoolean('run', inputs.input('run'), false, problems)
    // every part checks its inputs (the shared ones are said once)
    const forDeploy: PartNames = { wait: '', 'timeout-seconds': 'deploy-timeout-seconds' }
    const forRun: PartNames = { wait: 'run-wait', 'timeout-seconds': 'run-timeout-seconds' }
    const forProperties: PartNames = {
      mode: 'properties-mode',
      'dry-run': '',
      'show-values': 'properties-show-values'
    }
    const deployConfig = await deploy.config(
      partInputs(inputs, forDeploy),
      partProblems(problems, forDeploy)
    )
    // the run's inputs are checked even with run: false; a wrong value is wrong either way
    const runConfig = await runAndWait.config(
      partInputs(inputs, forRun),
      partProblems(problems, forRun)
    )
    const propertiesConfig = hasProperties(inputs)
      ? await setProperties.config(
          partInputs(inputs, forProperties),
          partProblems(problems, forProperties)
        )
      : undefined
    return {
      deploy: deployConfig,
      run: run ? runConfig : undefined,
      properties: propertiesConfig
    }
  },

  connection: config => config.deploy.connection,

  async run(config, ctx) {
    const tables: SummaryTable[] = []
    const outputs: Outcome['outputs'] = {}
    const parts: Array<[string, () => Promise<Outcome>]> = [
      ['deploy', () => deploy.run(config.deploy, ctx)]
    ]
    if (config.run) {
      const run = config.run
      parts.push(['run-and-wait', () => runAndWait.run(run, ctx)])
    }
    if (config.properties) {
      const props = config.properties
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

  post: (config, ctx) =>
    config.run ? (runAndWait.post?.(config.run, ctx) ?? Promise.resolve()) : Promise.resolve()
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
