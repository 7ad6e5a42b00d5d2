// set-properties: a job's properties as code (merge or replace, remove keys), and its secrets
// written through the secrets API with their values masked before anything is printed.
// Read → change → write, then read back to say when someone else wrote in between.
import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import { parseDocument } from 'yaml'
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
}

const isMap = (v: unknown): v is JsonMap => typeof v === 'object' && v !== null && !Array.isArray(v)
const kind = (v: unknown): string =>
  Array.isArray(v)
    ? 'a list'
    : v === null
      ? 'empty'
      : typeof v === 'object'
        ? 'a mapping'
        : `a ${typeof v}`

/** Keys with a line break or another control character: not names, and they would print as lines. */
const keysProblem = (what: string, keys: string[]): string =>
  `${what} holds key(s) with a line break or another control character: ${keys
    .map(k => JSON.stringify(k).slice(0, 40))
    .join(', ')}`

/**
 * YAML (or JSON, which is YAML) read without echoing it: a problem says only where it is (the
 * parser's messages quote the text, which the runner's whole-value mask does not hide, and its
 * warnings would print it).
 */
function readYaml(text: string): { value: unknown } | { where: string } {
  const doc = parseDocument(text, { logLevel: 'silent' })
  const first = doc.errors[0]
  if (first) {
    const at = first.linePos?.[0]
    return { where: at ? `line ${at.line}, column ${at.col}: ${first.code}` : first.code }
  }
  try {
    return { value: doc.toJS() }
  } catch {
    return { where: 'an alias (*name) with no anchor (&name) before it' }
  }
}

/** A YAML (or JSON, which is YAML) mapping from an input or a file; problems say where. */
function mapping(what: string, text: string, problems: Problems): JsonMap | undefined {
  const read = readYaml(text)
  if ('where' in read) {
    problems.add(
      `${what} is not valid YAML or JSON (${read.where}); its text is not shown, as it may hold secrets`
    )
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
  return value
}

export const setProperties: ActionDefinition<SetPropertiesConfig> = {
  name: 'set-properties',

  async config(src: InputSource, problems: Problems): Promise<SetPropertiesConfig> {
    const connection = readConnection(src, problems)
    // secrets first: masked before anything else can print them
    let secrets: Record<string, string> | undefined
    const rawSecrets = src.input('secrets')
    if (rawSecrets) {
      const map = mapping('secrets', rawSecrets, problems)
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
    else if (inline) properties = mapping('properties', inline, problems)
    else if (file) {
      const path = workspacePath(src, file)
      if (!['.json', '.yaml', '.yml'].includes(extname(path).toLowerCase()))
        problems.add(`properties-file '${file}' must be a .json, .yaml or .yml file`)
      else {
        let text: string | undefined
        try {
          text = readFileSync(path, 'utf8')
        } catch (e) {
          problems.add(
            `properties-file '${file}' cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`
          )
        }
        if (text !== undefined) properties = mapping(`properties-file '${file}'`, text, problems)
      }
    }
    const mode = choice('mode', src.input('mode'), ['merge', 'replace'] as const, 'merge', problems)
    let remove: string[] = []
    const rawRemove = src.input('remove')
    if (rawRemove) {
      let parsed: unknown = rawRemove.split(/[\n,]/)
      if (/^\s*\[/.test(rawRemove)) {
        const read = readYaml(rawRemove)
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
    const job = await readJobInputs(src, problems, { pathRequired: false })
    problems.check()
    return {
      connection,
      ref: job?.ref ?? NO_REF,
      properties,
      mode: mode,
      remove,
      secrets,
      dryRun
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
    const rows: Cell[][] = []
    const changed: string[] = []
    let count: number | string = ''
    const show = (v: unknown): Cell => (v === undefined ? '' : code(JSON.stringify(v)))

    if (c.properties || c.remove.length) {
      const current = await ctx.client.readProperties(c.ref)
      const next: JsonMap =
        c.mode === 'replace' ? { ...(c.properties ?? {}) } : { ...current, ...(c.properties ?? {}) }
      for (const k of c.remove) delete next[k]
      for (const k of new Set([...Object.keys(current), ...Object.keys(next)])) {
        const before = current[k]
        const after = next[k]
        if (!(k in next)) rows.push([k, 'property removed', show(before), ''])
        else if (!(k in current)) rows.push([k, 'property added', '', show(after)])
        else if (JSON.stringify(before) !== JSON.stringify(after))
          rows.push([k, 'property changed', show(before), show(after)])
        else continue
        changed.push(k)
      }
      count = Object.keys(next).length
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
      for (const k of keys) rows.push([k, k in current ? 'secret changed' : 'secret added', '', ''])
      changed.push(...keys)
      if (!c.dryRun && keys.length) {
        await ctx.client.writeSecrets(c.ref, { ...current, ...c.secrets })
        const after = await ctx.client.readSecrets(c.ref)
        const lost = Object.keys(c.secrets).filter(k => !(k in after))
        if (lost.length)
          ctx.warning(
            `secret(s) ${lost.join(', ')} are not in the secrets after the write: someone else wrote in between; run again`
          )
      }
    }

    const verb = c.dryRun ? 'would change' : 'changed'
    ctx.info(
      changed.length
        ? `${verb} ${changed.length} key(s) of '${c.ref.job}': ${changed.join(', ')}`
        : `nothing to change for '${c.ref.job}'`
    )
    const outcome: Outcome = {
      outputs: { 'changed-keys': JSON.stringify(changed), 'property-count': count }
    }
    if (rows.length) {
      outcome.summary = {
        heading: `VDK data job ${c.ref.job}: properties${c.dryRun ? ' (dry run: nothing written)' : ''}`,
        columns: ['Key', 'Change', 'Old value', 'New value'],
        rows
      }
    }
    return outcome
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
      `${what} key(s) ${[...missing, ...back].join(', ')} differ from what was written: someone else wrote in between; run again`
    )
  }
}
