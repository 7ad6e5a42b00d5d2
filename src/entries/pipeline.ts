import { pipeline } from '../actions/pipeline.js'
import { runAction } from '../actions/runtime.js'

// the root action.yml: main and post share this bundle
await runAction(pipeline)
