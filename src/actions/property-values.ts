// Property and secret maps as set-properties reads them: YAML or JSON text becomes a JSON map
// exactly or not at all — a value that JSON cannot carry as written (.nan, .inf, an integer beyond
// 2^53, more digits than a double keeps, a date or binary YAML tag, a key that is not text or
// comes twice) is refused with its place, never its text; JSON is read by JSON.parse, and every
// check is one pass, so a big file takes linear time. (How values are shown: shown-values.ts.)
import {
  isAlias,
  isMap,
  isNode,
  isScalar,
  isSeq,
  parseDocument,
  YAMLMap,
  YAMLSeq,
  type Document,
  type Node
} from 'yaml'
import type { JsonMap } from '../core/types.js'

/** Deeper than this is refused: no property map needs it, and printing it would overflow. */
export const MAX_DEPTH = 100

/** Where a value sits: keys and list positions from the top. */
type Segment = string | number

/** How a value is named in a message: `source.tables[1]`, odd keys quoted. */
export function pathText(path: Segment[]): string {
  if (!path.length) return 'the whole value'
  const text = path
    .map((s, i) =>
      typeof s === 'number'
        ? `[${s}]`
        : /^[\w$-]+$/.test(s)
          ? `${i ? '.' : ''}${s}`
          : `[${JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s)}]`
    )
    .join('')
  return `'${text}'`
}

/** The line (1-based) of `offset` in `text`; counted only when a problem is reported. */
function lineOf(text: string, offset: number): number {
  let line = 1
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++
  return line
}

export const kind = (v: unknown): string =>
  Array.isArray(v)
    ? 'a list'
    : v === null
      ? 'empty'
      : typeof v === 'object'
        ? 'a mapping'
        : `a ${typeof v}`

/** A decimal number's value as digits and exponent ("15e-1" for 1.50), or undefined. */
function decimal(text: string): string | undefined {
  const m = /^[-+]?(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d+))?$/.exec(text)
  if (!m || !(m[1] || m[2])) return undefined
  const all = `${m[1]}${m[2] ?? ''}`.replace(/^0+/, '')
  if (!all) return '0'
  const digits = all.replace(/0+$/, '')
  return `${digits}e${Number(m[3] ?? 0) - (m[2]?.length ?? 0) + all.length - digits.length}`
}

/**
 * Whether a number written as `source` (decimal, or 0x/0o/0b when `radix` is set) is sent as
 * written: JSON.stringify writes the double it became, which for 12345678901234567890 or
 * 3.14159265358979323846 has other digits, and for .nan/.inf/1e999 is null.
 */
export function numberProblem(source: string, value: number, radix = false): string | undefined {
  if (!Number.isFinite(value))
    return 'is not a finite number (.nan, .inf, or beyond ±1.8e308), which JSON has no number for'
  const written = radix ? undefined : decimal(source.replace(/_/g, ''))
  const exact =
    written === undefined
      ? !Number.isInteger(value) || Number.isSafeInteger(value)
      : written === decimal(String(Math.abs(value)))
  return exact
    ? undefined
    : 'has more digits than a JSON number keeps (integers up to ±9007199254740991, about 16 significant digits), so another number would be stored'
}

export interface Finding {
  path: Segment[]
  offset: number
  problem: string
}

const QUOTE_IT = 'quote it to keep it as text'

/** One line naming the input and where: `properties: 'a.b' (line 3) <problem>`. */
export const findingText = (what: string, f: Finding, text: string): string =>
  `${what}: ${pathText(f.path)} (line ${lineOf(text, f.offset)}) ${f.problem}`

/**
 * The checks of valid JSON text that JSON.parse skips, in one pass: keys given twice (JSON.parse
 * keeps the last), numbers it would change, nesting deeper than MAX_DEPTH.
 */
