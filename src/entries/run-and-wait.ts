import { runAndWait } from '../actions/run-and-wait.js'
import { runAction, startIfMain } from '../actions/runtime.js'

// one bundle for runs.main and runs.post: the runtime tells them apart by the saved state
/** For @github/local-action, which imports this file and calls run(). */
export const run = (): Promise<void> => runAction(runAndWait)

// run by the runner (node dist/run-and-wait/index.js): start at once
await startIfMain(import.meta.url, run)
