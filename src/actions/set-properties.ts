// set-properties: a job's properties as code (merge or replace, remove keys), and its secrets
// written through the secrets API with their values masked before anything is printed.
// Read → change → write, then read back to say when someone else wrote in between.
import { readFileSync, statSync } from 'node:fs'
import { extname } from 'node:path'
import type { JobRef } from '../core/client.js'
import {
  choice,
  workspacePath,
  parseBoolean,
  readConnection,
  type ConnectionConfig,
  type InputSource,
  type Problems
} from '../core/connection.js'
import { ActionFailure } from '../core/errors.js'
import { hasControl } from '../core/text.js'
import type { JsonMap } from '../core/types.js'
import { NO_REF, readJobInputs } from './job.js'
import {
  cutWarning,
  HIDDEN,
  kind,
  MAX_BYTES,
  pathText,
  readValue,
  shownValue,
  tooBig,
  unsafeNumberIn
} from './property-values.js'
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

const isMap = (v: unknown): v is JsonMap => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Warnings of values a YAML comment may have cut, at most (GitHub shows ten annotations a step). */
const MAX_WARNINGS = 5

/** Values a YAML comment may have cut: the warnings said, and how many more. */
interface CutValues {
  said: string[]
  more: number
}

/** Keys with a line break or another control character: not names, and they would print as lines. */
const keysProblem = (what: string, keys: string[]): string =>
  `${what} holds key(s) with a line break or another control character: ${keys
    .map(k => JSON.stringify(k).slice(0, 40))
    .join(', ')}`

/** Keys in a line: the first 20, then how many more (the output changed-keys has them all). */
const listed = (keys: string[]): string =>
  keys.length > 20
    ? `${keys.slice(0, 20).join(', ')} and ${keys.length - 20} more`
    : keys.join(', ')

/**
 * A YAML or JSON mapping from an input or a file, read exactly (property-values.ts); problems say
 * where, never what. Values a YAML comment may have cut are warned of (`warnings`).
 */
function mapping(
  what: string,
  text: string,
  problems: Problems,
  o: { json?: boolean; secrets?: boolean; cut: CutValues }
): JsonMap | undefined {
  const read = readValue(what, text, { json: o.json ?? false, allPlain: o.secrets ?? false })
  if ('problem' in read) {
    problems.add(read.problem)
    return undefined
  }
  const value = read.value
  if (!isMap(value)) {
    problems.add(
      `${what} must be a mapping of keys to values (e.g. "rows: 100"), not ${kind(value)}`
    )
    return undefined
  }
  const bad = Object.keys(value).filter(hasControl)
  if (bad.length) {
    problems.add(keysProblem(what, bad))
    return undefined
  }
  for (const f of read.cut) {
    // each line number is counted from the start: only for the warnings said
    if (o.cut.said.length < MAX_WARNINGS) o.cut.said.push(cutWarning(what, f, text))
    else o.cut.more++
  }
  return value
}

