// drift: what changed on the Control Service behind the repository's back, for a scheduled
// workflow. For every job folder under jobs-root: the job missing, not deployed or disabled, its
// config (schedule, contacts, notification settings) against config.ini as deploy would write it,
// the deployment's python version, the properties against a properties file, and a deployment by
// another identity than the workflows'; then the jobs of the team that have no folder. Read with
// GET requests and the GraphQL jobs query only (plan-live.ts reads each job, as plan does).
// Written to the job summary and the `drift` output; the step fails only with fail-on-drift.
import { jobRef, type JobRef } from '../core/client.js'
import { readJobConfig } from '../core/jobdir.js'
import { JOB_NAME_RULE, teamProblem } from '../core/jobrules.js'
import { readDriftConfig, type DriftConfig, type JobFolder } from './drift-inputs.js'
import {
  drifted,
  driftJson,
  driftLine,
  driftTable,
  fieldFinding,
  propertyFinding,
  type JobDrift
} from './drift-report.js'
import { configChanges, deploymentChanges, propertiesAgainstFile, readLive } from './plan-live.js'
import type { ActionContext, ActionDefinition } from './runtime.js'

/** The job's ref, or why the service is not read for it. */
function refOf(name: string, team: string | undefined): JobRef | string {
  if (!team) return 'no team (set [owner] team in config.ini, or the team input)'
  const bad = teamProblem(team)
  if (bad) return `the team ${bad}`
  if (!JOB_NAME_RULE.test(name)) return 'the folder name is not a valid job name'
  return jobRef(team, name)
}

/** One job folder against the service. */
async function folderDrift(config: DriftConfig, ctx: ActionContext, folder: JobFolder) {
  const { config: ini, problems } = readJobConfig(folder.jobDir)
  const team = ini?.team?.value || config.team
  const job: JobDrift = { name: folder.name, path: folder.path, team, findings: [], notes: [] }
  // a config.ini that cannot be read is not compared: validate and deploy say why
  if (!ini) {
    job.notes.push(...problems.map(p => p.message))
    return job
  }
  const ref = refOf(folder.name, team)
  if (typeof ref === 'string') {
    job.notes.push(ref)
    return job
  }
  const live = await readLive(ctx, ref)
  if (!live.exists) {
    job.findings.push({ kind: 'job missing' })
    return job
  }
  const deployment = live.deployment
  if (!deployment) job.findings.push({ kind: 'not deployed' })
  else if (deployment.enabled === false) job.findings.push({ kind: 'disabled' })
  // a config.ini value deploy would refuse is left out of the comparison, and said
  job.notes.push(...problems.map(p => `config.ini: ${p.message}`))
  for (const c of configChanges(live, ini)) job.findings.push(fieldFinding('config', c))
  if (deployment) {
    // with enabled undefined, deploymentChanges lists the python version alone
    for (const c of deploymentChanges(live, ini, undefined))
      job.findings.push(fieldFinding('python version', c))
    if (config.deployedBy && deployment.last_deployed_by !== config.deployedBy)
      job.findings.push({
        kind: 'deployed by',
        service: deployment.last_deployed_by,
        repository: config.deployedBy
      })
  }
  if (config.propertiesFile) {
    const file = { name: config.propertiesFile, mode: config.propertiesMode }
    const properties = await propertiesAgainstFile(ctx, ref, folder.jobDir, file)
    if (properties.problem)
      job.notes.push(`${config.propertiesFile}: ${properties.problem.message}`)
    job.findings.push(...properties.changes.map(propertyFinding))
  }
  return job
}

/** The teams whose jobs are listed: the team input, or the teams the folders name. */
const teamsOf = (config: DriftConfig, jobs: JobDrift[]): string[] =>
  config.team
    ? [config.team]
    : [...new Set(jobs.flatMap(j => (j.team && !teamProblem(j.team) ? [j.team] : [])))].sort()

/** The jobs of `teams` on the service whose name no folder under jobs-root has. */
async function jobsWithoutFolder(
  ctx: ActionContext,
  teams: string[],
  folders: JobFolder[]
): Promise<JobDrift[]> {
  const names = new Set(folders.map(f => f.name))
  const found: JobDrift[] = []
  for (const team of teams)
    for (const name of (await ctx.client.teamJobNames(team)).sort())
      if (!names.has(name)) found.push({ name, team, findings: [{ kind: 'no folder' }], notes: [] })
  return found
}

export const drift: ActionDefinition<DriftConfig> = {
  name: 'drift',

  config: (inputs, problems) => Promise.resolve(readDriftConfig(inputs, problems)),

  // read-only: readJob, listDeployments, readProperties (GET) and the jobs query (GraphQL over GET)
  connection: config => config.connection,

  async run(config, ctx) {
    const jobs: JobDrift[] = []
    // a failed read is the failure: its message names the request (ControlServiceError)
    for (const folder of config.folders) jobs.push(await folderDrift(config, ctx, folder))
    const teams = teamsOf(config, jobs)
    jobs.push(...(await jobsWithoutFolder(ctx, teams, config.folders)))
    for (const j of jobs) ctx.info(driftLine(j))
    const differ = jobs.filter(drifted)
    const compared = `${config.folders.length} job folder(s), team(s) ${teams.join(', ') || 'none'}`
    ctx.info(
      differ.length
        ? `drift: ${differ.length} data job(s) differ from the repository (${compared})`
        : `no drift: the Control Service matches the repository (${compared})`
    )
    const outcome = {
      outputs: { drift: driftJson(jobs, teams), 'has-drift': differ.length > 0 },
      summary: driftTable(jobs)
    }
    if (!config.failOnDrift || !differ.length) return outcome
    const shown = differ.slice(0, 5).map(j => j.name)
    const more = differ.length > 5 ? ` and ${differ.length - 5} more` : ''
    return {
      ...outcome,
      failure: `${differ.length} data job(s) differ from the repository (${shown.join(', ')}${more}): see the job summary; deploy them again from the repository, or change the repository to what the Control Service has`
    }
  }
}
