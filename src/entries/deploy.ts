import { deploy } from '../actions/deploy.js'
import { runAction } from '../actions/runtime.js'

await runAction(deploy)
