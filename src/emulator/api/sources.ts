// A job's sources: upload a zip (a new version when its files differ from the last one),
// download the last version as a zip, delete them all. How they are stored and what an upload
// may hold is sources.ts (the store); this file is the API over it.
import { createHash } from 'node:crypto'
import type { Handler } from '../context.js'
import { empty, json, problem, stream } from '../reply.js'
import { ArchiveError, type IngestResult } from '../sources.js'
import { jobOrEmpty404 } from './lookup.js'

export const uploadSources: Handler = async (service, call) => {
  const js = jobOrEmpty404(service, call)
  const type = call.req.headers['content-type']
  if (type && !/^application\/octet-stream\b/i.test(type)) {
    return problem(
      415,
      `Content type '${type}' is not supported.`,
      'Job sources are uploaded as raw zip bytes.',
      'Send the zip with Content-Type: application/octet-stream.'
    )
  }
  const length = call.req.headers['content-length']
  let result: IngestResult
  try {
    result = await service.sources.ingest(
      call.req,
      length === undefined ? undefined : Number(length)
    )
  } catch (e) {
    if (!(e instanceof ArchiveError)) throw e
    // A zip the real service cannot read fails in zip4j with an IOException, which JobUpload
    // turns into ExternalSystemError (HOST_CONTAINER): a 503 "Host container encountered an
    // error". That invites a retry of a zip that will never read, so this service answers 400.
    // It has no size limits at all (see SourceLimits): 413 for one is this service's choice.
    const tooLarge = e.status === 413
    return problem(
      e.status,
      `The sources of data job '${js.job.job_name}' were not uploaded.`,
      `${tooLarge ? 'The upload is too large' : 'Invalid job upload'}: ${e.message}.`,
      tooLarge
        ? 'Leave large or generated files out of the job (.vdkignore), or start the local Control Service with a higher limit.'
        : "Upload a zip archive (Content-Type: application/octet-stream) with exactly one top-level folder holding the job's files.",
      'The job keeps its previous version.'
    )
  }
  const last = js.versions.at(-1)
  if (last?.tree === result.tree) return json(200, { version_sha: last.version })
  // a version names its files and the version before it, as a git commit does
  const version = createHash('sha1')
    .update(`commit\ntree ${result.tree}\nparent ${last?.version ?? ''}\njob ${js.job.job_name}\n`)
    .digest('hex')
  js.versions.push({
    version,
    tree: result.tree,
    reason: call.url.searchParams.get('reason') ?? undefined,
    uploaded_at: service.clock.now(),
    uploaded_by: call.user,
    files: result.files.length,
    bytes: result.bytes
  })
  return json(200, { version_sha: version })
}

export const downloadSources: Handler = async (service, call) => {
  const js = jobOrEmpty404(service, call)
  const last = js.versions.at(-1)
  // nothing uploaded yet: an empty 404 (DataJobsSourcesController)
  if (!last) return empty(404)
  const body = await service.sources.zip(last.tree, js.job.job_name, new Date(last.uploaded_at))
  return stream(200, body, {
    'Content-Type': 'application/octet-stream',
    'Content-Disposition': `attachment; filename="${js.job.job_name}.zip"`
  })
}

export const deleteSources: Handler = (service, call) => {
  const js = jobOrEmpty404(service, call)
  js.versions = []
  return empty(200)
}
