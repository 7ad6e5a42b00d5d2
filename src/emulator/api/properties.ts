// A deployment's properties and secrets: one JSON object each, read whole and replaced whole.
// Secrets can be switched off (--no-secrets), as on a service without a vault.
import { readJson, requireObject, MAX_JSON_BYTES } from '../body.js'
import type { ApiCall, Handler, Service } from '../context.js'
import { empty, json, problem } from '../reply.js'

type MapStore = 'properties' | 'secrets'

/** The largest secrets body: far smaller than properties, as a vault's values are. */
const MAX_SECRETS_BYTES = 1024 * 1024

/**
 * Where a job's properties or secrets are kept. Neither checks that the job exists, nor (for
 * properties) the team: properties are keyed by the job name alone (DataJobsPropertiesController
 * → PropertiesService.updateJobProperties(jobName, …)), secrets by team/job in Vault
 * (VaultJobSecretsService), so a wrong team reads {} and writes elsewhere.
 */
const mapKey = (store: MapStore, call: ApiCall): string =>
  store === 'properties' ? call.params.job : `${call.params.team}/${call.params.job}`

const readMap = (service: Service, call: ApiCall, store: MapStore) =>
  json(200, service.store.state[store][mapKey(store, call)] ?? {})

async function writeMap(service: Service, call: ApiCall, store: MapStore, limit: number) {
  const body = requireObject(await readJson(call.req, store, { limit }), store)
  service.store.state[store][mapKey(store, call)] = body
  // properties 204 (DataJobsPropertiesController), secrets 202 (DataJobsSecretsController)
  return empty(store === 'secrets' ? 202 : 204)
}

const secretsOff = () =>
  problem(
    501,
    'Secrets are not supported by this service.',
    'No secrets storage is configured.',
    'Ask the operators of the Control Service to configure a secrets backend.'
  )

export const readProperties: Handler = (service, call) => readMap(service, call, 'properties')

export const writeProperties: Handler = (service, call) =>
  writeMap(service, call, 'properties', MAX_JSON_BYTES)

export const readSecrets: Handler = (service, call) =>
  service.settings.secrets ? readMap(service, call, 'secrets') : secretsOff()

export const writeSecrets: Handler = (service, call) =>
  service.settings.secrets ? writeMap(service, call, 'secrets', MAX_SECRETS_BYTES) : secretsOff()
