// The calls about a deployed job's properties and secrets: each is read and written as a whole
// map (the service has no partial update).
import { mapAnswer } from '../answers.js'
import type { RequestSpec } from '../http.js'
import type { JsonMap } from '../types.js'
import { DEPLOYMENT, sendForAnswer, sendForEffect, type JobAddress } from './common.js'

/** The two maps a deployment keeps: the same calls, other words and hints. */
export type Store = 'properties' | 'secrets'

const secretsHint = (status: number): string | undefined =>
  status === 501
    ? 'this Control Service has no secrets backend: ask its operators to configure one'
    : undefined

/** What the read and the write of one map share. */
const storeRequest = (
  job: JobAddress,
  store: Store
): Pick<RequestSpec, 'path' | 'idempotent' | 'hint'> => ({
  path: `${job.path}/deployments/${DEPLOYMENT}/${store}`,
  idempotent: true,
  ...(store === 'secrets' ? { hint: secretsHint } : {})
})

export async function readStore(job: JobAddress, store: Store): Promise<JsonMap> {
  return sendForAnswer(
    job.transport,
    { operation: `read the ${store} of ${job.label}`, method: 'GET', ...storeRequest(job, store) },
    mapAnswer
  )
}

/** Replaces the whole map. */
export async function writeStore(job: JobAddress, store: Store, values: JsonMap): Promise<void> {
  return sendForEffect(job.transport, {
    operation: `write the ${store} of ${job.label}`,
    method: 'PUT',
    ...storeRequest(job, store),
    json: values
  })
}
