// Upload of a job folder, shared by upload-sources and deploy (only their bundles carry the zip).
import { randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { zipJob } from '../core/archive.js'
import { ActionFailure, ControlServiceError } from '../core/errors.js'
import { jobConfigFromIni } from '../core/jobdir.js'
import { scanNotes } from '../core/scan.js'
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
  job: Required<Pick<JobInputs, 'ref' | 'jobDir' | 'ini' | 'scan'>>,
  o: { reason: string; createIfMissing: boolean; timeoutMs?: number }
): Promise<Uploaded> {
  const { ref, ini, scan } = job
  for (const line of scanNotes(scan, job.jobDir)) ctx.info(line)
  let created = false
  if (!(await ctx.client.readJob(ref))) {
    if (!o.createIfMissing) {
      throw new ActionFailure(
        `data job '${ref.job}' does not exist in team '${ref.team}': create it, or set create-if-missing: true`
      )
    }
    const answer = await ctx.client.createJob(ref, {
      description: `Deployed from GitHub by vdk-actions (${job.jobDir})`,
      config: jobConfigFromIni({}, ini)
    })
    if (answer === 'taken') {
      throw new ActionFailure(
        `a data job named '${ref.job}' exists, but not in team '${ref.team}': job names are unique across teams; check the team, or rename the job`
      )
    }
    // 'exists': made meanwhile by someone else, in this team
    created = answer === 'created'
    ctx.info(
      created
        ? `created data job '${ref.job}' in team '${ref.team}'`
        : `data job '${ref.job}' was created meanwhile in team '${ref.team}'`
    )
  }
  let last: ReturnType<typeof zipJob> | undefined
  // the whole upload must fit in the time limit: a minute, and a second per MiB on top
  const timeoutMs = o.timeoutMs ?? 60_000 + Math.ceil(scan.bytes / 1048576) * 1000
  let version: string
  let spooledBytes: number | undefined
  try {
    version = await ctx.client.uploadSources(
      ref,
      () => {
        last = zipJob(scan.entries, ref.job)
        return last.stream
      },
      { reason: o.reason, timeoutMs }
    )
  } catch (e) {
    if (!wantsLength(e)) throw e
    // the archive is streamed (chunked); the official CLI sends it whole with a Content-Length,
    // and a proxy or server that needs one says 411: once more, from a file of known length
    ;({ version, bytes: spooledBytes } = await uploadSpooled(
      ctx,
      job,
      o.reason,
      timeoutMs,
      e.status as number
    ))
  }
  const archiveBytes = spooledBytes ?? last?.bytes() ?? 0
  ctx.info(
    `uploaded ${scan.files} files (${archiveBytes} bytes zipped) of '${ref.job}': version ${version}`
  )
  if (scan.ignored.length)
    ctx.info(
      `left out by the ignore rules: ${scan.ignored.slice(0, 20).join(', ')}${scan.ignored.length > 20 ? ` and ${scan.ignored.length - 20} more` : ''}`
    )
  return { version, archiveBytes, files: scan.files, created }
}

/**
 * A refusal of a body without a Content-Length: 411 Length Required, or a 413 whose own answer
 * (not our message, which names the job) says a length is required or chunked bodies are refused.
 */
function wantsLength(e: unknown): e is ControlServiceError {
  if (!(e instanceof ControlServiceError)) return false
  if (e.status === 411) return true
  const said = [e.text, e.body?.what, e.body?.why, ...(e.body?.messages ?? [])].join(' ')
  return e.status === 413 && /length required|content-length (is )?required|chunked/i.test(said)
}

/**
 * The archive written to a file in RUNNER_TEMP, then uploaded from it with a Content-Length;
 * memory stays as flat as when streaming. The file is removed afterwards.
 */
async function uploadSpooled(
  ctx: ActionContext,
  job: Required<Pick<JobInputs, 'ref' | 'scan'>>,
  reason: string,
  timeoutMs: number,
  status: number
): Promise<{ version: string; bytes: number }> {
  const tempDir = ctx.env.RUNNER_TEMP || tmpdir()
  const where = ctx.env.RUNNER_TEMP ? 'RUNNER_TEMP' : tempDir
  const file = join(tempDir, `vdk-upload-${job.ref.job}-${randomBytes(4).toString('hex')}.zip`)
  try {
    try {
      await pipeline(zipJob(job.scan.entries, job.ref.job).stream, createWriteStream(file))
    } catch (e) {
      throw new ActionFailure(
        `the upload needs a Content-Length (HTTP ${status}), and the archive could not be written to ${where} to know it: ${(e as Error).message}`
      )
    }
    const { size } = await stat(file)
    ctx.info(
      `the Control Service (or a proxy before it) refused the streamed upload (HTTP ${status}: it wants a Content-Length): uploading the archive again from a file of ${size} bytes in ${where}`
    )
    const version = await ctx.client.uploadSources(job.ref, () => createReadStream(file), {
      reason,
      timeoutMs,
      length: size
    })
    return { version, bytes: size }
  } finally {
    await rm(file, { force: true })
  }
}
