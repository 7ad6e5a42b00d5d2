import { validate } from '../actions/validate.js'
import { runAction } from '../actions/runtime.js'

await runAction(validate)
