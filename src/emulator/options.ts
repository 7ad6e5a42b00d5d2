// What the local Control Service can be started with (the options of startEmulator and of the
// command line, see cli.ts), and the settings they resolve to, which every part of it reads.
import type { ServiceClock } from './clock.js'
import { DEFAULT_SOURCE_LIMITS } from './sources.js'

export const EMULATOR_VERSION = '0.1.0'

export interface EmulatorOptions {
  /** TCP port; 0 picks a free one. */
  port?: number
  /** Address to listen on (default 127.0.0.1). */
  host?: string
  /** Host names, besides loopback and `host`, that requests may be addressed to (Host, Origin). */
  allowedHosts?: string[]
  /** Keep state here so that a restart loses nothing; absent: state lives in memory. */
  dataDir?: string
  /** Access tokens accepted as `Authorization: Bearer <token>`, on the API and the admin API.
   * With none (and no API tokens) no auth. */
  tokens?: string[]
  /** API (refresh) tokens the token endpoint exchanges for access tokens. */
  apiTokens?: string[]
  /** Lifetime of exchanged access tokens (default 3600 s). */
  accessTokenTtlSeconds?: number
  pythonVersions?: string[]
  defaultPythonVersion?: string
  /** How long an unscripted execution runs (default 2 s), after `submitSeconds` (default 0.5 s). */
  executionSeconds?: number
  submitSeconds?: number
  /** How long an unscripted deployment takes to become live (default 1 s). */
  deploymentSeconds?: number
  /** Logs stay readable this long after an execution ends (default 3600: the Job's
   * ttlSecondsAfterFinished upstream, KubernetesService.java:412, application.properties:149;
   * 0: empty at once). A cancelled execution's logs are empty at once (its Job is deleted). */
  logsRetentionSeconds?: number
  /** Prefix every line of GET …/logs with the kubelet's RFC3339Nano time and a space, as the
   * real service asks (timestamps=true, KubernetesService.java:710-726). Default true. */
  logTimestamps?: boolean
  /** The kubelet's containerLogMaxSize: GET …/logs shows only the records since the log file last
   * reached this size (default 10 MiB, the kubelet's default; 0: never rotates). */
  logRotateBytes?: number
  /** Template of executions' `logs_url` (`{base}`, `{team}`, `{job_name}`, `{execution_id}`,
   * `{op_id}`, `{start_time}`, `{end_time}`); "" leaves `logs_url` unset. */
  logsUrlTemplate?: string
  /** Serve the secrets API (default true); false answers 501 as a service without a vault. */
  secrets?: boolean
  /** The service's time (default: one that follows the wall clock). A test that holds it decides
   * when deployments go live and executions run and end; see clock.ts. */
  clock?: ServiceClock
  /** Start with the clock frozen (where it stood at the last stop, with `dataDir`). */
  frozenClock?: boolean
  /** One line per request, for the console (default: silent). */
  log?: (line: string) => void
  /** The largest sources upload, in bytes (default 5 GiB). */
  maxUploadBytes?: number
  /** The largest total of an upload's files, inflated (default 5 GiB). */
  maxSourcesBytes?: number
  /** The most entries (files and folders) in an upload (default 65,535). */
  maxSourcesEntries?: number
  /** Past 64 MiB, an upload's files may inflate to at most this many times the zip's size
   * (default 100; 0: no such limit). */
  maxInflateRatio?: number
}

const DEFAULT_LOGS_URL = '{base}/_emulator/logs/{team}/{job_name}/{execution_id}'

/** The options with their defaults filled in; throws on a combination that cannot work. */
export function resolveOptions(options: EmulatorOptions) {
  const settings = {
    host: '127.0.0.1',
    port: 0,
    tokens: [] as string[],
    apiTokens: [] as string[],
    accessTokenTtlSeconds: 3600,
    pythonVersions: ['3.9', '3.10', '3.11', '3.12'],
    defaultPythonVersion: '3.9',
    executionSeconds: 2,
    submitSeconds: 0.5,
    deploymentSeconds: 1,
    logsRetentionSeconds: 3600,
    logTimestamps: true,
    logRotateBytes: 10 * 1024 * 1024,
    logsUrlTemplate: DEFAULT_LOGS_URL,
    secrets: true,
    allowedHosts: [] as string[],
    maxUploadBytes: DEFAULT_SOURCE_LIMITS.uploadBytes,
    maxSourcesBytes: DEFAULT_SOURCE_LIMITS.filesBytes,
    maxSourcesEntries: DEFAULT_SOURCE_LIMITS.entries,
    maxInflateRatio: DEFAULT_SOURCE_LIMITS.inflateRatio,
    ...options
  }
  if (!settings.pythonVersions.includes(settings.defaultPythonVersion)) {
    throw new Error(
      `the default python version ${settings.defaultPythonVersion} is not among the supported ones (${settings.pythonVersions.join(', ')})`
    )
  }
  return settings
}

/** The options as the service runs with them. */
export type Settings = ReturnType<typeof resolveOptions>
