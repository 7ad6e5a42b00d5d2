// deploy's record in GitHub (and the root action's): one GitHub deployment per deploy of a job, in an
// environment per job (default vdk/<team>/<job>), so that the repository's Deployments view shows
// what runs where; then its statuses: in_progress when the deploy request is sent, success when the
// version is live, failure when it is not. Recording never fails a deploy: a token without
// `deployments: write` (or none) is one notice with `github-deployment: auto`, one warning with
// `true`; any other GitHub failure one warning; after the first, nothing more is sent to GitHub.
//
// GitHub's behaviour relied on (docs.github.com/en/rest/deployments/deployments#create-a-deployment,
// …/deployments/statuses#create-a-deployment-status, and @octokit/openapi's description):
// - required_contexts omitted = every commit status context must be success, else 409: the
//   workflow's own checks are still pending while it deploys, so [] is sent ("To bypass checking
//   entirely, pass an empty array").
// - auto_merge (default true) merges the default branch into the ref when it is behind: a deploy
//   records the commit it deployed, so false.
// - a success status with auto_inactive (default true) marks the earlier success deployments of
//   the same environment inactive (non-transient, non-production): GitHub keeps one active per job.
// - log_url also sets target_url; environment_url is the link shown on the deployment.
import { GitHub, GitHubError, readGitHub, type GitHubConfig } from '../core/github.js'
import { choice, type InputSource, type Problems } from '../core/inputs.js'
import type { JobRef } from '../core/client.js'
import { hasControl, httpUrl, shownUrl } from '../core/text.js'
import { userAgent } from '../core/connection.js'
import { link, type ActionContext, type Outcome } from './runtime.js'

export interface DeploymentRecordConfig {
  mode: 'auto' | 'true' | 'false'
  github: GitHubConfig
  /** The github-environment input; "" = vdk/<team>/<job>. */
  environment: string
  /** The environment-url input: a link template with {team}, {job}, {version}; "" = none. */
  environmentUrl: string
}

/** The permission the record needs, as a workflow grants it. */
export const DEPLOYMENTS_WRITE = 'deployments: write'
const PLACEHOLDERS = ['team', 'job', 'version'] as const

/** The link of environment-url for a job's version: each placeholder URL-encoded. */
export const environmentLink = (template: string, values: Record<string, string>): string =>
  template.replace(/\{(team|job|version)\}/g, (_m, k: string) => encodeURIComponent(values[k]))

/** Reads github-deployment, github-token, github-environment and environment-url. */
export function readDeploymentRecord(
  inputs: InputSource,
  problems: Problems
): DeploymentRecordConfig {
  const mode = choice(
    'github-deployment',
    inputs.input('github-deployment'),
    ['auto', 'true', 'false'],
    'auto',
    problems
  )
  const github = readGitHub(inputs, problems)
  const environment = inputs.input('github-environment')
  if (hasControl(environment) || environment.length > 255)
    problems.add(
      'github-environment',
      'must be one line of at most 255 characters (a GitHub environment name)'
    )
  const environmentUrl = inputs.input('environment-url')
  if (environmentUrl) {
    const unknown = /\{(?!(?:team|job|version)\})[^}]*\}/.exec(environmentUrl)?.[0]
    const sample = httpUrl(environmentLink(environmentUrl, { team: 't', job: 'j', version: 'v' }))
    if (unknown)
      problems.add(
        'environment-url',
        `has the placeholder ${unknown}; it may hold ${PLACEHOLDERS.map(p => `{${p}}`).join(', ')}`
      )
    else if (!sample)
      problems.add(
        'environment-url',
        `must be an http(s) URL (a link template with {team}, {job}, {version}), not '${shownUrl(environmentUrl)}'`
      )
    else if (sample.username || sample.password)
      problems.add('environment-url', 'must not hold credentials: it is shown on GitHub')
  }
  return { mode, github, environment, environmentUrl }
}

type FinalState = 'success' | 'failure'

/** One deploy's record in GitHub, made step by step as the deploy goes; never throws. */
export class DeploymentRecorder {
  private gh?: GitHub
  private id?: number
  private finished = false
  /** Why nothing (more) is recorded, once something went wrong or was missing. */
  private stopped?: string

  constructor(
    private readonly config: DeploymentRecordConfig,
    private readonly ctx: ActionContext,
    private readonly job: JobRef,
    /** The Control Service's URL, for the payload (without credentials: shownUrl). */
    private readonly serviceUrl: string
  ) {
    if (config.mode === 'false') {
      this.stopped = 'github-deployment is false'
      return
    }
    const { github } = config
    if (!github.token) {
      this.stop(
        `no github-token; give it \${{ github.token }} (its default) and add "permissions: ${DEPLOYMENTS_WRITE}" to the workflow job`,
        'permission'
      )
      return
    }
    if (!github.repository || !github.sha) {
      this.stop('GITHUB_REPOSITORY or GITHUB_SHA is not set (not a workflow run)', 'permission')
      return
    }
    this.gh = new GitHub(github, {
      env: ctx.env,
      signal: ctx.signal,
      userAgent: userAgent('deploy')
    })
  }

  /** The GitHub environment of the job. */
  get environment(): string {
    return this.config.environment || `vdk/${this.job.team}/${this.job.job}`
  }

  /** The GitHub deployment's id, once created. */
  get deploymentId(): number | undefined {
    return this.id
  }

