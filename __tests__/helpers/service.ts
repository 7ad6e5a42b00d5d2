// Runs the committed bundle of the local Control Service as users run it:
// `node dist/emulator/index.js --port 0 ...`, waiting for its "listening on" line; a bundle older
// than its sources is refused (helpers/fresh-dist.ts).
import { spawn, type ChildProcess } from 'node:child_process'
import { dirname, join } from 'node:path'
import { expectFreshBundle } from './fresh-dist.js'
import { node24 } from './node24.js'

export const ROOT = join(import.meta.dirname, '..', '..')
export const EMULATOR_BUNDLE = join(ROOT, 'dist', 'emulator', 'index.js')

export interface ServiceProcess {
  url: string
  child: ChildProcess
  output(): string
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

export async function startServiceProcess(args: string[] = []): Promise<ServiceProcess> {
  expectFreshBundle(dirname(EMULATOR_BUNDLE))
  const child = spawn(node24(), [EMULATOR_BUNDLE, '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout.on('data', (c: Buffer) => (out += c.toString()))
  child.stderr.on('data', (c: Buffer) => (out += c.toString()))
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "listening on" line in 15 s: ${out}`)),
      15_000
    )
    const check = (): void => {
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1])
      }
    }
    child.stdout.on('data', check)
    void exited.then(code => {
      clearTimeout(timer)
      reject(new Error(`the service exited (code ${code}) before listening: ${out}`))
    })
  })
  return {
    url,
    child,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal)
      return exited
    }
  }
}
