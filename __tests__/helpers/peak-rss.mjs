// Loaded into an action's process by NODE_OPTIONS=--import=<this file> (the hostile-transport
// suite): when the process exits, however it exits but a kill, it writes its peak resident set
// size in KiB (getrusage's ru_maxrss, what `/usr/bin/time -f %M` prints) to $PEAK_RSS_FILE.
import { writeFileSync } from 'node:fs'

process.on('exit', () => {
  if (process.env.PEAK_RSS_FILE)
    writeFileSync(process.env.PEAK_RSS_FILE, String(process.resourceUsage().maxRSS))
})
