// The bad inputs of every action, in one table: the rows the bundle test
// (reliability/bad-inputs.e2e.test.ts) runs as the runner does and the in-process test
// (inprocess/bad-inputs.test.ts) runs without a build. For each row the step exits 1 with ONE
// line (`<action>: …`) that names the input or the problem, writes no output or summary, and sends
// not a single request (not even the token exchange). Each row's inputs go over its action's
// BASELINE, which a control test shows is accepted: so each row fails because of its own input.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/server.js'
import { writeJobFolder } from './fixtures.js'

export const TOKEN = 'bad-inputs-access-token-4f1c9a'
export const API_TOKEN = 'bad-inputs-api-token-7b20e3'
export const TEAM = 'data team'
const GOOD_INI = `[owner]\nteam = ${TEAM}\n\n[job]\nschedule_cron = 0 6 * * *\n`
const LOAD = { '10_load.py': 'def run(job_input):\n    pass\n' }

/** Where a row runs: the local Control Service's URL, the workspace, a folder outside git. */
export interface Places {
  url: string
  /** A git repository holding the job folders and files of `makeWorkspace`. */
  ws: string
  /** A folder outside any git repository. */
  plain: string
}

/** `{emu}` in an input or variable: the local Control Service's URL; `{ws}`: the workspace. */
export const fill = (values: Record<string, string>, at: Places): Record<string, string> =>
  Object.fromEntries(
    Object.entries(values).map(([k, v]) => [
      k,
      v.replaceAll('{emu}', at.url).replaceAll('{ws}', at.ws)
    ])
  )

/** What each action gets unless a row says otherwise (a row's '' unsets an input). */
export const BASELINE: Record<string, Record<string, string>> = {
  'upload-sources': { 'job-path': 'jobs/good-job' },
  deploy: { 'job-path': 'jobs/good-job' },
  'run-and-wait': { 'job-name': 'good-job', team: TEAM },
  'fetch-logs': { 'job-name': 'good-job', team: TEAM },
  'set-properties': { 'job-name': 'good-job', team: TEAM, properties: 'rows: 100' },
  validate: { 'job-path': 'jobs/python-job' },
  'changed-jobs': { base: 'HEAD' },
  prune: { 'job-name': 'gone-job', team: TEAM },
  '': { 'job-path': 'jobs/good-job' }
}
export const CONNECTION = { 'control-service-url': '{emu}', 'access-token': TOKEN }

/** The name the action fails with (the root action's is the project's). */
export const failName = (action: string): string => action || 'vdk-actions'

export interface Row {
  action: string
  title: string
  inputs: Record<string, string>
  /**
   * The failure line after `<action>: `. Ending in `(; |$)`: the first of the problems it names
   * (some checks add a follow-on problem, e.g. a job-path that does not exist leaves no job name).
   */
  message: RegExp
  /** The input the message must name; null when the problem is a file's or a variable's. */
  input: string | null
  /** A problem of a file in the job folder: its annotation (path relative to the workspace). */
  annotation?: { file: string; line?: number }
  env?: Record<string, string>
  /** Run in a folder that is not a git repository. */
  plainWorkspace?: boolean
  /** Said exactly once, though more than one part of the action checks it. */
  once?: string
}

const NUMBER = 'must be a number of seconds above 0'
const BOOL = 'must be true or false'
const NAME_RULE =
  'is not a valid job name: 6 to 50 characters, a lowercase letter first, then lowercase letters, digits or dashes'