export const setProperties: ActionDefinition<SetPropertiesConfig> = {
  name: 'set-properties',

  async config(src: InputSource, problems: Problems): Promise<SetPropertiesConfig> {
    const connection = readConnection(src, problems)
    const cut: CutValues = { said: [], more: 0 }
    // secrets first: masked before anything else can print them
    let secrets: Record<string, string> | undefined
    const rawSecrets = src.input('secrets')
    if (rawSecrets) {
      const map = mapping('secrets', rawSecrets, problems, { secrets: true, cut })
      if (map) {
        secrets = {}
        for (const [k, v] of Object.entries(map)) {
          if (typeof v !== 'string')
            problems.add(`secret '${k}' must be a string (quote it), not ${kind(v)}`)
          else {
            src.mask?.(v)
            secrets[k] = v
          }
        }
      }
    }
    const inline = src.input('properties')
    const file = src.input('properties-file')
    let properties: JsonMap | undefined
    if (inline && file) problems.add('set properties or properties-file, not both')
    else if (inline) properties = mapping('properties', inline, problems, { cut })
    else if (file) {
      const path = workspacePath(src, file)
      if (!['.json', '.yaml', '.yml'].includes(extname(path).toLowerCase()))
        problems.add(`properties-file '${file}' must be a .json, .yaml or .yml file`)
      else {
        let text: string | undefined
        try {
          // a FIFO would hang the read, /dev/zero fill the memory: a regular file, its size known
          const stat = statSync(path)
          if (!stat.isFile()) problems.add(`properties-file '${file}' is not a regular file`)
          else if (stat.size > MAX_BYTES.json)
            problems.add(tooBig(`properties-file '${file}'`, stat.size, 'json'))
          else text = readFileSync(path, 'utf8')
        } catch (e) {
          problems.add(
            `properties-file '${file}' cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`
          )
        }
        if (text !== undefined)
          properties = mapping(`properties-file '${file}'`, text, problems, {
            // a .json file is read as JSON (fast, exact); YAML only when it is not JSON
            json: extname(path).toLowerCase() === '.json',
            cut
          })
      }
    }
    const mode = choice('mode', src.input('mode'), ['merge', 'replace'] as const, 'merge', problems)
    let remove: string[] = []
    const rawRemove = src.input('remove')
    if (rawRemove) {
      let parsed: unknown = rawRemove.split(/[\n,]/)
      if (/^\s*\[/.test(rawRemove)) {
        const read = readValue('remove', rawRemove, { json: false, allPlain: false })
        parsed = 'value' in read ? read.value : undefined
      }
      if (!Array.isArray(parsed) || parsed.some(k => typeof k !== 'string'))
        problems.add('remove must be key names, one per line or separated by commas')
      else remove = parsed.map(k => (k as string).trim()).filter(Boolean)
    }
    const badRemove = remove.filter(hasControl)
    if (badRemove.length) problems.add(keysProblem('remove', badRemove))
    if (mode === 'replace' && remove.length)
      problems.add('remove has no meaning with mode: replace (the new map is written whole)')
    if (!properties && !remove.length && !secrets)
      problems.add('nothing to do: set properties, properties-file, remove or secrets')
    const dryRun = parseBoolean('dry-run', src.input('dry-run'), false, problems)
    const showValues = parseBoolean('show-values', src.input('show-values'), false, problems)
    const job = await readJobInputs(src, problems, { pathRequired: false })
    problems.check()
    return {
      connection,
      ref: job?.ref ?? NO_REF,
      properties,
      mode: mode,
      remove,
      secrets,
      dryRun,
      showValues,
      warnings: cut.more
        ? [
            ...cut.said,
            `${cut.more} more value(s) are followed by ' #' on their line (a YAML comment), as above`
          ]
        : cut.said
    }
  },

  connection: c => c.connection,

  async run(c, ctx) {
    // the real service keys properties by the job name alone and checks neither the team nor that
    // the job exists (DataJobsPropertiesController → PropertiesService.updateJobProperties), and
    // secrets by team/job without a check: a typo would write silently where no job reads it
    if (!(await ctx.client.readJob(c.ref)))
      throw new ActionFailure(
        `data job '${c.ref.job}' does not exist in team '${c.ref.team}': check job-name and team (the Control Service would store its properties anyway, where no job reads them)`
      )
    for (const w of c.warnings) ctx.warning(w)
    const rows: Cell[][] = []
    const changed: string[] = []
    let count: number | string = ''
    // values only with show-values, and never those that look secret; else the types
    const shown = (k: string, v: unknown): Cell => {
      if (v === undefined) return ''
      const text = shownValue(k, v)
      return text === HIDDEN ? HIDDEN : code(text)
    }
    const row = (k: string, change: string, before: unknown, after: unknown): Cell[] => {
      if (c.showValues) return [k, change, shown(k, before), shown(k, after)]
      // the type, or both when it changed: "a number → a string"
      const types = [...new Set([before, after].filter(v => v !== undefined).map(kind))]
      return [k, change, types.join(' → ')]
    }

    if (c.properties || c.remove.length) {
      const current = await ctx.client.readProperties(c.ref)
      const next: JsonMap =
        c.mode === 'replace' ? { ...(c.properties ?? {}) } : { ...current, ...(c.properties ?? {}) }
      for (const k of c.remove) delete next[k]
      for (const k of new Set([...Object.keys(current), ...Object.keys(next)])) {
        const before = current[k]
        const after = next[k]
        if (!(k in next)) rows.push(row(k, 'property removed', before, undefined))
        else if (!(k in current)) rows.push(row(k, 'property added', undefined, after))
        else if (JSON.stringify(before) !== JSON.stringify(after))
          rows.push(row(k, 'property changed', before, after))
        else continue
        changed.push(k)
      }
      count = Object.keys(next).length
      if (changed.length) keepsExact(current, next)
      if (!c.dryRun && changed.length) {
        await ctx.client.writeProperties(c.ref, next)
        checkWritten(
          ctx,
          'property',
          c.properties ?? {},
          c.remove,
          await ctx.client.readProperties(c.ref)
        )
      }
    }

    if (c.secrets) {
      const current = await ctx.client.readSecrets(c.ref)
      for (const v of Object.values(current)) if (typeof v === 'string' && v) ctx.mask(v)
      const keys = Object.keys(c.secrets).filter(k => current[k] !== c.secrets?.[k])
      for (const k of keys)
        rows.push(row(k, k in current ? 'secret changed' : 'secret added', undefined, undefined))
      changed.push(...keys)
      if (!c.dryRun && keys.length) {
        await ctx.client.writeSecrets(c.ref, { ...current, ...c.secrets })
        const after = await ctx.client.readSecrets(c.ref)
        const lost = Object.keys(c.secrets).filter(k => !(k in after))
        if (lost.length)
          ctx.warning(
            `secret(s) ${listed(lost)} are not in the secrets after the write: someone else wrote in between; run again`
          )
      }
    }

    const verb = c.dryRun ? 'would change' : 'changed'
    ctx.info(
      changed.length
        ? `${verb} ${changed.length} key(s) of '${c.ref.job}': ${listed(changed)}`
        : `nothing to change for '${c.ref.job}'`
    )
    const outcome: Outcome = {
      outputs: { 'changed-keys': JSON.stringify(changed), 'property-count': count }
    }
    if (rows.length) {
      outcome.summary = {
        heading: `VDK data job ${c.ref.job}: properties${c.dryRun ? ' (dry run: nothing written)' : ''}${c.showValues ? '' : ' (values not shown)'}`,
        columns: c.showValues
          ? ['Key', 'Change', 'Old value', 'New value']
          : ['Key', 'Change', 'Type'],
        rows
      }
    }
    return outcome
  }
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