export function checkJson(text: string): Finding | undefined {
  interface Frame {
    keys?: Set<string>
    key: Segment
    expectKey: boolean
  }
  const stack: Frame[] = []
  /** The place of the value at hand: the key or position in each open container. */
  const here = (): Segment[] => stack.map(f => f.key)
  const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/y
  for (let i = 0; i < text.length;) {
    const c = text[i]
    const top = stack[stack.length - 1]
    if (c === '"') {
      let end = i + 1
      for (;;) {
        end = text.indexOf('"', end)
        let slashes = 0
        while (text[end - 1 - slashes] === '\\') slashes++
        if (slashes % 2 === 0) break
        end++
      }
      if (top?.keys && top.expectKey) {
        const raw = text.slice(i + 1, end)
        const key = raw.includes('\\') ? (JSON.parse(text.slice(i, end + 1)) as string) : raw
        if (top.keys.has(key))
          return { path: [...here().slice(0, -1), key], offset: i, problem: 'is given twice' }
        top.keys.add(key)
        top.key = key
        top.expectKey = false
      }
      i = end + 1
    } else if (c === '{' || c === '[') {
      if (stack.length >= MAX_DEPTH)
        return { path: here(), offset: i, problem: `is nested more than ${MAX_DEPTH} levels deep` }
      stack.push(
        c === '{' ? { keys: new Set(), key: '', expectKey: true } : { key: 0, expectKey: false }
      )
      i++
    } else if (c === '}' || c === ']') {
      stack.pop()
      i++
    } else if (c === ',') {
      if (top.keys) top.expectKey = true
      else top.key = (top.key as number) + 1
      i++
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i
      const source = (NUMBER.exec(text) as RegExpExecArray)[0]
      const problem = numberProblem(source, Number(source))
      if (problem) return { path: here(), offset: i, problem: `${problem}: ${QUOTE_IT}` }
      i += source.length
    } else i++
  }
  return undefined
}

/** What a collection or scalar YAML built that JSON has no form for (a tag such as !!set). */
function yamlOnly(node: Node): string | undefined {
  const tag = node.tag ? ` (${node.tag.replace('tag:yaml.org,2002:', '!!')})` : ''
  if (isMap(node) || isSeq(node)) {
    const plain =
      (node.constructor === YAMLMap || node.constructor === YAMLSeq) &&
      !node.tag?.endsWith(':pairs')
    return plain ? undefined : `is a YAML set or ordered map${tag}, which JSON has no form for`
  }
  if (!isScalar(node)) return undefined
  const v = node.value
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number')
    return undefined
  const what = v instanceof Date ? 'a date' : v instanceof Uint8Array ? 'binary data' : 'an object'
  return `is ${what} in YAML${tag}, which JSON has no form for: ${QUOTE_IT}`
}

/** What a mapping key that is not text is. */
const keyKind = (key: unknown): string =>
  isAlias(key)
    ? 'an alias'
    : isScalar(key)
      ? key.value === null
        ? 'empty'
        : `a ${typeof key.value}`
      : isMap(key)
        ? 'a mapping'
        : isSeq(key)
          ? 'a list'
          : 'empty'

export interface YamlChecks {
  problem?: Finding
  /** Plain values followed by ` #` on their line: YAML ended them there (a comment). */
  cut: Finding[]
}

/**
 * The checks of a parsed YAML document, in one pass over its nodes (aliases are checked where
 * their anchor is): mapping keys are text and come once (YAML turns `1:` into "1", so `1` and
 * "1" would collide), numbers are sent as written, no tag turns a value into a date, binary data
 * or a set. Plain values (of every type when `allPlain`, else text) that a comment cut are listed.
 */
