// set-properties: a job's properties as code (merge or replace, remove keys), and its secrets
// written through the secrets API with their values masked before anything is printed.
// Read → change → write, then read back to say when someone else wrote in between.
import type { JobRef } from '../core/client.js'
import { readConnection, type ConnectionConfig } from '../core/connection.js'
import { ActionFailure } from '../core/errors.js'
import { choice, parseBoolean, type InputSource, type Problems } from '../core/inputs.js'
import type { JsonMap } from '../core/types.js'
import { NO_REF, readJobInputs } from './job.js'
import {
  cutWarnings,
  readProperties,
  readRemove,
  readSecrets,
  type CutValues
} from './property-inputs.js'
import {
  kind,
  nextProperties,
  pathText,
  propertyChanges,
  unsafeNumberIn
} from './property-values.js'
import { HIDDEN, shownValue } from './shown-values.js'
import {
  code,
  type ActionContext,
  type ActionDefinition,
  type Cell,
  type Outcome
} from './runtime.js'

export interface SetPropertiesConfig {
  connection: ConnectionConfig
  ref: JobRef
  properties?: JsonMap
  mode: 'merge' | 'replace'
  remove: string[]
  secrets?: Record<string, string>
  dryRun: boolean
  /** Show property values in the summary (never those of secret-looking keys). */
  showValues: boolean
  /** Warnings found while reading the inputs (a value a YAML comment cut), said when it runs. */
  warnings: string[]
}

/** Keys in a line: the first 20, then how many more (the output changed-keys has them all). */
const listed = (keys: string[]): string =>
  keys.length > 20
    ? `${keys.slice(0, 20).join(', ')} and ${keys.length - 20} more`
    : keys.join(', ')

export const setProperties: ActionDefinition<SetPropertiesConfig> = {
  name: 'set-properties',

  async config(inputs: InputSource, problems: Problems): Promise<SetPropertiesConfig> {
    const connection = readConnection(inputs, problems)
    const cut: CutValues = { said: [], more: 0 }
    // secrets first: masked before anything else can print them
    const secrets = readSecrets(inputs, problems, cut)
    const properties = readProperties(inputs, problems, cut)
    const mode = choice(
      'mode',
      inputs.input('mode'),
      ['merge', 'replace'] as const,
      'merge',
      problems
    )
    const remove = readRemove(inputs, problems)
    if (mode === 'replace' && remove.length)
      problems.add('remove', 'has no meaning with mode: replace (the new map is written whole)')
    if (!properties && !remove.length && !secrets)
      problems.add('nothing to do: set properties, properties-file, remove or secrets')
    const dryRun = parseBoolean('dry-run', inputs.input('dry-run'), false, problems)
    const showValues = parseBoolean('show-values', inputs.input('show-values'), false, problems)
    const job = await readJobInputs(inputs, problems, { pathRequired: false })
    return {
      connection,
      ref: job?.ref ?? NO_REF,
      properties,
      mode,
      remove,
      secrets,
      dryRun,
      showValues,
      warnings: cutWarnings(cut)
    }
  },

  connection: config => config.connection,

  async run(config, ctx) {
    // the real service keys properties by the job name alone and checks neither the team nor that
    // the job exists (DataJobsPropertiesController → PropertiesService.updateJobProperties), and
    // secrets by team/job without a check: a typo would write silently where no job reads it
    if (!(await ctx.client.readJob(config.ref)))
      throw new ActionFailure(
        `data job '${config.ref.job}' does not exist in team '${config.ref.team}': check job-name and team (the Control Service would store its properties anyway, where no job reads them)`
      )
    for (const w of config.warnings) ctx.warning(w)
    const rows: Cell[][] = []
    const row = summaryRow(config.showValues)
    const properties = await changeProperties(config, ctx, row)
    const secrets = await changeSecrets(config, ctx, row)
    rows.push(...properties.rows, ...secrets.rows)
    const changed = [...properties.changed, ...secrets.changed]

    const verb = config.dryRun ? 'would change' : 'changed'
    ctx.info(
      changed.length
        ? `${verb} ${changed.length} key(s) of '${config.ref.job}': ${listed(changed)}`
        : `nothing to change for '${config.ref.job}'`
    )
    const outcome: Outcome = {
      outputs: { 'changed-keys': JSON.stringify(changed), 'property-count': properties.count }
    }
    if (rows.length) {
      outcome.summary = {
        heading: `VDK data job ${config.ref.job}: properties${config.dryRun ? ' (dry run: nothing written)' : ''}${config.showValues ? '' : ' (values not shown)'}`,
        columns: config.showValues
          ? ['Key', 'Change', 'Old value', 'New value']
          : ['Key', 'Change', 'Type'],
        rows
      }
    }
    return outcome
  }
}

