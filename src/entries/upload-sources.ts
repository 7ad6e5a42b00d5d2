import { uploadSources } from '../actions/upload-sources.js'
import { isMain, runAction } from '../actions/runtime.js'

/** For @github/local-action, which imports this file and calls run(). */
export const run = (): Promise<void> => runAction(uploadSources)

// run by the runner (node dist/upload-sources/index.js): start at once
if (isMain(import.meta.url)) await run()
