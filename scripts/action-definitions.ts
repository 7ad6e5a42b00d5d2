// Which definition each action.yml runs, by the action's name as the tests and scripts give it
// (its folder under actions/, '' for the root action.yml): for the in-process tests and for the
// check that the inputs a definition reads are the ones its action.yml declares.
import { changedJobs } from '../src/actions/changed-jobs.js'
import { deploy } from '../src/actions/deploy.js'
import { drift } from '../src/actions/drift.js'
import { fetchLogs } from '../src/actions/fetch-logs.js'
import { pipeline } from '../src/actions/pipeline.js'
import { plan } from '../src/actions/plan.js'
import { prune } from '../src/actions/prune.js'
import { runAndWait } from '../src/actions/run-and-wait.js'
import type { ActionDefinition } from '../src/actions/runtime.js'
import { setProperties } from '../src/actions/set-properties.js'
import { uploadSources } from '../src/actions/upload-sources.js'
import { validate } from '../src/actions/validate.js'

export const DEFINITIONS: Record<string, ActionDefinition<unknown>> = {
  'upload-sources': uploadSources,
  deploy: deploy,
  'run-and-wait': runAndWait,
  'fetch-logs': fetchLogs,
  'set-properties': setProperties,
  validate: validate,
  'changed-jobs': changedJobs,
  plan: plan,
  prune: prune,
  drift: drift,
  '': pipeline
}
