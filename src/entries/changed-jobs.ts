import { changedJobs } from '../actions/changed-jobs.js'
import { runAction, startIfMain } from '../actions/runtime.js'

/** For @github/local-action, which imports this file and calls run(). */
export const run = (): Promise<void> => runAction(changedJobs)

// run by the runner (node dist/changed-jobs/index.js): start at once
await startIfMain(import.meta.url, run)
