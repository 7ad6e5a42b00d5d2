// The client of the Control Service: one typed method per operation the actions need, each a
// call of calls/ (jobs, deployments, executions, properties and secrets; what they share is in
// calls/common.ts, and answers are checked by answers.ts). Here the names a call is about are
// checked once more before any path is made of them. The real service's habits are handled in
// the calls (202 + Location, empty 404s, `data` as the root field's value), and a POST that may
// have reached the server is reconciled by reading back instead of being sent blindly again.
import type { Readable } from 'node:stream'
import { InputError } from './errors.js'
import { JOB_NAME_RULE, JOB_NAME_WORDS, teamProblem } from './jobrules.js'
import type { Transport } from './http.js'
import { segment, type JobAddress, type TeamAddress } from './calls/common.js'
import {
  deleteDeployment,
  deploy,
  listDeployments,
  patchDeployment,
  readDeployment,
  type DeploymentPatch,
  type DeployOptions
} from './calls/deployments.js'
import {
  cancelExecution,
  executionIdProblem,
  latestExecutions,
  listExecutions,
  readExecution,
  readLogs,
  readLogsUrl,
  startExecution,
  type LogsOptions,
  type LogsUrlText
} from './calls/executions.js'
import {
  createJob,
  deleteJob,
  downloadSources,
  listTeamJobNames,
  readInfo,
  readJob,
  updateJob,
  uploadSources,
  type JobSettings,
  type UploadOptions
} from './calls/jobs.js'
import { readStore, writeStore } from './calls/properties.js'
import type { LogsUrlRule } from './logsurl.js'
import { EXECUTION_ID_RULE } from './types.js'
import type {
  DataJob,
  DataJobApiInfo,
  DataJobDeployment,
  DataJobDeploymentStatus,
  DataJobExecution,
  DataJobExecutionRequest,
  ExecutionStatus,
  GqlExecution,
  JsonMap
} from './types.js'

export interface JobRef {
  readonly team: string
  readonly job: string
}

export { EXECUTION_ID_RULE }

export { executionIdProblem }

/** A validated team + job: bad names fail here, before any request. */
export function jobRef(team: string, job: string): JobRef {
  if (!team.trim())
    throw new InputError('the team is empty: set the team input, or [owner] team in config.ini')
  const bad = teamProblem(team)
  if (bad) throw new InputError(`the team ${bad}`)
  if (!JOB_NAME_RULE.test(job)) {
    throw new InputError(
      `the job name '${job}' is not valid: the Control Service wants ${JOB_NAME_WORDS}`
    )
  }
  return { team, job }
}

export { deployedAfter, isDeploymentOf } from './calls/deployments.js'
export { logLines, splitLines } from './calls/executions.js'
export { MAX_JSON_DEPTH, nestsDeeper } from './answers.js'

export class ControlServiceClient {
  constructor(readonly transport: Transport) {}

  /** Closes the connections kept alive, so that the process can end at once. */
  close(): Promise<void> {
    return this.transport.close()
  }

  private team(team: string): TeamAddress {
    // every caller checks the team first; this is the last line before a path is made of it
    const bad = teamProblem(team)
    if (bad) throw new InputError(`the team ${bad}`)
    return { transport: this.transport, team, path: `/data-jobs/for-team/${segment(team)}` }
  }

  private job(ref: JobRef): JobAddress {
    const teamPath = this.team(ref.team).path
    return {
      transport: this.transport,
      team: ref.team,
      job: ref.job,
      teamPath,
      path: `${teamPath}/jobs/${segment(ref.job)}`,
      label: `data job '${ref.job}' of team '${ref.team}'`
    }
  }

  async info(team: string): Promise<DataJobApiInfo> {
    return readInfo(this.team(team))
  }

  /** The names of the team's jobs (GraphQL: the API has no REST list of them). */
  async teamJobNames(team: string): Promise<string[]> {
    return listTeamJobNames(this.team(team))
  }

  /** The job, or undefined when it does not exist (for this team). */
  async readJob(ref: JobRef): Promise<DataJob | undefined> {
    return readJob(this.job(ref))
  }

