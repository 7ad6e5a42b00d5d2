// Checks the layout rules of src/ (README, design notes: "Layout"), part of `npm run lint`:
// - no source file over MAX_FILE_LINES lines, no function over MAX_FUNCTION_LINES lines;
// - imports go one way only: entries -> actions -> core, entries -> emulator -> core; core imports
//   neither actions, emulator nor entries; the emulator nothing from actions or entries, the
//   actions nothing from the emulator; nothing imports an entry;
// - no import cycle between the modules of src/.
// Type-only imports count as imports: a cycle of types is still a tangle to read.
//
//   tsx scripts/check-layout.ts           check: exit 1 naming every file that breaks a rule
//   tsx scripts/check-layout.ts --report  also list the longest files and functions
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'

const root = join(import.meta.dirname, '..')
const srcDir = join(root, 'src')
const MAX_FILE_LINES = 400
const MAX_FUNCTION_LINES = 80

/** Which layer a file belongs to: its first folder under src/. */
type Layer = 'core' | 'actions' | 'emulator' | 'entries'
/** What each layer may import from (besides itself). */
const MAY_IMPORT: Record<Layer, Layer[]> = {
  core: [],
  actions: ['core'],
  emulator: ['core'],
  entries: ['actions', 'emulator', 'core']
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap(name => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return files(path)
    return name.endsWith('.ts') ? [path] : []
  })
}

const layerOf = (file: string): Layer => relative(srcDir, file).split('/')[0] as Layer
const show = (file: string): string => relative(root, file)

/** The lines a node spans in its source file. */
function linesOf(node: ts.Node, source: ts.SourceFile): number {
  const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line
  const end = source.getLineAndCharacterOfPosition(node.getEnd()).line
  return end - start + 1
}

/** A name for a function node, for the report: its own name or what it is assigned to. */
function nameOf(node: ts.Node, source: ts.SourceFile): string {
  const named = node as { name?: ts.Node }
  if (named.name) return named.name.getText(source)
  const parent = node.parent
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)))
    return parent.name.getText(source)
  return '(anonymous)'
}

const isFunction = (node: ts.Node): boolean =>
  ts.isFunctionDeclaration(node) ||
  ts.isFunctionExpression(node) ||
  ts.isArrowFunction(node) ||
  ts.isMethodDeclaration(node) ||
  ts.isConstructorDeclaration(node) ||
  ts.isGetAccessorDeclaration(node) ||
  ts.isSetAccessorDeclaration(node)

interface Finding {
  file: string
  what: string
  lines: number
}

const problems: string[] = []
const longFunctions: Finding[] = []
const fileLines: Finding[] = []
const graph = new Map<string, string[]>()

for (const file of files(srcDir)) {
  const text = readFileSync(file, 'utf8')
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
  const count = text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
  fileLines.push({ file, what: 'file', lines: count })
  if (count > MAX_FILE_LINES)
    problems.push(`${show(file)}: ${count} lines, more than ${MAX_FILE_LINES}; split it by concern`)

  const imports: string[] = []
  const visit = (node: ts.Node): void => {
    if (isFunction(node)) {
      const lines = linesOf(node, source)
      const what = nameOf(node, source)
      longFunctions.push({ file, what, lines })
      if (lines > MAX_FUNCTION_LINES)
        problems.push(
          `${show(file)}: function ${what} has ${lines} lines, more than ${MAX_FUNCTION_LINES}`
        )
    }
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      const spec = node.moduleSpecifier.text
      if (spec.startsWith('.')) imports.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')))
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  graph.set(file, imports)

  const layer = layerOf(file)
  for (const target of imports) {
    const to = layerOf(target)
    if (to === layer) continue
    if (to === 'entries' || !MAY_IMPORT[layer].includes(to))
      problems.push(`${show(file)}: imports ${show(target)}; ${layer} may not import ${to}`)
  }
}

// Cycles: a depth-first search; each cycle is named once, by the path that closes it.
const state = new Map<string, 'open' | 'done'>()
const seen = new Set<string>()
function walk(file: string, path: string[]): void {
  state.set(file, 'open')
  for (const next of graph.get(file) ?? []) {
    if (!graph.has(next)) continue
    if (state.get(next) === 'open') {
      const cycle = [...path.slice(path.indexOf(next)), next].map(show)
      const key = [...cycle].sort().join()
      if (!seen.has(key)) {
        seen.add(key)
        problems.push(`import cycle: ${cycle.join(' -> ')}`)
      }
    } else if (!state.has(next)) walk(next, [...path, next])
  }
  state.set(file, 'done')
}
for (const file of graph.keys()) if (!state.has(file)) walk(file, [file])

if (process.argv.includes('--report')) {
  const top = (list: Finding[]): string =>
    [...list]
      .sort((a, b) => b.lines - a.lines)
      .slice(0, 15)
      .map(
        f =>
          `  ${String(f.lines).padStart(5)}  ${show(f.file)}${f.what === 'file' ? '' : ` ${f.what}`}`
      )
      .join('\n')
  console.log(`longest files:\n${top(fileLines)}\nlongest functions:\n${top(longFunctions)}`)
}

if (problems.length) {
  console.error(`layout: ${problems.length} problem(s)\n${problems.map(p => `  ${p}`).join('\n')}`)
  process.exit(1)
}
console.log(
  `layout: ${fileLines.length} files under src/, none over ${MAX_FILE_LINES} lines, no function over ${MAX_FUNCTION_LINES}, imports one way, no cycle`
)