export function checkYaml(doc: Document.Parsed, text: string, allPlain: boolean): YamlChecks {
  const cut: Finding[] = []
  const stack: Array<{ node: unknown; path: Segment[] }> = [{ node: doc.contents, path: [] }]
  while (stack.length) {
    const { node, path } = stack.pop() as { node: unknown; path: Segment[] }
    if (!node || isAlias(node) || !(isMap(node) || isSeq(node) || isScalar(node))) continue
    const offset = node.range?.[0] ?? 0
    const odd = yamlOnly(node)
    if (odd) return { problem: { path, offset, problem: odd }, cut }
    if ((isMap(node) || isSeq(node)) && path.length >= MAX_DEPTH)
      return {
        problem: { path, offset, problem: `is nested more than ${MAX_DEPTH} levels deep` },
        cut
      }
    if (isMap(node)) {
      const keys = new Set<string>()
      const children: typeof stack = []
      for (const pair of node.items) {
        const key = pair.key
        const at = (isNode(key) ? key.range?.[0] : undefined) ?? offset
        if (!isScalar(key) || typeof key.value !== 'string')
          return {
            problem: {
              path,
              offset: at,
              problem: `holds a key that is ${keyKind(key)}, not text: quote it ("…": value), as JSON keys are text`
            },
            cut
          }
        if (keys.has(key.value))
          return {
            problem: { path: [...path, key.value], offset: at, problem: 'is given twice' },
            cut
          }
        keys.add(key.value)
        children.push({ node: pair.value, path: [...path, key.value] })
      }
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i])
    } else if (isSeq(node)) {
      for (let i = node.items.length - 1; i >= 0; i--)
        stack.push({ node: node.items[i], path: [...path, i] })
    } else if (isScalar(node)) {
      const v = node.value
      if (typeof v === 'number') {
        const radix = node.format === 'HEX' || node.format === 'OCT' || node.format === 'BIN'
        const problem = numberProblem(String(node.source ?? v), v, radix || node.format === 'TIME')
        if (problem) return { problem: { path, offset, problem: `${problem}: ${QUOTE_IT}` }, cut }
      }
      const end = node.range?.[1]
      if (
        node.type === 'PLAIN' &&
        (allPlain || typeof v === 'string') &&
        end !== undefined &&
        /[ \t]+#/y.test(text.slice(end, end + 64))
      )
        cut.push({ path, offset, problem: '' })
    }
  }
  return { cut }
}

export type Read = { value: unknown; cut: Finding[] } | { problem: string }

/** A problem of YAML that does not parse: only where, never the text (it may hold secrets). */
function parseProblem(what: string, doc: Document.Parsed): string | undefined {
  const first = doc.errors[0]
  if (!first) return undefined
  const at = first.linePos?.[0]
  const where = at ? `line ${at.line}, column ${at.col}: ${first.code}` : first.code
  return `${what} is not valid YAML or JSON (${where}); its text is not shown, as it may hold secrets`
}

const MiB = 1024 * 1024

/**
 * The most text read. YAML takes time and memory (measured by bench/properties.mjs under Node 24:
 * a 5 MB file 16 s and 800 MiB, on a loaded machine), JSON little (5 MB: 1.4 s, 144 MiB, most of
 * it the process). Property maps are kilobytes; these leave room.
 */
export const MAX_BYTES = { yaml: 1 * MiB, json: 16 * MiB }

/** The problem of text above its limit. */
export function tooBig(what: string, size: number, as: 'json' | 'yaml'): string {
  const mib = `${(size / MiB).toFixed(1)} MiB`
  return as === 'json'
    ? `${what} is ${mib}, above the ${MAX_BYTES.json / MiB} MiB read at most`
    : `${what} is ${mib} of YAML, above the ${MAX_BYTES.yaml / MiB} MiB read as YAML (it takes about 150 MiB of memory a MiB): write it as JSON (a .json file), read up to ${MAX_BYTES.json / MiB} MiB`
}

/**
 * YAML or JSON text as a value, checked: JSON text (a .json file, or text starting with `{`) is
 * read by JSON.parse, anything else (or JSON.parse refusing it) by the yaml parser — which is
 * told not to look for duplicate keys itself (it compares each key with every earlier one of its
 * mapping: quadratic), as checkYaml does it with a set. `allPlain`: warn of every plain value a
 * comment may have cut (secrets), not only text.
 */
