import { prune } from '../actions/prune.js'
import { runAction, startIfMain } from '../actions/runtime.js'

/** For @github/local-action, which imports this file and calls run(). */
export const run = (): Promise<void> => runAction(prune)

// run by the runner (node dist/prune/index.js): start at once
await startIfMain(import.meta.url, run)
