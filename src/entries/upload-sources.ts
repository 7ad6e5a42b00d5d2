import { uploadSources } from '../actions/upload-sources.js'
import { runAction } from '../actions/runtime.js'

await runAction(uploadSources)
