import { validate } from '../actions/validate.js'
import { isMain, runAction } from '../actions/runtime.js'

/** For @github/local-action, which imports this file and calls run(). */
export const run = (): Promise<void> => runAction(validate)

// run by the runner (node dist/validate/index.js): start at once
if (isMain(import.meta.url)) await run()
