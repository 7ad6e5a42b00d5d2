import { plan } from '../actions/plan.js'
import { runAction, startIfMain } from '../actions/runtime.js'

/** For @github/local-action, which imports this file and calls run(). */
export const run = (): Promise<void> => runAction(plan)

// run by the runner (node dist/plan/index.js): start at once
await startIfMain(import.meta.url, run)
