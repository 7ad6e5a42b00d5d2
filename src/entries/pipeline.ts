import { pipeline } from '../actions/pipeline.js'
import { runAction, startIfMain } from '../actions/runtime.js'

// the root action.yml: main and post share this bundle
/** For @github/local-action, which imports this file and calls run(). */
export const run = (): Promise<void> => runAction(pipeline)

// run by the runner (node dist/pipeline/index.js): start at once
// it scans and zips a job folder: see startIfMain
await startIfMain(import.meta.url, run, { optimizingCompilers: false })