/** A row of the summary: a key, its change, and its values or their types. */
export type SummaryRow = (key: string, change: string, before: unknown, after: unknown) => Cell[]

/** Rows with values only with show-values, and never those that look secret; else the types. */
export function summaryRow(showValues: boolean): SummaryRow {
  const shown = (k: string, v: unknown): Cell => {
    if (v === undefined) return ''
    const text = shownValue(k, v)
    return text === HIDDEN ? HIDDEN : code(text)
  }
  return (k, change, before, after) => {
    if (showValues) return [k, change, shown(k, before), shown(k, after)]
    // the type, or both when it changed: "a number → a string"
    const types = [...new Set([before, after].filter(v => v !== undefined).map(kind))]
    return [k, change, types.join(' → ')]
  }
}

/** What a part of the run changed: its summary rows and keys. */
interface Changes {
  rows: Cell[][]
  changed: string[]
}

/** Properties: read, changed, written (unless a dry run), read back. `count`: how many after. */
async function changeProperties(
  config: SetPropertiesConfig,
  ctx: ActionContext,
  row: SummaryRow
): Promise<Changes & { count: number | string }> {
  const changes: Changes & { count: number | string } = { rows: [], changed: [], count: '' }
  if (!config.properties && !config.remove.length) return changes
  const current = await ctx.client.readProperties(config.ref)
  const next = nextProperties(current, config.properties ?? {}, config.mode)
  for (const k of config.remove) delete next[k]
  for (const c of propertyChanges(current, next)) {
    changes.rows.push(row(c.key, `property ${c.change}`, c.before, c.after))
    changes.changed.push(c.key)
  }
  changes.count = Object.keys(next).length
  if (changes.changed.length) keepsExact(current, next)
  if (!config.dryRun && changes.changed.length) {
    await ctx.client.writeProperties(config.ref, next)
    checkWritten(
      ctx,
      'property',
      config.properties ?? {},
      config.remove,
      await ctx.client.readProperties(config.ref)
    )
  }
  return changes
}

/** Secrets: read (and masked), changed, written (unless a dry run), read back. */
async function changeSecrets(
  config: SetPropertiesConfig,
  ctx: ActionContext,
  row: SummaryRow
): Promise<Changes> {
  const secrets = config.secrets
  if (!secrets) return { rows: [], changed: [] }
  const current = await ctx.client.readSecrets(config.ref)
  for (const v of Object.values(current)) if (typeof v === 'string' && v) ctx.mask(v)
  const keys = Object.keys(secrets).filter(k => current[k] !== secrets[k])
  const rows = keys.map(k =>
    row(k, k in current ? 'secret changed' : 'secret added', undefined, undefined)
  )
  if (!config.dryRun && keys.length) {
    await ctx.client.writeSecrets(config.ref, { ...current, ...secrets })
    const after = await ctx.client.readSecrets(config.ref)
    const lost = Object.keys(secrets).filter(k => !(k in after))
    if (lost.length)
      ctx.warning(
        `secret(s) ${listed(lost)} are not in the secrets after the write: someone else wrote in between; run again`
      )
  }
  return { rows, changed: keys }
}

/**
 * Merging writes back the keys it keeps as it read them; a number JSON.parse has changed (an
 * integer beyond ±2^53 that the service holds exactly: it reads the map with Jackson, which keeps
 * big integers, and stores it as JSON text — PropertiesService.updateJobProperties and
 * readJobProperties in pipelines_control_service) would be written back as another number.
 */
function keepsExact(current: JsonMap, next: JsonMap): void {
  for (const [k, v] of Object.entries(current)) {
    if (!(k in next) || next[k] !== v) continue
    const at = unsafeNumberIn(v)
    if (at)
      throw new ActionFailure(
        `property ${pathText([k, ...at])} on the Control Service holds an integer beyond ±9007199254740991, which this action cannot carry exactly: writing the map back would change it; set that property again as text (quoted), or remove it, or use mode: replace`
      )
  }
}

/** After a write: keys we set or removed that did not stick mean someone else wrote in between. */
function checkWritten(
  ctx: ActionContext,
  what: string,
  set: JsonMap,
  removed: string[],
  after: JsonMap
): void {
  const missing = Object.keys(set).filter(k => JSON.stringify(after[k]) !== JSON.stringify(set[k]))
  const back = removed.filter(k => k in after)
  if (missing.length || back.length) {
    ctx.warning(
      `${what} key(s) ${listed([...missing, ...back])} differ from what was written: someone else wrote in between; run again`
    )
  }
}
