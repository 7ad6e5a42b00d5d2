// upload-sources: the job folder, zipped as a stream, becomes a new version of the data job
// (created from config.ini when it does not exist yet).
import type { Problems, InputSource } from '../core/connection.js'
import { parseBoolean, readConnection, type ConnectionConfig } from '../core/connection.js'
import { relativeToWorkspace } from '../core/jobdir.js'
import { scanJob } from '../core/scan.js'
import { defaultReason, readJobInputs, type JobInputs } from './job.js'
import { runLink, runUrl, type ActionDefinition } from './runtime.js'
import { uploadJob } from './upload.js'

export interface UploadConfig {
  connection: ConnectionConfig
  job: Required<Pick<JobInputs, 'ref' | 'path' | 'ini' | 'scan'>>
  reason: string
  createIfMissing: boolean
}

export const uploadSources: ActionDefinition<UploadConfig> = {
  name: 'upload-sources',

  async config(src: InputSource, problems: Problems): Promise<UploadConfig> {
    const connection = readConnection(src, problems)
    const createIfMissing = parseBoolean(
      'create-if-missing',
      src.input('create-if-missing'),
      true,
      problems
    )
    const job = await readJobInputs(src, problems, { pathRequired: true, scan: scanJob })
    const reason = src.input('reason') || defaultReason(src.env, runUrl(src.env))
    problems.check()
    return { connection, job: job as UploadConfig['job'], reason, createIfMissing }
  },

  connection: c => c.connection,

  async run(c, ctx) {
    const up = await uploadJob(ctx, c.job, { reason: c.reason, createIfMissing: c.createIfMissing })
    const { ref } = c.job
    return {
      outputs: {
        'job-version': up.version,
        'job-name': ref.job,
        team: ref.team,
        'archive-bytes': up.archiveBytes,
        'file-count': up.files
      },
      summary: {
        heading: 'VDK data job sources uploaded',
        columns: ['Job', 'Team', 'Version', 'Files', 'Archive', 'Run'],
        rows: [
          [
            ref.job,
            ref.team,
            up.version,
            String(up.files),
            `${up.archiveBytes} bytes`,
            runLink(ctx.env, relativeToWorkspace(c.job.path))
          ]
        ]
      }
    }
  }
}
