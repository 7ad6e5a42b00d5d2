// prune: retire the data jobs whose folders were deleted from the repository, per job one of
// disable (PATCH the deployment enabled: false; reversible, the default), undeploy (DELETE the
// deployment) or delete (DELETE the job, only for the jobs confirm-delete names). Before any
// request every job is checked against git: a job whose name a job folder at head still has (a
// moved folder) is refused, and so is one whose old config.ini (at the base commit) names another
// team than the team input. Each refusal is one line and nothing is sent to change it; the step
// fails when any job was refused. A job the service does not have in that team is absent: a
// warning (deleted already, or in another team), nothing sent but the read, not a failure.
import { realpathSync } from 'node:fs'
import { basename, isAbsolute, relative, resolve, sep } from 'node:path'
import { jobRef, type JobRef } from '../core/client.js'
import { ActionFailure } from '../core/errors.js'
import { commitOf, repositoryTop } from '../core/git.js'
import { jobTrees, teamOf } from '../core/jobtrees.js'
import type { DataJobDeploymentStatus } from '../core/types.js'
import { readLive } from './plan-live.js'
import { readPruneConfig, type PruneConfig, type PruneJob, type PruneMode } from './prune-inputs.js'
import type { ActionContext, ActionDefinition, Outcome } from './runtime.js'

/** What prune did with one job (the `results` output: one JSON object each). */
export interface PruneResult {
  name: string
  path?: string
  team?: string
  result:
    | 'disabled'
    | 'already disabled'
    | 'not deployed'
    | 'undeployed'
    | 'deleted'
    | 'absent'
    | 'refused'
  /** The deployment before prune acted, when the job had one. */
  deployed?: { version?: string; enabled?: boolean }
  /** Why it was refused, or a note on what was done. */
  reason?: string
}

/** The repository as prune reads it: its top folder, jobs-root from it, the base commit. */
interface Checkout {
  top: string
  workspace: string
  root: string
  base?: string
}

const fromTop = (top: string, dir: string): string => relative(top, dir).split(sep).join('/')

async function checkout(config: PruneConfig, ctx: ActionContext): Promise<Checkout> {
  const workspace = realpathSync(ctx.env.GITHUB_WORKSPACE ?? process.cwd())
  let top: string
  try {
    top = await repositoryTop(workspace)
  } catch {
    throw new ActionFailure(
      'the workspace is not a git repository: prune reads the job folders at head to refuse a job that was moved, not deleted; check the repository out first (actions/checkout)'
    )
  }
  let root: string
  try {
    root = fromTop(top, realpathSync(config.jobsRoot.path))
  } catch {
    throw new ActionFailure(`jobs-root '${config.jobsRoot.input}' is not a folder in the checkout`)
  }
  if (root.startsWith('..') || isAbsolute(root))
    throw new ActionFailure(`jobs-root '${config.jobsRoot.input}' is outside the git repository`)
  const base = config.base && (await commitOf(top, config.base.rev))
  if (config.base && !base)
    ctx.notice(
      `the base commit ${config.base.rev.slice(0, 12)} (${config.base.source}) is not in this checkout: the deleted folders' config.ini cannot be read, the team input is the team (check out with fetch-depth: 0 to read it)`
    )
  return { top, workspace, root, base: base || undefined }
}

/** The job folders at head under jobs-root, by job name (the folder's name), as paths from the top. */
async function foldersAtHead(place: Checkout): Promise<Map<string, string[]>> {
  const byName = new Map<string, string[]>()
  for (const dir of (await jobTrees(place.top, 'HEAD', place.root)).keys()) {
    const text = Buffer.from(dir, 'latin1').toString('utf8')
    const name = basename(resolve(place.top, text))
    byName.set(name, [...(byName.get(name) ?? []), text])
  }
  return byName
}

/** `[owner] team` of the job's config.ini at the base commit; '' when it cannot be read. */
async function oldTeam(place: Checkout, job: PruneJob): Promise<string> {
  if (!place.base || !job.path) return ''
  const dir = fromTop(place.top, resolve(place.workspace, job.path))
  if (dir.startsWith('..') || isAbsolute(dir)) return ''
  const trees = await jobTrees(place.top, place.base, dir)
  return teamOf(place.top, trees.get(Buffer.from(dir, 'utf8').toString('latin1')))
}

/** The job's ref to act on, or why it is refused, from git alone (nothing is sent for it). */
async function checkJob(
  config: PruneConfig,
  place: Checkout,
  atHead: Map<string, string[]>,
  job: PruneJob
): Promise<{ ref: JobRef } | { refused: string; team?: string }> {
  const still = atHead.get(job.name)
  if (still)
    return {
      refused: `a job folder named ${job.name} is still at head (${still.join(', ')}): it was moved, not deleted`
    }
  const named = await oldTeam(place, job)
  if (named && config.team && named !== config.team)
    return {
      team: named,
      refused: `its config.ini at the base commit names team '${named}', the team input '${config.team}'`
    }
  const team = named || config.team
  if (!team)
    return {
      refused: `no team: its config.ini at the base commit cannot be read or names none, and the team input is not set`
    }
  return { ref: jobRef(team, job.name) }
}

