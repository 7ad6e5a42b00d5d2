// upload-sources: the job folder, zipped as a stream, becomes a new version of the data job
// (created from config.ini when it does not exist yet).
import { readConnection, type ConnectionConfig } from '../core/connection.js'
import { relativeToWorkspace, type InputSource, type Problems } from '../core/inputs.js'
import { scanJob } from '../core/scan.js'
import { readJobInputs, readUploadOptions, type JobInputs, type UploadOptions } from './job.js'
import { runLink, type ActionDefinition } from './runtime.js'
import { uploadJob } from './upload.js'

export interface UploadConfig {
  connection: ConnectionConfig
  job: Required<Pick<JobInputs, 'ref' | 'jobDir' | 'ini' | 'scan'>>
  upload: UploadOptions
}

export const uploadSources: ActionDefinition<UploadConfig> = {
  name: 'upload-sources',

  async config(inputs: InputSource, problems: Problems): Promise<UploadConfig> {
    const connection = readConnection(inputs, problems)
    const upload = readUploadOptions(inputs, problems)
    const job = await readJobInputs(inputs, problems, { pathRequired: true, scan: scanJob })
    return { connection, job: job as UploadConfig['job'], upload }
  },

  connection: config => config.connection,

  async run(config, ctx) {
    const up = await uploadJob(ctx, config.job, config.upload)
    const { ref } = config.job
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
            runLink(ctx.env, relativeToWorkspace(config.job.jobDir))
          ]
        ]
      }
    }
  }
}