  /** Creates the deployment of `version` and says it is in progress (the deploy request is being sent). */
  async started(version: string): Promise<void> {
    const gh = this.gh
    if (!gh || this.stopped) return
    await this.attempt('create the GitHub deployment', async () => {
      const answer = await gh.call(
        { operation: 'create the GitHub deployment', permission: DEPLOYMENTS_WRITE },
        o =>
          o.rest.repos.createDeployment({
            ...gh.repo,
            ref: this.config.github.sha!,
            environment: this.environment,
            auto_merge: false,
            required_contexts: [],
            description: `VDK data job ${this.job.job} (team ${this.job.team}), version ${version}`,
            payload: {
              job: this.job.job,
              team: this.job.team,
              version,
              'control-service-url': shownUrl(this.serviceUrl)
            }
          })
      )
      if (answer.status !== 201 || !('id' in answer.data))
        throw new GitHubError(
          `GitHub: could not create the GitHub deployment (HTTP ${answer.status}: no deployment made)`,
          'http',
          answer.status
        )
      this.id = answer.data.id
      this.ctx.info(`GitHub deployment ${this.id} in environment ${this.environment}`)
      await this.status('in_progress', `deploying version ${version}`, version)
    })
  }

  /** The end: success (live) or failure (not live, or the deploy failed). Once. */
  async finish(state: FinalState, description: string, version: string): Promise<void> {
    if (this.finished || this.id === undefined || this.stopped) return
    this.finished = true
    await this.attempt(`mark the GitHub deployment ${state}`, () =>
      this.status(state, description, version)
    )
  }

  /**
   * A later verdict on a deployment that already ended: a release that went live (success) and
   * then failed its check is marked failure (rollback.ts). GitHub shows the latest status.
   */
  async revise(state: FinalState, description: string, version: string): Promise<void> {
    if (this.id === undefined || this.stopped) return
    await this.attempt(`mark the GitHub deployment ${state}`, () =>
      this.status(state, description, version)
    )
  }

  /** The summary's words for the record. */
  summaryText(): string {
    if (this.id !== undefined) return `GitHub deployment ${this.id} (${this.environment})`
    return this.stopped && this.config.mode !== 'false' ? 'not recorded in GitHub' : ''
  }

  private async status(
    state: 'in_progress' | FinalState,
    description: string,
    version: string
  ): Promise<void> {
    const gh = this.gh!
    const environmentUrl = this.config.environmentUrl
      ? environmentLink(this.config.environmentUrl, { ...this.job, version })
      : undefined
    await gh.call(
      { operation: `set the GitHub deployment ${state}`, permission: DEPLOYMENTS_WRITE },
      o =>
        o.rest.repos.createDeploymentStatus({
          ...gh.repo,
          deployment_id: this.id!,
          state,
          // GitHub keeps at most 140 characters of a description
          description: description.length > 140 ? `${description.slice(0, 139)}…` : description,
          ...(this.config.github.runUrl ? { log_url: this.config.github.runUrl } : {}),
          ...(environmentUrl ? { environment_url: environmentUrl } : {}),
          auto_inactive: true
        })
    )
  }

  /** Runs one step of the record; a failure stops the record with one notice or warning. */
  private async attempt(what: string, step: () => Promise<void>): Promise<void> {
    try {
      await step()
    } catch (e) {
      if (e instanceof GitHubError && e.kind === 'aborted') return
      const error = e instanceof GitHubError ? e : undefined
      if (!error) throw e
      this.stop(error.message, error.kind === 'permission' ? 'permission' : 'other', what)
    }
  }

  private stop(reason: string, kind: 'permission' | 'other', what?: string): void {
    this.stopped = reason
    const line =
      `the deploy is not recorded as a GitHub deployment${what && kind === 'other' ? ` (${what})` : ''}: ${reason}` +
      ' (github-deployment: false turns the record off)'
    // with auto, a record that cannot be made is expected (no permission granted): a notice
    if (kind === 'permission' && this.config.mode === 'auto') this.ctx.notice(line)
    else this.ctx.warning(line)
  }
}

/**
 * The record's end after a deploy's outcome (live: success; not-live or failed: failure; started
 * or unchanged: as it is), and the outcome with the record: the github-deployment-id output and
 * a column of the summary linking to the repository's Deployments view.
 */
export async function withRecord(
  recorder: DeploymentRecorder,
  outcome: Outcome,
  version: string | undefined,
  env: NodeJS.ProcessEnv
): Promise<Outcome> {
  const status = outcome.outputs['deployment-status']
  if (status === 'live')
    await recorder.finish('success', `version ${version} is live`, version ?? '')
  else if (status === 'not-live' || outcome.failure)
    await recorder.finish(
      'failure',
      outcome.failure ? `not live: ${outcome.failure}` : 'not live',
      version ?? ''
    )
  const outputs = { ...outcome.outputs, 'github-deployment-id': recorder.deploymentId ?? '' }
  const text = recorder.summaryText()
  if (!outcome.summary || !text) return { ...outcome, outputs }
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo } = env
  const view = server && repo ? httpUrl(`${server}/${repo}/deployments`) : undefined
  const cell = view && recorder.deploymentId !== undefined ? link(text, view.href) : text
  return {
    ...outcome,
    outputs,
    summary: {
      ...outcome.summary,
      columns: [...outcome.summary.columns, 'GitHub'],
      rows: outcome.summary.rows.map(r => [...r, cell])
    }
  }
}
