// Checks every action.yml and workflow (.github/workflows/, examples/workflows/) with GitHub's own
// parser, @actions/workflow-parser, and keeps each action's README tables of inputs and outputs
// in step with its action.yml. It also proves that the inputs each definition's config() reads are
// the ones its action.yml declares, and the reverse: a name read but not declared would always be
// '' on a runner, and one declared but never read would be silently ignored. Run with tsx (the
// parser imports JSON without import attributes).
//
//   tsx scripts/check-actions.ts          check: exit 1 on a parse error or a README out of date
//   tsx scripts/check-actions.ts --write  rewrite the README tables from action.yml
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser'
import { parseAction } from '@actions/workflow-parser/actions/action-parser'
import { parse } from 'yaml'
import { Problems, type InputSource } from '../src/core/inputs.js'
import { InputError } from '../src/core/errors.js'
import { DEFINITIONS } from './action-definitions.js'
import { actionYaml, defaultInputs, runnerVariables } from './action-runner.js'

const root = join(import.meta.dirname, '..')
const write = process.argv.includes('--write')
const problems: string[] = []

interface Meta {
  inputs?: Record<string, { description?: string; required?: boolean; default?: unknown }>
  outputs?: Record<string, { description?: string }>
  runs: { using: string; main?: string; post?: string }
}

const actionFiles = [
  join(root, 'action.yml'),
  ...readdirSync(join(root, 'actions')).map(d => join(root, 'actions', d, 'action.yml'))
].filter(existsSync)

const cell = (s: unknown): string =>
  (typeof s === 'string' || typeof s === 'number' || typeof s === 'boolean' ? String(s) : '')
    .replace(/\|/g, '\\|')
    .replace(/\s*\n\s*/g, ' ')

function tables(meta: Meta): string {
  const lines = ['| input | required | default | description |', '|---|---|---|---|']
  for (const [name, i] of Object.entries(meta.inputs ?? {})) {
    lines.push(
      `| \`${name}\` | ${i.required ? 'yes' : 'no'} | ${i.default === undefined ? '' : `\`${cell(i.default)}\``} | ${cell(i.description)} |`
    )
  }
  lines.push('', '| output | description |', '|---|---|')
  for (const [name, o] of Object.entries(meta.outputs ?? {}))
    lines.push(`| \`${name}\` | ${cell(o.description)} |`)
  return lines.join('\n')
}

const BEGIN = '<!-- inputs-outputs: generated from action.yml by `npm run docs`; do not edit -->'
const END = '<!-- end of inputs-outputs -->'

for (const file of actionFiles) {
  const rel = relative(root, file)
  const text = readFileSync(file, 'utf8')
  const result = parseAction({ name: rel, content: text }, new NoOperationTraceWriter())
  for (const e of result.context.errors.getErrors()) problems.push(`${rel}: ${e.message}`)
  const meta = parse(text) as Meta
  if (meta.runs.using !== 'node24' && meta.runs.using !== 'composite')
    problems.push(`${rel}: runs.using must be node24`)
  for (const phase of ['main', 'post'] as const) {
    const entry = meta.runs[phase]
    if (entry && !existsSync(join(file, '..', entry)))
      problems.push(`${rel}: runs.${phase} ${entry} does not exist (npm run build)`)
  }
  const readme = join(file, '..', 'README.md')
  if (!existsSync(readme)) {
    problems.push(`${relative(root, readme)} is missing`)
    continue
  }
  const current = readFileSync(readme, 'utf8')
  const a = current.indexOf(BEGIN)
  const b = current.indexOf(END)
  if (a < 0 || b < a) {
    problems.push(
      `${relative(root, readme)} has no generated inputs/outputs section (${BEGIN} … ${END})`
    )
    continue
  }
  const next = `${current.slice(0, a + BEGIN.length)}\n${tables(meta)}\n${current.slice(b)}`
  if (next !== current) {
    if (write) writeFileSync(readme, next)
    else
      problems.push(
        `${relative(root, readme)}: the inputs/outputs tables differ from action.yml; run npm run docs`
      )
  }
}

