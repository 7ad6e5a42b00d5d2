// set-properties' inputs that hold maps and keys — secrets, properties or properties-file, remove —
// each read exactly (property-values.ts) or refused with a problem that says where, never what
// (a value may be a secret). Values a YAML comment may have cut are kept as warnings for run().
import { readFileSync, statSync } from 'node:fs'
import { extname } from 'node:path'
import { workspacePath, type InputSource, type Problems } from '../core/inputs.js'
import { hasControl } from '../core/text.js'
import type { JsonMap } from '../core/types.js'
import { cutWarning, kind, MAX_BYTES, readValue, tooBig } from './property-values.js'

const isMap = (v: unknown): v is JsonMap => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Warnings of values a YAML comment may have cut, at most (GitHub shows ten annotations a step). */
const MAX_WARNINGS = 5

/** Values a YAML comment may have cut: the warnings said, and how many more. */
export interface CutValues {
  said: string[]
  more: number
}

/** Keys with a line break or another control character: not names, and they would print as lines. */
const keysProblem = (what: string, keys: string[]): string =>
  `${what} holds key(s) with a line break or another control character: ${keys
    .map(k => JSON.stringify(k).slice(0, 40))
    .join(', ')}`

/**
 * A YAML or JSON mapping from an input or a file, read exactly (property-values.ts); problems say
 * where, never what. Values a YAML comment may have cut are warned of (`warnings`).
 */
function mapping(
  what: string,
  text: string,
  problems: Problems,
  options: { json?: boolean; secrets?: boolean; cut: CutValues }
): JsonMap | undefined {
  const { cut } = options
  const read = readValue(what, text, {
    json: options.json ?? false,
    allPlain: options.secrets ?? false
  })
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
    if (cut.said.length < MAX_WARNINGS) cut.said.push(cutWarning(what, f, text))
    else cut.more++
  }
  return value
}

/** secrets: a mapping of names to text values, each masked before anything can print it. */
export function readSecrets(
  inputs: InputSource,
  problems: Problems,
  cut: CutValues
): Record<string, string> | undefined {
  const raw = inputs.input('secrets')
  const map = raw ? mapping('secrets', raw, problems, { secrets: true, cut }) : undefined
  if (!map) return undefined
  const secrets: Record<string, string> = {}
  for (const [k, v] of Object.entries(map)) {
    if (typeof v !== 'string')
      problems.add(`secret '${k}' must be a string (quote it), not ${kind(v)}`)
    else {
      inputs.mask?.(v)
      secrets[k] = v
    }
  }
  return secrets
}

/** properties or properties-file: the mapping to write. */
export function readProperties(
  inputs: InputSource,
  problems: Problems,
  cut: CutValues
): JsonMap | undefined {
  const inline = inputs.input('properties')
  const file = inputs.input('properties-file')
  if (inline && file) problems.add('set properties or properties-file, not both')
  else if (inline) return mapping('properties', inline, problems, { cut })
  else if (file) return readPropertiesFile(inputs, problems, cut, file)
  return undefined
}

function readPropertiesFile(
  inputs: InputSource,
  problems: Problems,
  cut: CutValues,
  file: string
): JsonMap | undefined {
  const path = workspacePath(inputs, file)
  const extension = extname(path).toLowerCase()
  if (!['.json', '.yaml', '.yml'].includes(extension)) {
    problems.add('properties-file', `'${file}' must be a .json, .yaml or .yml file`)
    return undefined
  }
  let text: string | undefined
  try {
    // a FIFO would hang the read, /dev/zero fill the memory: a regular file, its size known
    const stat = statSync(path)
    if (!stat.isFile()) problems.add('properties-file', `'${file}' is not a regular file`)
    else if (stat.size > MAX_BYTES.json)
      problems.add(tooBig(`properties-file '${file}'`, stat.size, 'json'))
    else text = readFileSync(path, 'utf8')
  } catch (e) {
    problems.add(
      'properties-file',
      `'${file}' cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`
    )
  }
  if (text === undefined) return undefined
  // a .json file is read as JSON (fast, exact); YAML only when it is not JSON
  return mapping(`properties-file '${file}'`, text, problems, {
    json: extension === '.json',
    cut
  })
}

/** remove: key names, one per line or separated by commas (or a YAML/JSON list). */
export function readRemove(inputs: InputSource, problems: Problems): string[] {
  const raw = inputs.input('remove')
  if (!raw) return []
  let parsed: unknown = raw.split(/[\n,]/)
  if (/^\s*\[/.test(raw)) {
    const read = readValue('remove', raw, { json: false, allPlain: false })
    parsed = 'value' in read ? read.value : undefined
  }
  if (!Array.isArray(parsed) || parsed.some(k => typeof k !== 'string')) {
    problems.add('remove', 'must be key names, one per line or separated by commas')
    return []
  }
  const remove = parsed.map(k => (k as string).trim()).filter(Boolean)
  const bad = remove.filter(hasControl)
  if (bad.length) problems.add(keysProblem('remove', bad))
  return remove
}

/** The warnings of values a YAML comment may have cut, with how many more there are. */
export const cutWarnings = (cut: CutValues): string[] =>
  cut.more
    ? [
        ...cut.said,
        `${cut.more} more value(s) are followed by ' #' on their line (a YAML comment), as above`
      ]
    : cut.said
