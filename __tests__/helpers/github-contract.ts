// GitHub's official REST description (@octokit/openapi, api.github.com.json, 13 MB) as a checker
// of the requests the actions send to the GitHub test server and of the answers it gives: pruned
// to the operations the tests use and the components they reach through $ref (a few hundred KB),
// so that loading it stays fast, then given to the same Contract as the VDK spec (contract.ts).
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { Contract } from './contract.js'

/** The paths (and their methods) of GitHub's description that the test server answers. */
export const GITHUB_OPERATIONS: Record<string, string[]> = {
  '/repos/{owner}/{repo}/deployments': ['get', 'post'],
  '/repos/{owner}/{repo}/deployments/{deployment_id}': ['get'],
  '/repos/{owner}/{repo}/deployments/{deployment_id}/statuses': ['get', 'post'],
  '/repos/{owner}/{repo}/issues/{issue_number}/comments': ['get', 'post'],
  '/repos/{owner}/{repo}/issues/comments/{comment_id}': ['patch'],
  '/repos/{owner}/{repo}/compare/{basehead}': ['get']
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/** Every "#/components/…" reference inside a value. */
function refsOf(value: Json, found: Set<string>): void {
  if (Array.isArray(value)) for (const v of value) refsOf(v, found)
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') found.add(v)
      else refsOf(v, found)
    }
}

/** The description with only `paths` (their methods) and what they reference, transitively. */
export function pruneDescription(
  full: Record<string, Json>,
  wanted: Record<string, string[]>
): Record<string, Json> {
  const allPaths = full.paths as Record<string, Record<string, Json>>
  const paths: Record<string, Record<string, Json>> = {}
  for (const [path, methods] of Object.entries(wanted)) {
    const item = allPaths[path]
    if (!item) throw new Error(`GitHub's description has no path ${path}`)
    paths[path] = {}
    for (const m of methods) {
      if (!item[m]) throw new Error(`GitHub's description has no ${m.toUpperCase()} ${path}`)
      paths[path][m] = item[m]
    }
    if (item.parameters) paths[path].parameters = item.parameters
  }
  const components: Record<string, Record<string, Json>> = {}
  const seen = new Set<string>()
  const queue = new Set<string>()
  refsOf(paths, queue)
  const all = full.components as Record<string, Record<string, Json>>
  while (queue.size) {
    const ref = queue.values().next().value as string
    queue.delete(ref)
    if (seen.has(ref)) continue
    seen.add(ref)
    const [, , section, name] = ref.split('/') // "#/components/<section>/<name>"
    const value = all[section]?.[name]
    if (value === undefined) throw new Error(`GitHub's description has no ${ref}`)
    ;(components[section] ??= {})[name] = value
    const inner = new Set<string>()
    refsOf(value, inner)
    for (const r of inner) if (!seen.has(r)) queue.add(r)
  }
  // examples are documentation, not contract: dropped (they are most of the bytes)
  delete components.examples
  const stripExamples = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(stripExamples)
    if (!v || typeof v !== 'object') return v
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => !(k === 'examples' && 'schema' in v))
        .map(([k, x]) => [k, stripExamples(x)])
    )
  }
  return nullableWithoutType({
    openapi: full.openapi,
    info: full.info,
    paths: stripExamples(paths),
    components: stripExamples(components)
  }) as Record<string, Json>
}

/**
 * OpenAPI 3.0's `nullable` beside no `type` (GitHub writes it beside allOf/anyOf/oneOf), which ajv
 * refuses ("nullable" cannot be used without "type"), said as JSON Schema says it: anyOf null.
 */
function nullableWithoutType(v: Json): Json {
  if (Array.isArray(v)) return v.map(nullableWithoutType)
  if (!v || typeof v !== 'object') return v
  const inner = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, nullableWithoutType(x)]))
  if (inner.nullable !== true || 'type' in inner) return inner
  const { nullable: _nullable, ...rest } = inner
  return { anyOf: [rest, { type: 'null' }] }
}

/** Where @octokit/openapi's description of api.github.com is. */
export const GITHUB_DESCRIPTION_PATH = createRequire(import.meta.url).resolve(
  '@octokit/openapi/generated/api.github.com.json'
)

/** The string formats of GitHub's description that ajv does not know by itself. */
const GITHUB_FORMATS: Record<string, (s: string) => boolean> = {
  // an absolute URL (GitHub's *_url fields)
  uri: s => URL.canParse(s),
  // RFC 6570 templates ({/other_user}): any text
  'uri-template': () => true,
  email: s => /^[^\s@]+@[^\s@]+$/.test(s),
  date: s => /^\d{4}-\d{2}-\d{2}$/.test(s)
}

let loading: Promise<Contract> | undefined

/** GitHub's description, pruned, as a Contract; read once per test file. */
export function githubContract(): Promise<Contract> {
  loading ??= Contract.fromText(
    JSON.stringify(
      pruneDescription(
        JSON.parse(readFileSync(GITHUB_DESCRIPTION_PATH, 'utf8')) as Record<string, Json>,
        GITHUB_OPERATIONS
      )
    ),
    GITHUB_DESCRIPTION_PATH,
    GITHUB_FORMATS
  )
  return loading
}