  /** `exists`: it was there already, in this team; `taken`: a job of another team has the name. */
  async createJob(ref: JobRef, job: JobSettings): Promise<'created' | 'exists' | 'taken'> {
    return createJob(this.job(ref), job)
  }

  async updateJob(ref: JobRef, job: JobSettings): Promise<void> {
    return updateJob(this.job(ref), job)
  }

  /** Uploads a zip streamed from `zip()`; the version the service answers. */
  async uploadSources(
    ref: JobRef,
    zip: () => Readable | Buffer,
    options: UploadOptions = {}
  ): Promise<string> {
    return uploadSources(this.job(ref), zip, options)
  }

  /** The job's current sources as a zip stream (its top folder is the job name). */
  async downloadSources(ref: JobRef): Promise<Readable> {
    return downloadSources(this.job(ref))
  }

  async listDeployments(ref: JobRef): Promise<DataJobDeploymentStatus[]> {
    return listDeployments(this.job(ref))
  }

  /** The live deployment, or undefined when the job is not deployed. */
  async readDeployment(ref: JobRef): Promise<DataJobDeploymentStatus | undefined> {
    return readDeployment(this.job(ref))
  }

  /** Starts a deployment; `already-live`: a lost answer's deployment was found live. */
  async deploy(
    ref: JobRef,
    deployment: DataJobDeployment,
    options: DeployOptions = {}
  ): Promise<'sent' | 'already-live'> {
    return deploy(this.job(ref), deployment, options)
  }

  /** Enables or disables the deployment (synchronous on the service). */
  async patchDeployment(ref: JobRef, patch: DeploymentPatch): Promise<void> {
    return patchDeployment(this.job(ref), patch)
  }

  /** Deletes the deployment (undeploys); 'absent': the team has no such job. */
  async deleteDeployment(ref: JobRef): Promise<'deleted' | 'absent'> {
    return deleteDeployment(this.job(ref))
  }

  /** Deletes the job and its deployment; 'absent': the team has no such job. */
  async deleteJob(ref: JobRef): Promise<'deleted' | 'absent'> {
    return deleteJob(this.job(ref))
  }

  /** The job's latest executions, newest first. */
  async latestExecutions(ref: JobRef, size = 5): Promise<GqlExecution[]> {
    return latestExecutions(this.job(ref), size)
  }

  /** Starts an execution (never twice); its id. `onSend` is told each attempt's op id. */
  async startExecution(
    ref: JobRef,
    request: DataJobExecutionRequest,
    options: { onSend?: (opId: string) => void } = {}
  ): Promise<string> {
    return startExecution(this.job(ref), request, options.onSend)
  }

  async readExecution(ref: JobRef, id: string): Promise<DataJobExecution> {
    return readExecution(this.job(ref), id)
  }

  async listExecutions(ref: JobRef, statuses?: ExecutionStatus[]): Promise<DataJobExecution[]> {
    return listExecutions(this.job(ref), statuses)
  }

  /** Cancels an execution; its status afterwards (`cancelled`, or how it had already ended). */
  async cancelExecution(ref: JobRef, id: string): Promise<ExecutionStatus> {
    return cancelExecution(this.job(ref), id)
  }

  /** The execution's logs as the service has them now ("" once its pod is gone). */
  async logs(ref: JobRef, id: string, options: LogsOptions = {}): Promise<string> {
    return readLogs(this.job(ref), id, options)
  }

  /** The plain text behind a logs_url, when `rule` lets it be followed; otherwise why not. */
  async readLogsUrl(url: string, rule: LogsUrlRule): Promise<LogsUrlText> {
    return readLogsUrl(this.transport, url, rule)
  }

  async readProperties(ref: JobRef): Promise<JsonMap> {
    return readStore(this.job(ref), 'properties')
  }

  /** Replaces the whole map (the service has no partial update). */
  async writeProperties(ref: JobRef, properties: JsonMap): Promise<void> {
    return writeStore(this.job(ref), 'properties', properties)
  }

  async readSecrets(ref: JobRef): Promise<JsonMap> {
    return readStore(this.job(ref), 'secrets')
  }

  /** Replaces the whole map of secrets. */
  async writeSecrets(ref: JobRef, secrets: JsonMap): Promise<void> {
    return writeStore(this.job(ref), 'secrets', secrets)
  }
}