// README blocks that show an example file whole stay equal to it:
// <!-- example: <path> --> ```yaml … ``` <!-- end of example -->
const readmePath = join(root, 'README.md')
const readmeText = readFileSync(readmePath, 'utf8')
const embedded = readmeText.replace(
  /(<!-- example: (\S+) -->\n)[\s\S]*?(<!-- end of example -->)/g,
  (_all, open: string, file: string, close: string) => {
    const path = join(root, file)
    if (!existsSync(path)) {
      problems.push(`README.md shows ${file}, which does not exist`)
      return `${open}${close}`
    }
    return `${open}\n\`\`\`yaml\n${readFileSync(path, 'utf8').trimEnd()}\n\`\`\`\n\n${close}`
  }
)
if (embedded !== readmeText) {
  if (write) writeFileSync(readmePath, embedded)
  else problems.push('README.md: an example it shows differs from its file; run npm run docs')
}

// every workflow: the repository's own (.github/workflows/) and the examples users copy
const workflowFiles = [join(root, '.github', 'workflows'), join(root, 'examples', 'workflows')]
  .filter(existsSync)
  .flatMap(dir =>
    readdirSync(dir)
      .filter(f => /\.ya?ml$/.test(f))
      .map(f => join(dir, f))
  )
for (const file of workflowFiles) {
  const rel = relative(root, file)
  const result = parseWorkflow(
    { name: rel, content: readFileSync(file, 'utf8') },
    new NoOperationTraceWriter()
  )
  for (const e of result.context.errors.getErrors()) problems.push(`${rel}: ${e.message}`)
}

/**
 * The input names `name`'s definition reads in its config(), over two runs in an empty git workspace:
 * with the action.yml defaults only, and with every declared input set (so that the inputs read
 * only when another is given, such as the pipeline's properties-mode, are read too).
 */
async function inputsRead(name: string, declared: Record<string, string>): Promise<Set<string>> {
  const definition = DEFINITIONS[name]
  const read = new Set<string>()
  const workspace = mkdtempSync(join(tmpdir(), 'check-actions-'))
  execFileSync('git', ['init', '-q'], { cwd: workspace })
  try {
    for (const values of [declared, { ...declared, ...filled(name) }]) {
      const source: InputSource = {
        input: input => (read.add(input), values[input] ?? ''),
        env: runnerVariables(name, workspace)
      }
      try {
        // problems are collected, never thrown: config() leaves the checking to the runtime
        await definition.config(source, new Problems())
      } catch (e) {
        // bad or missing inputs are expected here: only the names asked for count
        if (!(e instanceof InputError))
          problems.push(`${name || 'action.yml'}: config() failed: ${(e as Error).message}`)
      }
    }
  } finally {
    rmSync(workspace, { recursive: true, force: true })
  }
  return read
}

/** Every input of `name`'s action.yml given a value: its default, or a word. */
function filled(name: string): Record<string, string> {
  const { meta } = actionYaml(name)
  return Object.fromEntries(Object.keys(meta.inputs ?? {}).map(input => [input, 'x']))
}

const actionNames = ['', ...readdirSync(join(root, 'actions'))]
for (const name of actionNames) {
  const shown = relative(root, join(actionYaml(name).dir, 'action.yml'))
  if (!DEFINITIONS[name]) {
    problems.push(`${shown}: no definition in scripts/action-definitions.ts runs it`)
    continue
  }
  const meta = actionYaml(name).meta
  const declared = Object.keys(meta.inputs ?? {})
  const read = await inputsRead(name, defaultInputs(meta))
  for (const input of [...read].filter(i => !declared.includes(i)).sort())
    problems.push(`${shown}: the action reads input '${input}', which action.yml does not declare`)
  for (const input of declared.filter(i => !read.has(i)))
    problems.push(`${shown}: input '${input}' is declared, but the action never reads it`)
}
for (const name of Object.keys(DEFINITIONS).filter(n => !actionNames.includes(n)))
  problems.push(`scripts/action-definitions.ts: '${name}' has no action.yml`)

if (problems.length) {
  console.error(problems.join('\n'))
  process.exit(1)
}
console.log(
  `${actionFiles.length} action.yml file(s) and ${workflowFiles.length} workflow(s) parse with @actions/workflow-parser, declare the inputs their actions read; README tables ${write ? 'written' : 'up to date'}`
)
