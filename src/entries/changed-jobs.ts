import { changedJobs } from '../actions/changed-jobs.js'
import { isMain, runAction } from '../actions/runtime.js'

/** For @github/local-action, which imports this file and calls run(). */
export const run = (): Promise<void> => runAction(changedJobs)

// run by the runner (node dist/changed-jobs/index.js): start at once
if (isMain(import.meta.url)) await run()
