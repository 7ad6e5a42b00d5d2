// Upload of a job folder, shared by upload-sources and deploy (only their bundles carry the zip).
import { zipJob } from '../core/archive.js'
import { ActionFailure } from '../core/errors.js'
import { mergeJobConfig } from '../core/jobdir.js'
import type { JobInputs } from './job.js'
import type { ActionContext } from './runtime.js'

export interface Uploaded {
  version: string
  archiveBytes: number
  files: number
  created: boolean
}

/** Creates the job when it is missing (if allowed), then uploads its folder; the version it got. */
export async function uploadJob(
  ctx: ActionContext,
  job: Required<Pick<JobInputs, 'ref' | 'path' | 'ini' | 'scan'>>,
  o: { reason: string; createIfMissing: boolean; timeoutMs?: number }
): Promise<Uploaded> {
  const { ref, ini, scan } = job
  let created = false
  if (!(await ctx.client.readJob(ref))) {
    if (!o.createIfMissing) {
      throw new ActionFailure(
        `data job '${ref.job}' does not exist in team '${ref.team}': create it, or set create-if-missing: true`
      )
    }
    const answer = await ctx.client.createJob(ref, {
      description: `Deployed from GitHub by vdk-actions (${job.path})`,
      config: mergeJobConfig({}, ini)
    })
    if (answer === 'exists') {
      throw new ActionFailure(
        `a data job named '${ref.job}' exists, but not in team '${ref.team}': job names are unique across teams; check the team, or rename the job`
      )
    }
    created = true
    ctx.info(`created data job '${ref.job}' in team '${ref.team}'`)
  }
  let last: ReturnType<typeof zipJob> | undefined
  const version = await ctx.client.uploadSources(
    ref,
    () => {
      last = zipJob(scan.entries, ref.job)
      return last.stream
    },
    // the whole upload must fit in the time limit: a minute, and a second per MiB on top
    { reason: o.reason, timeoutMs: o.timeoutMs ?? 60_000 + Math.ceil(scan.bytes / 1048576) * 1000 }
  )
  const archiveBytes = last?.bytes() ?? 0
  ctx.info(
    `uploaded ${scan.files} files (${archiveBytes} bytes zipped) of '${ref.job}': version ${version}`
  )
  if (scan.ignored.length)
    ctx.info(
      `left out by the ignore rules: ${scan.ignored.slice(0, 20).join(', ')}${scan.ignored.length > 20 ? ` and ${scan.ignored.length - 20} more` : ''}`
    )
  return { version, archiveBytes, files: scan.files, created }
}
