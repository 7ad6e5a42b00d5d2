// plan: what merging a pull request would do on the Control Service, per changed job — the job
// created, the new sources (the changed files, from git), the config field by field, the
// deployment's python version and state, the properties against the deployed ones, and the
// deployments a deleted folder leaves behind — read with GET requests only, plus validate's checks
// of each job as annotations. Written to the job summary, the `changes` output and, with
// comment: true, one pull-request comment kept up to date (plan-comment.ts).
import { realpathSync } from 'node:fs'
import { relative, resolve, sep } from 'node:path'
import { jobRef, type JobRef } from '../core/client.js'
import { userAgent } from '../core/connection.js'
import { changedFiles, commitOf, mergeBase, repositoryTop } from '../core/git.js'
import { JOB_NAME_RULE } from '../core/jobrules.js'
import { jobTrees, teamOf } from '../core/jobtrees.js'
import type { GoneJob, PlanConfig, PlannedJob } from './plan-inputs.js'
import { readPlanConfig } from './plan-inputs.js'
import {
  configChanges,
  deploymentChanges,
  propertiesAgainstFile,
  readLive,
  type LiveJob
} from './plan-live.js'
import { writeComment } from './plan-comment.js'
import { changes, changesJson, commentBody, planTable, type JobPlan } from './plan-report.js'
import type { ActionContext, ActionDefinition } from './runtime.js'
import { checkJob } from './validate.js'

/** The commits the changed files are taken between, in the repository at `top`. */
interface Compared {
  top: string
  base: string
  head: string
}

const short = (sha: string): string => sha.slice(0, 12)

/** The repository's top folder and the commits to compare, or why the files are not listed. */
async function compared(config: PlanConfig, ctx: ActionContext): Promise<Compared | string> {
  if (!config.refs) return config.noRefs ?? 'no commits to compare'
  const workspace = ctx.env.GITHUB_WORKSPACE ?? process.cwd()
  let top: string
  try {
    top = await repositoryTop(workspace)
  } catch {
    return `the workspace is not a git repository: the changed files are not listed (check the repository out first)`
  }
  const { refs } = config
  const base = await commitOf(top, refs.base)
  const head = await commitOf(top, refs.head)
  const shallow = 'check out with actions/checkout and fetch-depth: 0 to list the changed files'
  if (!base || !head)
    return `the ${base ? 'head' : 'base'} commit ${short(base ? refs.head : refs.base)} is not in this checkout: ${shallow}`
  if (!refs.mergeBase) return { top, base, head }
  const from = await mergeBase(top, base, head)
  if (!from)
    return `${short(base)} and ${short(head)} have no merge base in this checkout: ${shallow}`
  return { top, base: from, head }
}

/** A folder's path from the repository's top, '/' separators. */
const fromTop = (top: string, dir: string): string => relative(top, dir).split(sep).join('/')

/** The job's ref when the service can be read for it: a connection, a team, a valid name. */
function refOf(config: PlanConfig, name: string, team: string | undefined): JobRef | string {
  if (!config.connection) return 'the Control Service is not read'
  if (!team)
    return 'no team (set [owner] team in config.ini, or the team input): the Control Service is not read for it'
  if (!JOB_NAME_RULE.test(name))
    return 'its name is not a valid job name: the Control Service is not read for it'
  return jobRef(team, name)
}

async function planJob(
  config: PlanConfig,
  ctx: ActionContext,
  given: PlannedJob,
  git: Compared | string
): Promise<JobPlan> {
  const check = await checkJob(
    { connection: config.connection, jobDir: given.jobDir, team: config.team },
    ctx
  )
  const plan: JobPlan = {
    name: check.name,
    path: given.path,
    team: check.job.team ?? given.team,
    folder: 'changed',
    job: 'unknown',
    config: [],
    deployment: [],
    properties: [],
    problems: [...check.found],
    notes: []
  }
  if (typeof git !== 'string') {
    const dir = fromTop(git.top, realpathSync(given.jobDir))
    const files = await changedFiles(git.top, git.base, git.head, dir)
    plan.files = files.map(f => ({
      ...f,
      path: relative(dir, f.path) || f.path,
      ...(f.from ? { from: relative(dir, f.from) } : {})
    }))
  }
  const ref = refOf(config, plan.name, plan.team)
  if (typeof ref === 'string') {
    if (config.connection) plan.notes.push(ref)
    return plan
  }
  const live: LiveJob = await readLive(ctx, ref)
  plan.job = live.exists ? 'exists' : 'absent'
  if (live.deployment)
    plan.deployed = { version: live.deployment.job_version, enabled: live.deployment.enabled }
  if (check.ini) {
    plan.config = configChanges(live, check.ini)
    plan.deployment = deploymentChanges(live, check.ini, config.enabled)
  }
  if (config.propertiesFile) {
    const file = { name: config.propertiesFile, mode: config.propertiesMode }
    const properties = await propertiesAgainstFile(ctx, ref, given.jobDir, file)
    if (properties.problem) plan.problems.push(properties.problem)
    plan.properties = properties.changes
  }
  return plan
}

