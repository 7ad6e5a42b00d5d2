// The drift action's bundle (dist/drift/index.js): runs the definition of src/actions/drift.ts.
import { drift } from '../actions/drift.js'
import { runAction, startIfMain } from '../actions/runtime.js'

/** For @github/local-action, which imports this file and calls run(). */
export const run = (): Promise<void> => runAction(drift)

// run by the runner (node dist/drift/index.js): start at once
await startIfMain(import.meta.url, run)