export const rows: Row[] = [
  // --- the connection, shared by every action that talks to the Control Service
  {
    action: 'upload-sources',
    title: 'no control-service-url',
    inputs: { 'control-service-url': '' },
    message: /^control-service-url is required \(or set VDK_CONTROL_SERVICE_REST_API_URL\)$/,
    input: 'control-service-url'
  },
  {
    action: 'deploy',
    title: 'an ftp:// control-service-url',
    inputs: { 'control-service-url': 'ftp://vdk.example.com/api' },
    message: /^control-service-url must be an http\(s\) URL, not ftp:$/,
    input: 'control-service-url'
  },
  {
    action: 'run-and-wait',
    title: 'a control-service-url that is not a URL',
    inputs: { 'control-service-url': 'vdk control service' },
    message:
      /^control-service-url is not a valid URL: 'vdk control service' \(expected e\.g\. https:\/\/vdk\.example\.com\)$/,
    input: 'control-service-url'
  },
  {
    action: 'fetch-logs',
    title: 'credentials in control-service-url',
    inputs: { 'control-service-url': 'https://robot:hunter2@vdk.example.com' },
    message: /^control-service-url must not hold credentials; use access-token or api-token$/,
    input: 'control-service-url'
  },
  {
    action: 'set-properties',
    title: 'plain http to a host that is not loopback',
    inputs: { 'control-service-url': 'http://vdk.example.com' },
    message:
      /^control-service-url uses plain http to vdk\.example\.com: tokens would cross the network unencrypted; use https, or set allow-insecure-http: true$/,
    input: 'control-service-url'
  },
  {
    action: 'fetch-logs',
    title: 'a bad VDK_CONTROL_SERVICE_REST_API_URL when the input is unset',
    inputs: { 'control-service-url': '' },
    env: { VDK_CONTROL_SERVICE_REST_API_URL: 'ftp://vdk.example.com' },
    message: /^control-service-url must be an http\(s\) URL, not ftp:$/,
    input: 'control-service-url'
  },
  {
    action: 'validate',
    title: 'both access-token and api-token',
    inputs: { 'api-token': API_TOKEN, 'api-token-authorization-url': '{emu}/auth/token' },
    message: /^set access-token or api-token, not both$/,
    input: 'api-token'
  },
  {
    action: 'deploy',
    title: 'api-token without api-token-authorization-url',
    inputs: { 'access-token': '', 'api-token': API_TOKEN },
    message:
      /^api-token needs api-token-authorization-url \(or VDK_API_TOKEN_AUTHORIZATION_URL\): the URL where it is exchanged for an access token$/,
    input: 'api-token-authorization-url'
  },
  {
    action: 'upload-sources',
    title: 'VDK_API_TOKEN without an authorization URL',
    inputs: { 'access-token': '' },
    env: { VDK_API_TOKEN: API_TOKEN },
    message: /^api-token needs api-token-authorization-url \(or VDK_API_TOKEN_AUTHORIZATION_URL\)/,
    input: null
  },
  {
    action: 'run-and-wait',
    title: 'an ftp:// api-token-authorization-url',
    inputs: {
      'access-token': '',
      'api-token': API_TOKEN,
      'api-token-authorization-url': 'ftp://auth.example.com/token'
    },
    message: /^api-token-authorization-url must be an http\(s\) URL, not ftp:$/,
    input: 'api-token-authorization-url'
  },
  {
    action: 'deploy',
    title: 'a good api-token with a bad timeout: not even the token exchange is sent',
    inputs: {
      'access-token': '',
      'api-token': API_TOKEN,
      'api-token-authorization-url': '{emu}/auth/token',
      'request-timeout-seconds': 'a minute'
    },
    message: new RegExp(`^request-timeout-seconds ${NUMBER}, not 'a minute'$`),
    input: 'request-timeout-seconds'
  },
  {
    action: 'upload-sources',
    title: "allow-insecure-http: 'yes please'",
    inputs: { 'allow-insecure-http': 'yes please' },
    message: new RegExp(`^allow-insecure-http ${BOOL}, not 'yes please'$`),
    input: 'allow-insecure-http'
  },
  {
    action: 'fetch-logs',
    title: 'a request-timeout-seconds that is no number',
    inputs: { 'request-timeout-seconds': 'soon' },
    message: new RegExp(`^request-timeout-seconds ${NUMBER}, not 'soon'$`),
    input: 'request-timeout-seconds'
  },
  {
    action: 'set-properties',
    title: 'request-timeout-seconds 0',
    inputs: { 'request-timeout-seconds': '0' },
    message: new RegExp(`^request-timeout-seconds ${NUMBER}, not '0'$`),
    input: 'request-timeout-seconds'
  },
  {
    action: 'validate',
    title: 'a negative request-timeout-seconds',
    inputs: { 'request-timeout-seconds': '-5' },
    message: new RegExp(`^request-timeout-seconds ${NUMBER}, not '-5'$`),
    input: 'request-timeout-seconds'
  },

  // --- the job inputs and the job folder
  {
    action: 'upload-sources',
    title: 'no job-path',
    inputs: { 'job-path': '', 'job-name': 'good-job', team: TEAM },
    message: /^job-path is required: the folder of the data job \(the one holding config\.ini\)$/,
    input: 'job-path'
  },
  {
    action: 'upload-sources',
    title: 'a job-path that does not exist',
    inputs: { 'job-path': 'jobs/missing-job' },
    message:
      /^job-path 'jobs\/missing-job' does not exist \(resolved to \/.*\/jobs\/missing-job\)(; |$)/,
    input: 'job-path'
  },
  {
    action: 'deploy',
    title: 'a job-path that is a file',
    inputs: { 'job-path': 'notes.txt' },
    message: /^job-path 'notes\.txt' is a file, not the job's folder(; |$)/,
    input: 'job-path'
  },
  {
    action: 'upload-sources',
    title: 'a job folder without config.ini',
    inputs: { 'job-path': 'jobs/no-config-job', team: TEAM },
    message:
      /^jobs\/no-config-job\/config\.ini: a data job folder needs a config\.ini; there is none in \/.*\/jobs\/no-config-job$/,
    input: null,
    annotation: { file: 'jobs/no-config-job/config.ini' }
  },
  {
    action: 'deploy',
    title: 'a line of config.ini that is neither key, section nor comment',
    inputs: { 'job-path': 'jobs/garbled-job' },
    message:
      /^jobs\/garbled-job\/config\.ini:3: column 1: expected 'key = value', '\[section\]' or a comment$/,
    input: null,
    annotation: { file: 'jobs/garbled-job/config.ini', line: 3 }
  },
  {
    action: 'upload-sources',
    title: 'a key before any section in config.ini',
    inputs: { 'job-path': 'jobs/keyfirst-job', team: TEAM },
    message:
      /^jobs\/keyfirst-job\/config\.ini:1: a key before any \[section\]: config\.ini starts with a section such as '\[owner\]'$/,
    input: null,
    annotation: { file: 'jobs/keyfirst-job/config.ini', line: 1 }
  },
  {
    action: 'deploy',
    title: 'a section twice in config.ini',
    inputs: { 'job-path': 'jobs/twice-job' },
    message: /^jobs\/twice-job\/config\.ini:7: the section of line 1 appears again: merge the two$/,
    input: null,
    annotation: { file: 'jobs/twice-job/config.ini', line: 7 }
  },
  {
    action: 'upload-sources',
    title: 'enable_execution_notifications that is no boolean',
    inputs: { 'job-path': 'jobs/notify-job' },
    message:
      /^jobs\/notify-job\/config\.ini:8: enable_execution_notifications must be true or false \(or yes\/no, on\/off, 1\/0\)$/,
    input: null,
    annotation: { file: 'jobs/notify-job/config.ini', line: 8 }
  },
  {
    action: 'deploy',
    title: 'a negative notification_delay_period_minutes',
    inputs: { 'job-path': 'jobs/delay-job' },
    message:
      /^jobs\/delay-job\/config\.ini:8: notification_delay_period_minutes must be a whole number of minutes above 0$/,
    input: null,
    annotation: { file: 'jobs/delay-job/config.ini', line: 8 }
  },
  {
    action: 'upload-sources',
    title: 'a keytab in the job folder',
    inputs: { 'job-path': 'jobs/keytab-job' },
    message:
      /^jobs\/keytab-job\/secrets\/service\.keytab: a keytab file must not be uploaded \(the official CLI refuses it too\): remove it from the job folder$/,
    input: null,
    annotation: { file: 'jobs/keytab-job/secrets/service.keytab' }
  },
  {
    action: 'upload-sources',
    title: 'a symbolic link that leads outside the repository checkout',
    inputs: { 'job-path': 'jobs/escape-job' },
    message:
      /^jobs\/escape-job\/passwd\.txt: a symbolic link that leads outside the repository checkout \(to \/.*\/outside\.txt\)$/,
    input: null,
    annotation: { file: 'jobs/escape-job/passwd.txt' }
  },
  {
    action: 'deploy',
    title: 'a symbolic link that leads nowhere',
    inputs: { 'job-path': 'jobs/dangling-job' },
    message: /^jobs\/dangling-job\/gone\.py: a symbolic link that leads nowhere$/,
    input: null,
    annotation: { file: 'jobs/dangling-job/gone.py' }
  },
  {
    action: 'upload-sources',
    title: 'a job folder whose name is no valid job name',
    inputs: { 'job-path': 'jobs/My_Job' },
    message: new RegExp(
      `^the job folder's name \\(job-name defaults to it\\) 'My_Job' ${NAME_RULE}; rename the folder or set job-name$`
    ),
    input: 'job-name'
  },
  {
    action: 'upload-sources',
    title: 'no team, and none in config.ini',
    inputs: { 'job-path': 'jobs/teamless-job' },
    message: /^team is required: set the team input, or \[owner\] team in config\.ini$/,
    input: 'team'
  },
  {
    action: 'run-and-wait',
    title: 'an uppercase job-name',
    inputs: { 'job-name': 'Nightly-Load' },
    message: new RegExp(`^job-name 'Nightly-Load' ${NAME_RULE}$`),
    input: 'job-name'
  },
  {
    action: 'fetch-logs',
    title: 'a job-name that is too short',
    inputs: { 'job-name': 'etl' },
    message: new RegExp(`^job-name 'etl' ${NAME_RULE}$`),
    input: 'job-name'
  },
  {
    action: 'set-properties',
    title: 'a job-name that is too long (51 characters)',
    inputs: { 'job-name': `job-${'x'.repeat(47)}` },
    message: new RegExp(`^job-name 'job-x{47}' ${NAME_RULE}$`),
    input: 'job-name'
  },
  {
    action: 'deploy',
    title: 'a job-name starting with a digit',
    inputs: { 'job-name': '1st-data-job' },
    message: new RegExp(`^job-name '1st-data-job' ${NAME_RULE}$`),
    input: 'job-name'
  },
  {
    action: 'fetch-logs',
    title: 'neither job-name nor job-path',
    inputs: { 'job-name': '' },
    message: /^job-name is required when job-path is not given$/,
    input: 'job-name'
  },
  {
    action: 'run-and-wait',
    title: 'no team',
    inputs: { team: '' },
    message: /^team is required$/,
    input: 'team'
  },
  {
    action: 'run-and-wait',
    title: 'a job-path (for the name and team) without config.ini',
    inputs: { 'job-path': 'jobs/no-config-job', 'job-name': '' },
    message: /^jobs\/no-config-job\/config\.ini: a data job folder needs a config\.ini/,
    input: null,
    annotation: { file: 'jobs/no-config-job/config.ini' }
  },

  // --- deploy
  {
    action: 'deploy',
    title: 'neither job-path nor job-version',
    inputs: { 'job-path': '', 'job-name': 'good-job', team: TEAM },
    message:
      /^job-path or job-version is required: the job folder to upload and deploy, or a version uploaded before$/,
    input: 'job-version'
  },
  {
    action: 'deploy',
    title: 'both job-path and job-version',
    inputs: { 'job-version': 'a1b2c3d4e5f6a7b8' },
    message:
      /^set job-path \(upload, then deploy\) or job-version \(deploy a version already uploaded\), not both$/,
    input: 'job-version'
  },
  {
    action: 'deploy',
    title: 'a job-version that is no version_sha',
    inputs: { 'job-path': '', 'job-name': 'good-job', team: TEAM, 'job-version': 'latest' },
    message:
      /^job-version 'latest' is not a version: expected the hexadecimal version_sha that upload-sources gave$/,
    input: 'job-version'
  },
  {
    action: 'deploy',
    title: 'a python-version that is not major.minor',
    inputs: { 'python-version': 'python3.11' },
    message: /^python-version 'python3\.11' should look like 3\.11$/,
    input: 'python-version'
  },
  {
    action: 'deploy',
    title: 'a timeout-seconds that is no number',
    inputs: { 'timeout-seconds': 'ten' },
    message: new RegExp(`^timeout-seconds ${NUMBER}, not 'ten'$`),
    input: 'timeout-seconds'
  },
  {
    action: 'deploy',
    title: 'poll-interval-seconds 0',
    inputs: { 'poll-interval-seconds': '0' },
    message: new RegExp(`^poll-interval-seconds ${NUMBER}, not '0'$`),
    input: 'poll-interval-seconds'
  },
  {
    action: 'deploy',
    title: "wait: 'yes please'",
    inputs: { wait: 'yes please' },
    message: new RegExp(`^wait ${BOOL}, not 'yes please'$`),
    input: 'wait'
  },
  {
    action: 'deploy',
    title: "enabled: 'maybe'",
    inputs: { enabled: 'maybe' },
    message: new RegExp(`^enabled ${BOOL}, not 'maybe'$`),
    input: 'enabled'
  },
  {
    action: 'deploy',
    title: "update-config: 'Yes' (YAML 1.2 booleans only)",
    inputs: { 'update-config': 'Yes' },
    message: new RegExp(`^update-config ${BOOL}, not 'Yes'$`),
    input: 'update-config'
  },
  {
    action: 'upload-sources',
    title: "create-if-missing: 'no'",
    inputs: { 'create-if-missing': 'no' },
    message: new RegExp(`^create-if-missing ${BOOL}, not 'no'$`),
    input: 'create-if-missing'
  },

  // --- run-and-wait
  {
    action: 'run-and-wait',
    title: 'on-conflict that is not a choice',
    inputs: { 'on-conflict': 'retry' },
    message: /^on-conflict must be one of fail, wait, cancel, not 'retry'$/,
    input: 'on-conflict'
  },
  {
    action: 'run-and-wait',
    title: 'wait that is not a choice',
    inputs: { wait: 'forever' },
    message: /^wait must be one of true, false, running, not 'forever'$/,
    input: 'wait'
  },
  {
    action: 'run-and-wait',
    title: "wait: 'rUNNING' (a word in lower, Title or UPPER case only)",
    inputs: { wait: 'rUNNING' },
    message: /^wait must be one of true, false, running, not 'rUNNING'$/,
    input: 'wait'
  },
  {
    action: 'run-and-wait',
    title: 'logs that is not a choice',
    inputs: { logs: 'all' },
    message: /^logs must be one of stream, on-failure, none, not 'all'$/,
    input: 'logs'
  },
  {
    action: 'run-and-wait',
    title: 'arguments that are a JSON list',
    inputs: { arguments: '["2026-11-23"]' },
    message: /^arguments must be a JSON object such as \{"day": "2026-11-23"\}, not a list$/,
    input: 'arguments'
  },
  {
    action: 'run-and-wait',
    title: 'arguments that are a JSON string',
    inputs: { arguments: '"2026-11-23"' },
    message: /^arguments must be a JSON object such as \{"day": "2026-11-23"\}, not a string$/,
    input: 'arguments'
  },
  {
    action: 'run-and-wait',
    title: 'arguments that are not JSON',
    inputs: { arguments: '{day: 2026-11-23}' },
    // the text is not echoed: it may hold a secret
    message:
      /^arguments is not valid JSON \(its text is not shown, as it may hold secrets\): quote keys and strings with ", as in \{"day": "2026-11-23"\}$/,
    input: 'arguments'
  },
  {
    action: 'run-and-wait',
    title: 'timeout-seconds Infinity',
    inputs: { 'timeout-seconds': 'Infinity' },
    message: new RegExp(`^timeout-seconds ${NUMBER}, not 'Infinity'$`),
    input: 'timeout-seconds'
  },
  {
    action: 'run-and-wait',
    title: 'a negative poll-interval-seconds',
    inputs: { 'poll-interval-seconds': '-1' },
    message: new RegExp(`^poll-interval-seconds ${NUMBER}, not '-1'$`),
    input: 'poll-interval-seconds'
  },
  {
    action: 'run-and-wait',
    title: "cancel-on-timeout: 'nope'",
    inputs: { 'cancel-on-timeout': 'nope' },
    message: new RegExp(`^cancel-on-timeout ${BOOL}, not 'nope'$`),
    input: 'cancel-on-timeout'
  },
  {
    action: 'run-and-wait',
    title: "fail-on-skipped: 'on'",
    inputs: { 'fail-on-skipped': 'on' },
    message: new RegExp(`^fail-on-skipped ${BOOL}, not 'on'$`),
    input: 'fail-on-skipped'
  },

  // --- fetch-logs
  {
    action: 'fetch-logs',
    title: 'a negative tail-lines',
    inputs: { 'tail-lines': '-5' },
    message: /^tail-lines must be a whole number above 0, not '-5'$/,
    input: 'tail-lines'
  },
  {
    action: 'fetch-logs',
    title: 'tail-lines 0',
    inputs: { 'tail-lines': '0' },
    message: /^tail-lines must be a whole number above 0, not '0'$/,
    input: 'tail-lines'
  },
  {
    action: 'fetch-logs',
    title: 'a fractional tail-lines',
    inputs: { 'tail-lines': '10.5' },
    message: /^tail-lines must be a whole number above 0, not '10\.5'$/,
    input: 'tail-lines'
  },
  {
    action: 'fetch-logs',
    title: "print: 'loud'",
    inputs: { print: 'loud' },
    message: new RegExp(`^print ${BOOL}, not 'loud'$`),
    input: 'print'
  },

  // --- set-properties
  {
    action: 'set-properties',
    title: 'properties that are not YAML',
    inputs: { properties: 'rows: [1, 2' },
    message:
      /^properties is not valid YAML or JSON \(line 1, column 12: BAD_INDENT\); its text is not shown, as it may hold secrets(; |$)/,
    input: 'properties'
  },
  {
    action: 'set-properties',
    title: 'properties that are a list',
    inputs: { properties: '- rows\n- limit' },
    message:
      /^properties must be a mapping of keys to values \(e\.g\. "rows: 100"\), not a list(; |$)/,
    input: 'properties'
  },
  {
    action: 'set-properties',
    title: 'both properties and properties-file',
    inputs: { 'properties-file': 'props.yaml' },
    message: /^set properties or properties-file, not both(; |$)/,
    input: 'properties-file'
  },
  {
    action: 'set-properties',
    title: 'a properties-file that does not exist',
    inputs: { properties: '', 'properties-file': 'missing.yaml' },
    message: /^properties-file 'missing\.yaml' cannot be read \(ENOENT\)(; |$)/,
    input: 'properties-file'
  },
  {
    action: 'set-properties',
    title: 'a properties-file that is not .json, .yaml or .yml',
    inputs: { properties: '', 'properties-file': 'props.txt' },
    message: /^properties-file 'props\.txt' must be a \.json, \.yaml or \.yml file(; |$)/,
    input: 'properties-file'
  },
  {
    action: 'set-properties',
    title: 'mode that is not a choice',
    inputs: { mode: 'overwrite' },
    message: /^mode must be merge or replace, not 'overwrite'$/,
    input: 'mode'
  },
  {
    action: 'set-properties',
    title: "mode: 'mErGe' (a word in lower, Title or UPPER case only)",
    inputs: { mode: 'mErGe' },
    message: /^mode must be merge or replace, not 'mErGe'$/,
    input: 'mode'
  },
  {
    action: 'deploy',
    title: "wait: 'tRUE' (a word in lower, Title or UPPER case only)",
    inputs: { wait: 'tRUE' },
    message: new RegExp(`^wait ${BOOL}, not 'tRUE'$`),
    input: 'wait'
  },
  {
    action: 'set-properties',
    title: 'remove with mode: replace',
    inputs: { mode: 'replace', remove: 'old_key' },
    message: /^remove has no meaning with mode: replace \(the new map is written whole\)$/,
    input: 'remove'
  },
  {
    action: 'set-properties',
    title: 'remove without any key, and nothing else to do',
    inputs: { properties: '', remove: ', ,' },
    message: /^nothing to do: set properties, properties-file, remove or secrets$/,
    input: 'remove'
  },
  {
    action: 'set-properties',
    title: 'remove as a YAML list of numbers',
    inputs: { remove: '[1, 2]' },
    message: /^remove must be key names, one per line or separated by commas$/,
    input: 'remove'
  },
  {
    action: 'set-properties',
    title: 'a secret that is not a string',
    inputs: { secrets: 'warehouse_password: 12345678' },
    message: /^secret 'warehouse_password' must be a string \(quote it\), not a number$/,
    input: 'secret'
  },
  {
    action: 'set-properties',
    title: "dry-run: 'perhaps'",
    inputs: { 'dry-run': 'perhaps' },
    message: new RegExp(`^dry-run ${BOOL}, not 'perhaps'$`),
    input: 'dry-run'
  },

  // --- validate (a bad job is its finding, after GET info; bad inputs are refused before)
  {
    action: 'validate',
    title: 'no job-path',
    inputs: { 'job-path': '' },
    message: /^job-path is required: the folder of the data job \(the one holding config\.ini\)$/,
    input: 'job-path'
  },
  {
    action: 'validate',
    title: 'a job-path that does not exist',
    inputs: { 'job-path': 'jobs/missing-job' },
    message:
      /^job-path 'jobs\/missing-job' does not exist \(resolved to \/.*\/jobs\/missing-job\)$/,
    input: 'job-path'
  },
  {
    action: 'validate',
    title: 'a job-path that is a file',
    inputs: { 'job-path': 'notes.txt' },
    message: /^job-path 'notes\.txt' is a file, not the job's folder$/,
    input: 'job-path'
  },
  {
    action: 'validate',
    title: 'a job-name with an underscore',
    inputs: { 'job-name': 'bad_name_job' },
    message: new RegExp(`^job-name 'bad_name_job' ${NAME_RULE}$`),
    input: 'job-name'
  },
  {
    action: 'validate',
    title: 'a control-service-url that is not a URL (the URL itself is optional here)',
    inputs: { 'control-service-url': '::1' },
    message: /^control-service-url is not a valid URL: '::1'/,
    input: 'control-service-url'
  },

  // --- changed-jobs (talks to no Control Service; its inputs are checked before git compares)
  {
    action: 'changed-jobs',
    title: 'a workspace that is not a git repository',
    inputs: {},
    plainWorkspace: true,
    message:
      /^the workspace '\/.*' is not a git repository; check the repository out first \(actions\/checkout with fetch-depth: 0\)$/,
    input: null
  },
  {
    action: 'changed-jobs',
    title: 'a jobs-root that does not exist',
    inputs: { 'jobs-root': 'pipelines' },
    message: /^jobs-root 'pipelines' does not exist$/,
    input: 'jobs-root'
  },
  {
    action: 'changed-jobs',
    title: 'a jobs-root that is a file',
    inputs: { 'jobs-root': 'notes.txt' },
    message: /^jobs-root 'notes\.txt' is not a folder$/,
    input: 'jobs-root'
  },
  {
    action: 'changed-jobs',
    title: 'a base that is no commit',
    inputs: { base: 'origin/no-such-branch' },
    message: /^base 'origin\/no-such-branch' is not a commit$/,
    input: 'base'
  },
  {
    action: 'changed-jobs',
    title: 'a head that looks like a commit but is not in the checkout',
    inputs: { head: 'deadbeefdeadbeef' },
    message:
      /^head 'deadbeefdeadbeef' is not a commit in this checkout \(a wrong commit, or a checkout too shallow: .*fetch-depth: 0/,
    input: 'head'
  },
  {
    action: 'changed-jobs',
    title: 'no base input and no push or pull_request event',
    inputs: { base: '' },
    message:
      /^the unknown event has no base and head to compare; set the base input \(and head, default: HEAD\), or run on push or pull_request$/,
    input: 'base'
  },
  {
    action: 'changed-jobs',
    title: 'a push event whose payload file is missing',
    inputs: { base: '' },
    env: { GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: '{ws}/no-event.json' },
    message:
      /^the event payload at GITHUB_EVENT_PATH \('\/.*\/no-event\.json'\) cannot be read: ENOENT.*; or set the base and head inputs$/,
    input: 'base'
  },

  // --- found by this suite: once crashes or late failures, now refused up front
  {
    action: 'fetch-logs',
    title: 'a path that is a folder',
    inputs: { path: 'jobs' },
    message: /^path 'jobs' is a folder: give the name of the file to write the logs to$/,
    input: 'path'
  },
  {
    action: 'run-and-wait',
    title: 'a poll-interval-seconds past what a timer can wait',
    inputs: { 'poll-interval-seconds': '3000000' },
    message: /^poll-interval-seconds must be at most 2147483 seconds \(24 days\), not '3000000'$/,
    input: 'poll-interval-seconds'
  },
  {
    action: 'deploy',
    title: 'a request-timeout-seconds past what a timer can wait',
    inputs: { 'request-timeout-seconds': '3000000' },
    message: /^request-timeout-seconds must be at most 2147483 seconds \(24 days\), not '3000000'$/,
    input: 'request-timeout-seconds'
  },
  {
    action: 'fetch-logs',
    title: 'a request-timeout-seconds in hexadecimal',
    inputs: { 'request-timeout-seconds': '0x10' },
    message: new RegExp(`^request-timeout-seconds ${NUMBER}, not '0x10'$`),
    input: 'request-timeout-seconds'
  },
  {
    action: 'upload-sources',
    title: 'a job-path that does not exist (said once, with nothing that follows from it)',
    inputs: { 'job-path': 'jobs/absent-job' },
    message: /^job-path 'jobs\/absent-job' does not exist \(resolved to [^;]*\)$/,
    input: 'job-path'
  },
  {
    action: '',
    title: 'run: true with a bad job-name (was a crash)',
    inputs: { run: 'true', 'job-name': 'Bad_Name' },
    message: new RegExp(`^job-name 'Bad_Name' ${NAME_RULE}$`),
    input: 'job-name'
  },
  {
    action: '',
    title: 'properties with no team anywhere (was a crash)',
    inputs: { 'job-path': 'jobs/teamless-job', properties: 'rows: 100' },
    message: /^team is required: set the team input, or \[owner\] team in config\.ini$/,
    input: 'team'
  },
  {
    action: '',
    title: 'run-wait that is not a choice, with run: false',
    inputs: { run: 'false', 'run-wait': 'later' },
    message: /^run-wait must be one of true, false, running, not 'later'$/,
    input: 'run-wait'
  },

  // --- the root action: deploy, then optionally run-and-wait and set-properties, its own names
  {
    action: '',
    title: 'deploy-timeout-seconds that is no number',
    inputs: { 'deploy-timeout-seconds': 'soon' },
    message: new RegExp(`^deploy-timeout-seconds ${NUMBER}, not 'soon'$`),
    input: 'deploy-timeout-seconds'
  },
  {
    action: '',
    title: "run: 'sometimes'",
    inputs: { run: 'sometimes' },
    message: new RegExp(`^run ${BOOL}, not 'sometimes'$`),
    input: 'run'
  },
  {
    action: '',
    title: 'run-wait that is not a choice',
    inputs: { run: 'true', 'run-wait': 'later' },
    message: /^run-wait must be one of true, false, running, not 'later'$/,
    input: 'run-wait'
  },
  {
    action: '',
    title: 'run-timeout-seconds 0',
    inputs: { run: 'true', 'run-timeout-seconds': '0' },
    message: new RegExp(`^run-timeout-seconds ${NUMBER}, not '0'$`),
    input: 'run-timeout-seconds'
  },
  {
    action: '',
    title: 'on-conflict that is not a choice',
    inputs: { run: 'true', 'on-conflict': 'queue' },
    message: /^on-conflict must be one of fail, wait, cancel, not 'queue'$/,
    input: 'on-conflict'
  },
  {
    action: '',
    title: 'properties-mode that is not a choice',
    inputs: { properties: 'rows: 100', 'properties-mode': 'upsert' },
    message: /^properties-mode must be merge or replace, not 'upsert'$/,
    input: 'properties-mode'
  },
  {
    action: '',
    title: 'both job-path and job-version',
    inputs: { 'job-version': 'a1b2c3d4e5f6a7b8' },
    message:
      /^set job-path \(upload, then deploy\) or job-version \(deploy a version already uploaded\), not both$/,
    input: 'job-version'
  },
  {
    action: '',
    title: 'a keytab in the job folder',
    inputs: { 'job-path': 'jobs/keytab-job' },
    message: /^jobs\/keytab-job\/secrets\/service\.keytab: a keytab file must not be uploaded/,
    input: null,
    annotation: { file: 'jobs/keytab-job/secrets/service.keytab' }
  },
  {
    action: '',
    title: "every part's problems in one line, a shared input's said once",
    inputs: {
      'control-service-url': 'ftp://vdk.example.com',
      'deploy-timeout-seconds': 'soon',
      'poll-interval-seconds': '0',
      run: 'true',
      'run-wait': 'later',
      properties: 'rows: 100',
      'properties-mode': 'upsert'
    },
    message: new RegExp(
      [
        '^control-service-url must be an http\\(s\\) URL, not ftp:',
        `deploy-timeout-seconds ${NUMBER}, not 'soon'`,
        `poll-interval-seconds ${NUMBER}, not '0'`,
        "run-wait must be one of true, false, running, not 'later'",
        "properties-mode must be merge or replace, not 'upsert'$"
      ].join('; ')
    ),
    input: 'deploy-timeout-seconds',
    once: 'poll-interval-seconds'
  },
  // --- moved here from upload-deploy.e2e.test.ts and run-and-wait.e2e.test.ts (the rows that
  // were not above already)
  {
    action: 'upload-sources',
    title: 'a job-path that is a file inside the job folder',
    inputs: { 'job-path': 'jobs/good-job/10_load.py' },
    message: /^job-path 'jobs\/good-job\/10_load\.py' is a file, not the job's folder(; |$)/,
    input: 'job-path'
  },
  {
    action: 'upload-sources',
    title: 'a job-name of one character',
    inputs: { 'job-name': 'x' },
    message: new RegExp(`^job-name 'x' ${NAME_RULE}$`),
    input: 'job-name'
  },
  {
    action: 'upload-sources',
    title: "create-if-missing: 'maybe'",
    inputs: { 'create-if-missing': 'maybe' },
    message: new RegExp(`^create-if-missing ${BOOL}, not 'maybe'$`),
    input: 'create-if-missing'
  },
  {
    action: 'upload-sources',
    title: 'plain http to a host that is not loopback',
    inputs: { 'control-service-url': 'http://vdk.example.com' },
    message: /^control-service-url uses plain http to vdk\.example\.com/,
    input: 'control-service-url'
  },
  {
    action: 'deploy',
    title: "wait: 'sometimes'",
    inputs: { wait: 'sometimes' },
    message: new RegExp(`^wait ${BOOL}, not 'sometimes'$`),
    input: 'wait'
  },
  {
    action: 'deploy',
    title: 'a negative timeout-seconds',
    inputs: { 'timeout-seconds': '-5' },
    message: new RegExp(`^timeout-seconds ${NUMBER}, not '-5'$`),
    input: 'timeout-seconds'
  },
  {
    action: 'deploy',
    title: 'a job-version and a job-name without a team',
    inputs: { 'job-path': '', 'job-version': 'abcdef1', 'job-name': 'good-job' },
    message: /^team is required/,
    input: 'team'
  },
  {
    action: 'deploy',
    title: "python-version: 'three'",
    inputs: { 'python-version': 'three' },
    message: /^python-version 'three' should look like 3\.11$/,
    input: 'python-version'
  },
  {
    action: 'deploy',
    title: "enabled: 'yes please'",
    inputs: { enabled: 'yes please' },
    message: new RegExp(`^enabled ${BOOL}, not 'yes please'$`),
    input: 'enabled'
  },
  {
    action: 'run-and-wait',
    title: 'arguments that are not JSON (an unquoted key)',
    inputs: { arguments: '{day: 1}' },
    message: /^arguments is not valid JSON \(its text is not shown/,
    input: 'arguments'
  },
  {
    action: 'run-and-wait',
    title: "on-conflict: 'ignore'",
    inputs: { 'on-conflict': 'ignore' },
    message: /^on-conflict must be one of fail, wait, cancel, not 'ignore'$/,
    input: 'on-conflict'
  },
  {
    action: 'run-and-wait',
    title: 'poll-interval-seconds 0',
    inputs: { 'poll-interval-seconds': '0' },
    message: new RegExp(`^poll-interval-seconds ${NUMBER}, not '0'$`),
    input: 'poll-interval-seconds'
  },
  {
    action: 'run-and-wait',
    title: 'a negative timeout-seconds',
    inputs: { 'timeout-seconds': '-5' },
    message: new RegExp(`^timeout-seconds ${NUMBER}, not '-5'$`),
    input: 'timeout-seconds'
  },
  {
    action: 'run-and-wait',
    title: 'neither job-name nor job-path',
    inputs: { 'job-name': '' },
    message: /^job-name is required when job-path is not given$/,
    input: 'job-name'
  },
  {
    action: 'run-and-wait',
    title: 'a job-name with capitals and an underscore',
    inputs: { 'job-name': 'Bad_Job' },
    message: new RegExp(`^job-name 'Bad_Job' ${NAME_RULE}$`),
    input: 'job-name'
  },
  // --- prune
  {
    action: 'prune',
    title: "mode: 'archive'",
    inputs: { mode: 'archive' },
    message: /^mode must be one of disable, undeploy, delete, not 'archive'$/,
    input: 'mode'
  },
  {
    action: 'prune',
    title: 'mode: delete without confirm-delete',
    inputs: { mode: 'delete' },
    message: /^confirm-delete is required with mode: delete: the names of the jobs it may delete/,
    input: 'confirm-delete'
  },
  {
    action: 'prune',
    title: 'mode: delete with confirm-delete naming another job',
    inputs: { mode: 'delete', 'confirm-delete': 'other-job' },
    message:
      /^confirm-delete does not name gone-job: with mode: delete, every job deleted must be named in it$/,
    input: 'confirm-delete'
  },
  {
    action: 'prune',
    title: 'confirm-delete without mode: delete',
    inputs: { 'confirm-delete': 'gone-job' },
    message: /^confirm-delete is only read with mode: delete$/,
    input: 'confirm-delete'
  },
  {
    action: 'prune',
    title: 'deleted that is not JSON',
    inputs: { 'job-name': '', deleted: '[{"path": "jobs/gone-job", "name": "gone-job"' },
    message: /^deleted is not JSON: pass the deleted output of changed-jobs as it is$/,
    input: 'deleted'
  },
  {
    action: 'prune',
    title: 'deleted that is not a list',
    inputs: { 'job-name': '', deleted: '{"path": "jobs/gone-job", "name": "gone-job"}' },
    message: /^deleted must be a JSON list of \{"path", "name"\}, as changed-jobs writes it$/,
    input: 'deleted'
  },
  {
    action: 'prune',
    title: 'deleted with an invalid job name',
    inputs: { 'job-name': '', deleted: '[{"path": "jobs/Bad_Job", "name": "Bad_Job"}]' },
    message: /^deleted entry 1 has no valid job name \(expected \{"path", "name"\}\)$/,
    input: 'deleted'
  },
  {
    action: 'prune',
    title: 'job-name without team',
    inputs: { team: '' },
    message: /^team is required with job-name \(the team the job is in\)$/,
    input: 'team'
  },
  {
    action: 'prune',
    title: 'both deleted and job-name',
    inputs: { deleted: '[]' },
    message: /^set deleted \(the output of changed-jobs\) or job-name, not both$/,
    input: 'deleted'
  }
]

const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', args, {
    cwd,
    env: {
      ...process.env,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: 'Test Author',
      GIT_AUTHOR_EMAIL: 'author@example.com',
      GIT_COMMITTER_NAME: 'Test Committer',
      GIT_COMMITTER_EMAIL: 'committer@example.com'
    },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe']
  }).trim()

