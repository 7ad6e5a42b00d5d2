// The root action: the common on-merge pipeline for one job in one step — deploy (which uploads
// and waits until live), then optionally run-and-wait and set-properties. It is made of the
// single actions' own definitions: the same input names, the same checks, the same core calls.
// With rollback-on-failure, a release whose run fails is rolled back (rollback.ts).
import { parseBoolean, type InputSource, type Problems } from '../core/inputs.js'
import { deploy, deployAndRecord, type DeployConfig } from './deploy.js'
import { notLiveNote, readRollback, releaseFailure, rollBack, withoutRollback } from './rollback.js'
import { runAndWait, type RunConfig } from './run-and-wait.js'
import { joined, type ActionDefinition, type Outcome, type SummaryTable } from './runtime.js'
import { setProperties, type SetPropertiesConfig } from './set-properties.js'

export interface PipelineConfig {
  deploy: DeployConfig
  /** rollback-on-failure: deploy the version live before again when the run fails. */
  rollback: boolean
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
    const rollback = readRollback(inputs, problems)
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
      rollback,
      run: run ? runConfig : undefined,
      properties: propertiesConfig
    }
  },

  connection: config => config.deploy.connection,

  async run(config, ctx) {
    const tables: SummaryTable[] = []
    const outputs: Outcome['outputs'] = {}
    const ended = (failure?: string, outcome?: Outcome): Outcome => ({
      outputs,
      summary: merge(tables),
      failure,
      annotations: outcome?.annotations
    })
    const took = (outcome: Outcome): void => {
      Object.assign(outputs, outcome.outputs)
      if (outcome.summary) tables.push(outcome.summary)
    }
    ctx.info('— deploy —')
    const deployed = await deployAndRecord(config.deploy, ctx)
    took(deployed.outcome)
    Object.assign(outputs, await withoutRollback(deployed, config.deploy, ctx))
    if (deployed.outcome.failure) {
      const note =
        config.rollback && outputs['deployment-status'] === 'not-live'
          ? `; rollback-on-failure: ${notLiveNote(deployed, String(outputs['live-version']))}`
          : ''
      return ended(`deploy: ${deployed.outcome.failure}${note}`, deployed.outcome)
    }
    if (config.run) {
      ctx.info('— run-and-wait —')
      const run = await runAndWait.run(config.run, ctx)
      took(run)
      const failed = run.failure && releaseFailure(run, ctx)
      // only a release that went live now is rolled back: an unchanged one is not new
      if (failed && config.rollback && outputs['deployment-status'] === 'live') {
        ctx.info('— rollback —')
        const rolled = await rollBack(config.deploy, ctx, deployed, failed)
        took(rolled)
        return ended(`run-and-wait: ${rolled.failure}`, run)
      }
      if (run.failure) return ended(`run-and-wait: ${run.failure}`, run)
    }
    if (config.properties) {
      ctx.info('— set-properties —')
      const props = await setProperties.run(config.properties, ctx)
      took(props)
      if (props.failure) return ended(`set-properties: ${props.failure}`, props)
    }
    return ended()
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
