import { uploadSources } from '../actions/upload-sources.js'
import { runAction, startIfMain } from '../actions/runtime.js'

/** For @github/local-action, which imports this file and calls run(). */
export const run = (): Promise<void> => runAction(uploadSources)

// run by the runner (node dist/upload-sources/index.js): start at once
// it scans and zips a job folder: see startIfMain
await startIfMain(import.meta.url, run, { optimizingCompilers: false })