/** The inputs of `row` (or of the baseline alone), filled in for `at`. */
export const inputsOf = (
  action: string,
  inputs: Record<string, string>,
  at: Places
): Record<string, string> =>
  fill({ ...(action === 'changed-jobs' ? {} : CONNECTION), ...BASELINE[action], ...inputs }, at)

/** The workspace the rows run in (a git repository with their job folders) and a plain folder. */
export function makeWorkspace(): Omit<Places, 'url'> {
  const ws = mkdtempSync(join(tmpdir(), 'bad-inputs-'))
  const plain = mkdtempSync(join(tmpdir(), 'bad-inputs-plain-'))
  const jobs = join(ws, 'jobs')
  const job = (name: string, config: string, files: Record<string, string> = LOAD): string =>
    writeJobFolder(jobs, name, files, config)
  job('good-job', GOOD_INI)
  job('python-job', `${GOOD_INI}python_version = 3.11\n`)
  job('no-config-job', '')
  job('garbled-job', `[owner]\nteam = ${TEAM}\nthis line is not ini\n`)
  job('keyfirst-job', `team = ${TEAM}\n[owner]\n`)
  job('twice-job', `${GOOD_INI}\n[owner]\n`)
  job('notify-job', `${GOOD_INI}\n[contacts]\nenable_execution_notifications = sometimes\n`)
  job('delay-job', `${GOOD_INI}\n[contacts]\nnotification_delay_period_minutes = -3\n`)
  job('keytab-job', GOOD_INI, { ...LOAD, 'secrets/service.keytab': 'not really a keytab' })
  job('My_Job', GOOD_INI)
  job('teamless-job', '[job]\nschedule_cron = 0 6 * * *\n')
  // a file of the machine outside the checkout (the workspace)
  writeFileSync(join(plain, 'outside.txt'), 'outside the repository checkout\n')
  symlinkSync(join(plain, 'outside.txt'), join(job('escape-job', GOOD_INI), 'passwd.txt'))
  symlinkSync('nowhere.py', join(job('dangling-job', GOOD_INI), 'gone.py'))
  writeFileSync(join(ws, 'notes.txt'), 'a file, not a folder\n')
  writeFileSync(join(ws, 'props.yaml'), 'rows: 100\n')
  writeFileSync(join(ws, 'props.txt'), 'rows: 100\n')
  git(ws, 'init', '-q', '-b', 'main')
  git(ws, 'commit', '-q', '--allow-empty', '-m', 'initial')
  return { ws, plain }
}

/** What a test file runs the rows against: the local Control Service and the workspaces. */
export interface Bed {
  emu: Emulator
  at: Places
}

/**
 * The bed of a test file, set up before its tests and removed after them (the service knows the
 * rows' tokens; `options` add its timings); the service's journal is emptied before each test.
 */
export function useBed(options: EmulatorOptions = {}): Bed {
  const bed = {} as Bed
  beforeAll(async () => {
    bed.emu = await startEmulator({ tokens: [TOKEN], apiTokens: [API_TOKEN], ...options })
    bed.at = { url: bed.emu.url, ...makeWorkspace() }
  })
  afterAll(async () => {
    await bed.emu.close()
    rmSync(bed.at.ws, { recursive: true, force: true })
    rmSync(bed.at.plain, { recursive: true, force: true })
  })
  beforeEach(() => {
    bed.emu.journal.splice(0)
  })
  return bed
}
