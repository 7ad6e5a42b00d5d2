// What every call of the client (client.ts) shares: where a team's and a job's resources are on
// the service, how messages name the job, and sending a request for a checked answer or for none.
// The addresses are made by the client, which checks the team before any path is made of it.
import { decodeAnswer, type Shape } from '../answers.js'
import type { RequestSpec, Transport } from '../http.js'

/** A team as a call reaches it. */
export interface TeamAddress {
  readonly transport: Transport
  readonly team: string
  /** /data-jobs/for-team/<team>, percent-encoded. */
  readonly path: string
}

/** A job as a call reaches it; it is a JobRef too (team and job). */
export interface JobAddress {
  readonly transport: Transport
  readonly team: string
  readonly job: string
  /** /data-jobs/for-team/<team>, percent-encoded. */
  readonly teamPath: string
  /** /data-jobs/for-team/<team>/jobs/<job>, percent-encoded. */
  readonly path: string
  /** "data job '<job>' of team '<team>'", for the operation named in messages. */
  readonly label: string
}

/** A path segment made of a name (the names are checked, this keeps them one segment). */
export const segment = encodeURIComponent

/** The deployment id: the service keeps one deployment per job and ignores the id. */
export const DEPLOYMENT = 'production'

/** Sends `spec`; its answer decoded as `shape` (answers.ts). */
export async function sendForAnswer<T>(
  transport: Transport,
  spec: RequestSpec,
  shape: Shape<T>
): Promise<T> {
  return transport.send(spec, res => decodeAnswer(res, spec.operation, shape))
}

/** Sends `spec` for its effect: the answer's body is not read into anything. */
export async function sendForEffect(transport: Transport, spec: RequestSpec): Promise<void> {
  return transport.send(spec, () => undefined)
}
