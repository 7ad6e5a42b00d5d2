import { setProperties } from '../actions/set-properties.js'
import { runAction } from '../actions/runtime.js'

await runAction(setProperties)
