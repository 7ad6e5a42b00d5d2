import { changedJobs } from '../actions/changed-jobs.js'
import { runAction } from '../actions/runtime.js'

await runAction(changedJobs)