export function readValue(
  what: string,
  text: string,
  options: { json: boolean; allPlain: boolean }
): Read {
  const size = Buffer.byteLength(text)
  if (size > MAX_BYTES.json) return { problem: tooBig(what, size, 'json') }
  if (options.json || /^\s*\{/.test(text)) {
    let value: unknown
    let parsed = false
    try {
      value = JSON.parse(text)
      parsed = true
    } catch {
      // not JSON after all: YAML says where it is wrong, or reads it (a flow mapping {a: 1})
    }
    if (parsed) {
      const problem = checkJson(text)
      return problem ? { problem: findingText(what, problem, text) } : { value, cut: [] }
    }
  }
  if (size > MAX_BYTES.yaml) return { problem: tooBig(what, size, 'yaml') }
  const doc = parseDocument(text, { logLevel: 'silent', uniqueKeys: false })
  const bad = parseProblem(what, doc)
  if (bad) return { problem: bad }
  const checked = checkYaml(doc, text, options.allPlain)
  if (checked.problem) return { problem: findingText(what, checked.problem, text) }
  try {
    return { value: doc.toJS(), cut: checked.cut }
  } catch (e) {
    return {
      problem: /excessive alias/i.test((e as Error).message)
        ? `${what} uses aliases (*name) that expand too much`
        : `${what} is not valid YAML or JSON (an alias (*name) with no anchor (&name) before it); its text is not shown, as it may hold secrets`
    }
  }
}

/** A warning for a value a YAML comment may have cut: names the key, never the value. */
export const cutWarning = (what: string, f: Finding, text: string): string =>
  `${what}: the value of ${pathText(f.path)} (line ${lineOf(text, f.offset)}) is followed by ' #', which YAML reads as the start of a comment: the value ends before it. If ' #…' is part of the value, quote it, e.g. \${{ toJSON(secrets.NAME) }}`

/**
 * The place of the first number in `value` that JSON.parse has already changed (an integer beyond
 * ±2^53 read from the service): writing it back would store another number.
 */
export function unsafeNumberIn(value: unknown): Segment[] | undefined {
  const stack: Array<{ v: unknown; path: Segment[] }> = [{ v: value, path: [] }]
  while (stack.length) {
    const { v, path } = stack.pop() as { v: unknown; path: Segment[] }
    if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)) return path
    if (path.length > MAX_DEPTH || typeof v !== 'object' || v === null) continue
    if (Array.isArray(v)) v.forEach((x, i) => stack.push({ v: x, path: [...path, i] }))
    else for (const [k, x] of Object.entries(v)) stack.push({ v: x, path: [...path, k] })
  }
  return undefined
}

/** A key whose value a write of the map changes: added, changed or removed. */
export interface PropertyChange {
  key: string
  change: 'added' | 'changed' | 'removed'
  before?: unknown
  after?: unknown
}

/** The map set-properties writes: `given` merged over `current`, or `given` alone (replace). */
export const nextProperties = (
  current: JsonMap,
  given: JsonMap,
  mode: 'merge' | 'replace'
): JsonMap => (mode === 'replace' ? { ...given } : { ...current, ...given })

/** The keys that differ between the map now and the map written, in the order of their keys. */
export function propertyChanges(current: JsonMap, next: JsonMap): PropertyChange[] {
  const changes: PropertyChange[] = []
  for (const key of new Set([...Object.keys(current), ...Object.keys(next)])) {
    const before = current[key]
    const after = next[key]
    if (!(key in next)) changes.push({ key, change: 'removed', before })
    else if (!(key in current)) changes.push({ key, change: 'added', after })
    else if (JSON.stringify(before) !== JSON.stringify(after))
      changes.push({ key, change: 'changed', before, after })
  }
  return changes
}
