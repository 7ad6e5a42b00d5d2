// `node dist/emulator/index.js --port <p> [options]`: the local Control Service as a process.
import { parseArgs } from 'node:util'
import { startEmulator, type EmulatorOptions } from './server.js'

const USAGE = `usage: vdk-emulator [options]

The local VDK Control Service of vdk-actions: the Data Jobs API on loopback, for tests and demos.

  --port <n>                    port to listen on (default 8092; 0 picks a free one)
  --host <addr>                 address to listen on (default 127.0.0.1)
  --allow-host <name>           also answer requests addressed to this host name (repeatable);
                                without it, only loopback names and --host (against DNS rebinding)
  --data-dir <dir>              keep state in this folder, so that a restart loses nothing
  --token <t>                   require "Authorization: Bearer <t>", also on /_emulator/ (repeatable)
  --api-token <t>               accept this API token at POST /auth/token (repeatable)
  --access-token-ttl <s>        lifetime of exchanged access tokens (default 3600)
  --python-versions <list>      supported python versions (default 3.9,3.10,3.11,3.12)
  --default-python-version <v>  used when a deployment names none (default 3.9)
  --execution-seconds <s>       run time of an unscripted execution (default 2)
  --submit-seconds <s>          time an execution stays submitted (default 0.5)
  --deployment-seconds <s>      time a deployment takes to go live (default 1)
  --logs-retention <s>          logs stay readable this long after the end (default 3600)
  --log-timestamps <true|false> prefix each line of the logs endpoint with the kubelet's
                                RFC3339Nano time, as the real service does (default true)
  --log-rotate-bytes <n>        the logs endpoint shows only what was written since the pod's log
                                file last reached n bytes (default 10485760; 0: never)
  --logs-url-template <t>       template of executions' logs_url ("" for none)
  --frozen-clock                start with the service's clock frozen: deployments and executions
                                move on only when POST /_emulator/clock advances it
  --no-secrets                  answer 501 on the secrets API, as a service without a vault
  --max-upload-bytes <n>        largest sources upload (default 5 GiB)
  --max-sources-bytes <n>       largest total of an upload's files, inflated (default 5 GiB)
  --max-sources-entries <n>     most files and folders in an upload (default 65535)
  --max-inflate-ratio <n>       past 64 MiB, files inflate to at most n times the zip (default
                                100; 0: no such limit)
  --verbose                     print one line per request
  --help                        show this text`

function number(value: string | undefined, name: string, fallback?: number): number | undefined {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n < 0)
    throw new Error(`--${name} must be a number, 0 or more; got '${value}'`)
  return n
}

function bool(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined) return undefined
  if (value !== 'true' && value !== 'false')
    throw new Error(`--${name} must be true or false; got '${value}'`)
  return value === 'true'
}

export function parseCli(argv: string[]): EmulatorOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'allow-host': { type: 'string', multiple: true },
      'data-dir': { type: 'string' },
      token: { type: 'string', multiple: true },
      'api-token': { type: 'string', multiple: true },
      'access-token-ttl': { type: 'string' },
      'python-versions': { type: 'string' },
      'default-python-version': { type: 'string' },
      'execution-seconds': { type: 'string' },
      'submit-seconds': { type: 'string' },
      'deployment-seconds': { type: 'string' },
      'logs-retention': { type: 'string' },
      'log-timestamps': { type: 'string' },
      'log-rotate-bytes': { type: 'string' },
      'logs-url-template': { type: 'string' },
      'no-secrets': { type: 'boolean' },
      'max-upload-bytes': { type: 'string' },
      'max-sources-bytes': { type: 'string' },
      'max-sources-entries': { type: 'string' },
      'max-inflate-ratio': { type: 'string' },
      'frozen-clock': { type: 'boolean' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' }
    },
    strict: true
  })
  if (values.help) return 'help'
  const port = number(values.port, 'port', 8092) as number
  if (!Number.isInteger(port) || port > 65535)
    throw new Error(`--port must be a port number; got '${values.port}'`)
  const versions = values['python-versions']
    ?.split(',')
    .map(v => v.trim())
    .filter(Boolean)
  return {
    port,
    host: values.host,
    allowedHosts: values['allow-host'],
    dataDir: values['data-dir'],
    tokens: values.token,
    apiTokens: values['api-token'],
    accessTokenTtlSeconds: number(values['access-token-ttl'], 'access-token-ttl'),
    pythonVersions: versions,
    defaultPythonVersion: values['default-python-version'] ?? versions?.[0],
    executionSeconds: number(values['execution-seconds'], 'execution-seconds'),
    submitSeconds: number(values['submit-seconds'], 'submit-seconds'),
    deploymentSeconds: number(values['deployment-seconds'], 'deployment-seconds'),
    logsRetentionSeconds: number(values['logs-retention'], 'logs-retention'),
    logTimestamps: bool(values['log-timestamps'], 'log-timestamps'),
    logRotateBytes: number(values['log-rotate-bytes'], 'log-rotate-bytes'),
    logsUrlTemplate: values['logs-url-template'],
    secrets: values['no-secrets'] ? false : undefined,
    frozenClock: values['frozen-clock'] ? true : undefined,
    log: values.verbose ? line => console.log(line) : undefined,
    maxUploadBytes: number(values['max-upload-bytes'], 'max-upload-bytes'),
    maxSourcesBytes: number(values['max-sources-bytes'], 'max-sources-bytes'),
    maxSourcesEntries: number(values['max-sources-entries'], 'max-sources-entries'),
    maxInflateRatio: number(values['max-inflate-ratio'], 'max-inflate-ratio')
  }
}

const defined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T

export async function main(argv: string[]): Promise<number> {
  let options
  try {
    options = parseCli(argv)
  } catch (e) {
    console.error(`vdk-emulator: ${(e as Error).message}\n\n${USAGE}`)
    return 2
  }
  if (options === 'help') {
    console.log(USAGE)
    return 0
  }
  let emulator
  try {
    emulator = await startEmulator(defined(options))
  } catch (e) {
    console.error(`vdk-emulator: cannot start: ${(e as Error).message}`)
    return 1
  }
  console.log(`listening on ${emulator.url}`)
  const stop = (): void => {
    void emulator.close().then(() => process.exit(0))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  return new Promise<number>(() => {})
}
