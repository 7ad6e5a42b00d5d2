// The input toolkit every action's config() uses: where inputs come from (InputSource), the
// problems collected while reading them (Problems: all said at once, before any request), and the
// readers of the kinds of input the actions share (booleans, words, seconds, workspace paths).
import { relative, resolve, sep } from 'node:path'
import { InputError, type FileProblem } from './errors.js'

/** Where inputs come from: `input` returns the trimmed value, "" when unset (as core.getInput). */
export interface InputSource {
  input(name: string): string
  env: NodeJS.ProcessEnv
  /** Masks a secret read from an input before anything can print it (core.setSecret). */
  mask?(secret: string): void
}

/**
 * One problem of the inputs. `input` is the input it is about, when it is about one: it is said
 * first, and kept apart so that a caller that reads the input under another name (the root
 * action) says the name its user wrote.
 */
export interface Problem {
  input?: string
  message: string
}

/** How a problem reads: "<input> <message>", or the message alone. */
const lineOf = (problem: Problem): string =>
  problem.input === undefined ? problem.message : `${problem.input} ${problem.message}`

/**
 * Collects problems instead of stopping at the first, so one run reports them all. The runtime
 * checks them once config() has read every input: config() itself only adds.
 */
export class Problems {
  private readonly found: Problem[] = []
  readonly files: FileProblem[] = []
  /** A problem of one input, said as "<input> <message>" (e.g. 'job-path', 'is required'). */
  add(input: string, message: string): void
  /** A problem of no single input (two inputs that exclude each other, nothing to do). */
  add(message: string): void
  add(inputOrMessage: string, message?: string): void {
    const problem: Problem =
      message === undefined ? { message: inputOrMessage } : { input: inputOrMessage, message }
    // parts of one action may check the same shared input: say it once
    if (!this.list.includes(lineOf(problem))) this.found.push(problem)
  }
  /** The problems as they read, one line each. */
  get list(): string[] {
    return this.found.map(lineOf)
  }
  /** A problem of a file (and line), also shown there as an annotation. */
  addFile(problem: FileProblem): void {
    const { file, line, message } = problem
    if (this.files.some(f => f.file === file && f.line === line && f.message === message)) return
    this.files.push(problem)
    this.add(`${relativeToWorkspace(file)}${line ? `:${line}` : ''}: ${message}`)
  }
  /** Throws one InputError naming every problem, in one line. */
  check(): void {
    if (this.found.length) throw new InputError(this.list.join('; '), this.files)
  }
}

/** A boolean input: true or false, as any word input is written (see `choice`). */
export function parseBoolean(
  name: string,
  raw: string,
  fallback: boolean,
  problems: Problems
): boolean {
  return choice(name, raw, ['true', 'false'], fallback ? 'true' : 'false', problems) === 'true'
}

/**
 * One of a few words, written as one rule for every word input: each word in lower, Title or
 * UPPER case, nothing else (`merge`, `Merge`, `MERGE`; not `mErGe`). This is the YAML 1.2 core
 * schema's rule for true and false, which core.getBooleanInput follows. The problem message names
 * the words.
 */
export function choice<T extends string>(
  name: string,
  raw: string,
  allowed: readonly T[],
  fallback: T,
  problems: Problems
): T {
  if (raw === '') return fallback
  const found = allowed.find(
    w => raw === w || raw === w.toUpperCase() || raw === w.charAt(0).toUpperCase() + w.slice(1)
  )
  if (found !== undefined) return found
  const words =
    allowed.length === 2 ? `${allowed[0]} or ${allowed[1]}` : `one of ${allowed.join(', ')}`
  problems.add(name, `must be ${words}, not '${raw}'`)
  return fallback
}

/** A path input, relative to the workspace (GITHUB_WORKSPACE) unless absolute. */
export const workspacePath = (inputs: InputSource, raw: string): string =>
  resolve(inputs.env.GITHUB_WORKSPACE ?? process.cwd(), raw)

/** A path as problems and annotations name it: relative to the workspace when inside it. */
export const relativeToWorkspace = (
  path: string,
  workspace = process.env.GITHUB_WORKSPACE ?? process.cwd()
): string => {
  const rel = relative(workspace, path)
  return rel && !rel.startsWith('..') ? rel.split(sep).join('/') : path
}

export function parseSeconds(
  name: string,
  raw: string,
  fallback: number,
  problems: Problems,
  { min = 0, allowZero = false } = {}
): number {
  if (raw === '') return fallback
  // plain decimals only: Number() would also take '0x10', '1e3' and ' '
  const n = /^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : NaN
  if (!Number.isFinite(n) || n < min || (!allowZero && n === 0)) {
    problems.add(
      name,
      `must be a number of seconds${allowZero ? ', 0 or more' : ' above 0'}, not '${raw}'`
    )
    return fallback
  }
  if (n > MAX_SECONDS) {
    problems.add(name, `must be at most ${MAX_SECONDS} seconds (24 days), not '${raw}'`)
    return fallback
  }
  return n
}

/** The longest time a Node timer can wait (2^31 - 1 ms); a longer one would fire at once. */
export const MAX_SECONDS = 2_147_483
