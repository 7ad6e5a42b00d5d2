import { fetchLogs } from '../actions/fetch-logs.js'
import { runAction } from '../actions/runtime.js'

await runAction(fetchLogs)