const deployedOf = (d: DataJobDeploymentStatus | undefined): PruneResult['deployed'] =>
  d && { version: d.job_version, enabled: d.enabled }

/** Acts on one job the checks let through: reads it, then the one change its mode asks for. */
async function act(
  ctx: ActionContext,
  mode: PruneMode,
  ref: JobRef
): Promise<Omit<PruneResult, 'name' | 'path' | 'team'>> {
  const live = await readLive(ctx, ref)
  // nothing is sent to a team that has no such job: absent is not a failure (a re-run after a
  // delete finds it so), but a warning, since a job of that name may live in another team
  if (!live.exists)
    return {
      result: 'absent',
      reason: `the Control Service has no job ${ref.job} in team '${ref.team}' (deleted already, or it is in another team): nothing to do`
    }
  const deployed = deployedOf(live.deployment)
  if (mode === 'disable') {
    // PATCH of a job that is not deployed is a 404 (DeploymentService.patchDeployment throws
    // DataJobDeploymentNotFoundException): nothing to disable
    if (!deployed) return { result: 'not deployed' }
    if (deployed.enabled === false) return { result: 'already disabled', deployed }
    await ctx.client.patchDeployment(ref, { enabled: false })
    return { result: 'disabled', deployed }
  }
  // undeploy is sent even when nothing is live: the real service also cancels a build in progress
  // (DeploymentService.deleteDeployment), which GET .../deployments does not show
  const done =
    mode === 'undeploy' ? await ctx.client.deleteDeployment(ref) : await ctx.client.deleteJob(ref)
  if (done === 'absent')
    return { result: 'absent', reason: 'the job was gone by the time it was sent', deployed }
  return { result: mode === 'undeploy' ? 'undeployed' : 'deleted', deployed }
}

function logLine(r: PruneResult): string {
  const was = r.deployed
    ? ` (version ${r.deployed.version ?? '?'}, ${r.deployed.enabled === false ? 'disabled' : 'enabled'})`
    : ''
  return `${r.name}: ${r.result}${was}`
}

function outcome(config: PruneConfig, results: PruneResult[]): Outcome {
  const refused = results.filter(r => r.result === 'refused')
  const changed = results.filter(r => ['disabled', 'undeployed', 'deleted'].includes(r.result))
  return {
    outputs: {
      results: JSON.stringify(results),
      pruned: changed.length,
      refused: refused.length
    },
    summary: {
      heading: `Pruned data jobs (mode: ${config.mode})`,
      columns: ['job', 'path', 'team', 'deployment before', 'result'],
      rows: results.map(r => [
        r.name,
        r.path ?? '',
        r.team ?? '',
        r.deployed
          ? `${r.deployed.version ?? '?'}, ${r.deployed.enabled === false ? 'disabled' : 'enabled'}`
          : '',
        r.reason ? `${r.result}: ${r.reason}` : r.result
      ])
    },
    ...(refused.length
      ? {
          failure: `${refused.length} of ${results.length} job(s) refused, nothing changed for them: ${refused.map(r => r.name).join(', ')}`
        }
      : {})
  }
}

export const prune: ActionDefinition<PruneConfig> = {
  name: 'prune',

  config: (inputs, problems) => Promise.resolve(readPruneConfig(inputs, problems)),

  connection: config => config.connection,

  async run(config, ctx) {
    const place = await checkout(config, ctx)
    const atHead = await foldersAtHead(place)
    // every job is checked with git before the first request
    const checked = []
    for (const job of config.jobs)
      checked.push({ job, check: await checkJob(config, place, atHead, job) })
    const results: PruneResult[] = []
    for (const { job, check } of checked) {
      const base = { name: job.name, path: job.path }
      const result: PruneResult =
        'refused' in check
          ? { ...base, team: check.team, result: 'refused', reason: check.refused }
          : { ...base, team: check.ref.team, ...(await act(ctx, config.mode, check.ref)) }
      if (result.result === 'refused')
        ctx.warning(`${result.name}: refused, nothing changed: ${result.reason ?? ''}`)
      else if (result.result === 'absent')
        ctx.warning(`${result.name}: absent, nothing changed: ${result.reason ?? ''}`)
      else ctx.info(logLine(result))
      results.push(result)
    }
    if (!results.length) ctx.info('no data job to prune')
    return outcome(config, results)
  }
}