/** The team of a deleted job: the team input, or [owner] team of its config.ini at the base. */
async function deletedTeam(
  config: PlanConfig,
  ctx: ActionContext,
  gone: GoneJob,
  git: Compared | string
): Promise<string | undefined> {
  if (config.team) return config.team
  if (typeof git === 'string') return undefined
  const workspace = realpathSync(ctx.env.GITHUB_WORKSPACE ?? process.cwd())
  const dir = fromTop(git.top, resolve(workspace, gone.path))
  const trees = await jobTrees(git.top, git.base, dir)
  return (await teamOf(git.top, trees.get(Buffer.from(dir).toString('latin1')))) || undefined
}

async function planDeleted(
  config: PlanConfig,
  ctx: ActionContext,
  gone: GoneJob,
  git: Compared | string
): Promise<JobPlan> {
  const team = await deletedTeam(config, ctx, gone, git)
  const plan: JobPlan = {
    name: gone.name,
    path: gone.path,
    team,
    folder: 'deleted',
    job: 'unknown',
    config: [],
    deployment: [],
    properties: [],
    problems: [],
    notes: []
  }
  const ref = refOf(config, gone.name, team)
  if (typeof ref === 'string') {
    if (config.connection) plan.notes.push(ref)
    return plan
  }
  const live = await readLive(ctx, ref)
  plan.job = live.exists ? 'exists' : 'absent'
  if (live.deployment)
    plan.deployed = { version: live.deployment.job_version, enabled: live.deployment.enabled }
  return plan
}

/** One log line a job: what changes. */
function logLine(j: JobPlan): string {
  if (!changes(j)) return `${j.name}: no change on the Control Service`
  if (j.folder === 'deleted')
    return `${j.name}: folder deleted, the job${j.deployed ? ` and its deployment (version ${j.deployed.version ?? '?'})` : ''} stay on the Control Service`
  const parts = [
    j.job === 'absent' ? 'job created' : '',
    j.files?.length ? `${j.files.length} changed file(s)` : '',
    j.config.length ? `config: ${j.config.map(c => c.field).join(', ')}` : '',
    j.deployment.length ? `deployment: ${j.deployment.map(c => c.field).join(', ')}` : '',
    j.properties.length ? `${j.properties.length} propert(ies)` : ''
  ]
  return `${j.name}: ${parts.filter(Boolean).join('; ') || 'new sources'}`
}

export const plan: ActionDefinition<PlanConfig> = {
  name: 'plan',

  config: (inputs, problems) => Promise.resolve(readPlanConfig(inputs, problems)),

  // read-only: readJob, listDeployments, readProperties and validate's info (all GET)
  connection: config => config.connection,

  async run(config, ctx) {
    if (config.skipped) ctx.notice(config.skipped)
    const git = await compared(config, ctx)
    if (typeof git === 'string') ctx.notice(git)
    else
      ctx.info(
        `changed files: ${short(git.base)} to ${short(git.head)}, from ${config.refs?.source}`
      )
    const jobs: JobPlan[] = []
    // a failed read is the failure: its message names the request (ControlServiceError)
    for (const j of config.jobs) jobs.push(await planJob(config, ctx, j, git))
    for (const d of config.deleted) jobs.push(await planDeleted(config, ctx, d, git))
    for (const j of jobs) ctx.info(logLine(j))
    const table = planTable(jobs, config.showValues, config.skipped)
    if (config.comment) {
      const body = commentBody(config.comment.key, table, {
        commit: typeof git === 'string' ? config.comment.github.sha : git.head,
        skipped: config.skipped,
        run: config.comment.github.runUrl
      })
      const result = await writeComment(ctx, config.comment, body, userAgent('plan'))
      if (result !== 'not written') ctx.info(`pull-request comment ${result}`)
    }
    return {
      outputs: {
        changes: changesJson(jobs, config.connection !== undefined, config.showValues),
        'has-changes': jobs.some(changes)
      },
      summary: table,
      annotations: jobs.flatMap(j => j.problems)
    }
  }
}
