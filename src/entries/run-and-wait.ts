import { runAndWait } from '../actions/run-and-wait.js'
import { runAction } from '../actions/runtime.js'

// one bundle for runs.main and runs.post: the runtime tells them apart by the saved state
await runAction(runAndWait)
