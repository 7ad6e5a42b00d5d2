import { main } from '../emulator/cli.js'

process.exitCode = await main(process.argv.slice(2))
