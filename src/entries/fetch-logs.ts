import { fetchLogs } from '../actions/fetch-logs.js'
import { runAction, startIfMain } from '../actions/runtime.js'

/** For @github/local-action, which imports this file and calls run(). */
export const run = (): Promise<void> => runAction(fetchLogs)

// run by the runner (node dist/fetch-logs/index.js): start at once
await startIfMain(import.meta.url, run)
