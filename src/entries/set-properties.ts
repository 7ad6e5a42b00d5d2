import { setProperties } from '../actions/set-properties.js'
import { runAction, startIfMain } from '../actions/runtime.js'

/** For @github/local-action, which imports this file and calls run(). */
export const run = (): Promise<void> => runAction(setProperties)

// run by the runner (node dist/set-properties/index.js): start at once
await startIfMain(import.meta.url, run)
