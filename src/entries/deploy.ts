import { deploy } from '../actions/deploy.js'
import { runAction, startIfMain } from '../actions/runtime.js'

/** For @github/local-action, which imports this file and calls run(). */
export const run = (): Promise<void> => runAction(deploy)

// run by the runner (node dist/deploy/index.js): start at once
// it scans and zips a job folder: see startIfMain
await startIfMain(import.meta.url, run, { optimizingCompilers: false })
