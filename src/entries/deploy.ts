import { deploy } from '../actions/deploy.js'
import { isMain, runAction } from '../actions/runtime.js'

/** For @github/local-action, which imports this file and calls run(). */
export const run = (): Promise<void> => runAction(deploy)

// run by the runner (node dist/deploy/index.js): start at once
if (isMain(import.meta.url)) await run()
