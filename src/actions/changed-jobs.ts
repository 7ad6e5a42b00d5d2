// changed-jobs: the data job folders (folders holding a config.ini) under jobs-root that a push or
// a pull request changed, by comparing, job by job, the files of the event's base and head commits
// with git in the checked-out repository; as JSON ready for `strategy.matrix`, and the jobs whose
// name the head no longer has. Talks to no Control Service. When the checkout is too shallow for
// git to reach the base, and github-token is set, the changed files come from GitHub's compare API
// instead. (git itself: core/git.ts; the commits compared: core/comparerange.ts; the job folders
// of a commit: core/jobtrees.ts; the compare API and the base rebuilt from it: core/comparefiles.ts,
// core/basefiles.ts.)
import { realpathSync, statSync } from 'node:fs'
import { basename, isAbsolute, relative, resolve, sep } from 'node:path'
import type { InputSource, Problems } from '../core/inputs.js'
import { ActionFailure, InputError } from '../core/errors.js'
import { eventRefs, type EventRefs } from '../core/event.js'
import { commitOf, repositoryProblem, repositoryTop } from '../core/git.js'
import { jobTreesByGitHub } from '../core/comparefiles.js'
import {
  compareRange,
  isShallowRange,
  short,
  TOO_SHALLOW,
  TOO_SHALLOW_NO_TOKEN,
  type GitRange,
  type ShallowRange
} from '../core/comparerange.js'
import { userAgent } from '../core/connection.js'
import { githubClient, readGitHub, type GitHubConfig } from '../core/github.js'
import { jobTrees, sameFiles, teamOf, type JobTree } from '../core/jobtrees.js'
import type { ActionDefinition, ActionContext, Outcome } from './runtime.js'

export interface ChangedJobsConfig {
  /** The workspace (GITHUB_WORKSPACE) as given, for messages. */
  rawWorkspace: string
  /** The workspace, real path: the git working tree, or a folder inside it. */
  workspace: string
  /** jobs-root as given and its real path; none for the workspace itself. */
  jobsRoot?: { input: string; path: string }
  /** Where base and head come from, for the log. */
  source: string
  /** The base commit as given (the merge base is taken later for pull requests). */
  base?: string
  head: string
  /**
   * Which of base and head are inputs: a ref that names no commit is then a bad input; one named
   * by the event that is missing means a checkout too shallow.
   */
  given: { base: boolean; head: boolean }
  /** Compare the merge base of base and head, not base itself (pull requests). */
  mergeBase: boolean
  /** A push that created a branch: compare against head's first parent. */
  newBranch: boolean
  /**
   * github-token and the runner's variables: with a token, GitHub's compare API lists the changed
   * files when the checkout is too shallow for git.
   */
  github: GitHubConfig
}

export interface ChangedJob {
  path: string
  name: string
  team: string
}

export interface DeletedJob {
  path: string
  name: string
}

/** jobs-root as given and its real path (undefined for none, or for a problem). */
function jobsRootInput(
  inputs: InputSource,
  workspace: string,
  problems: Problems
): ChangedJobsConfig['jobsRoot'] {
  const input = inputs.input('jobs-root')
  if (!input) return undefined
  const abs = isAbsolute(input) ? input : resolve(workspace, input)
  try {
    if (statSync(abs).isDirectory()) return { input, path: realpathSync(abs) }
    problems.add(`jobs-root '${input}' is not a folder`)
  } catch {
    problems.add(`jobs-root '${input}' does not exist`)
  }
  return undefined
}

/** Reads the inputs and the event; whether the refs name commits is for run(), which has git. */
function readConfig(inputs: InputSource, problems: Problems): ChangedJobsConfig {
  const github = readGitHub(inputs, problems)
  const rawWorkspace = inputs.env.GITHUB_WORKSPACE || process.cwd()
  let workspace = resolve(rawWorkspace)
  const rawBase = inputs.input('base')
  const rawHead = inputs.input('head')
  const given = { base: rawBase !== '', head: rawHead !== '' }
  try {
    workspace = realpathSync(workspace)
  } catch (e) {
    // the workspace is said alone, as when git finds no repository there
    problems.add(repositoryProblem(rawWorkspace, workspace, e))
    return {
      rawWorkspace,
      workspace,
      source: '',
      head: '',
      given,
      mergeBase: false,
      newBranch: false,
      github
    }
  }
  const jobsRoot = jobsRootInput(inputs, workspace, problems)
  let refs: EventRefs | undefined
  let source: string
  if (rawBase) {
    refs = { base: rawBase, head: rawHead || 'HEAD', mergeBase: false, newBranch: false }
    source = 'the base and head inputs'
  } else {
    refs = eventRefs(inputs, problems)
    source = `the ${inputs.env.GITHUB_EVENT_NAME} event`
    if (refs && rawHead) {
      refs.head = rawHead
      source += ' (head from the head input)'
    }
  }
  return {
    rawWorkspace,
    workspace,
    jobsRoot,
    source,
    base: refs?.base,
    head: refs?.head ?? 'HEAD',
    given,
    mergeBase: refs?.mergeBase ?? false,
    newBranch: refs?.newBranch ?? false,
    github
  }
}

/** Where to compare: the repository's top, jobs-root from it, and the refs given as inputs resolved. */
interface Place {
  top: string
  /** jobs-root relative to `top`, '/' separators, '' for the top itself. */
  root: string
  base?: string
  head: string
}

/**
 * The repository and the refs the inputs name, checked with git; a problem is a bad input (one
 * line, exit code 1, no output), as if config() had found it. changed-jobs sends no request, so
 * checking these here, once git is asked anyway, still refuses them before any request.
 */
async function locate(config: ChangedJobsConfig): Promise<Place> {
  let top: string
  try {
    top = await repositoryTop(config.workspace)
  } catch (e) {
    throw new InputError(repositoryProblem(config.rawWorkspace, config.workspace, e))
  }
  // said together in one line, as config() says its problems (the runtime's Problems.check)
  const problems: string[] = []
  const fromTop = (path: string): string => relative(top, path).split(sep).join('/')
  let root = fromTop(config.workspace)
  if (config.jobsRoot) {
    const rel = relative(top, config.jobsRoot.path)
    if (rel.startsWith('..') || isAbsolute(rel))
      problems.push(`jobs-root '${config.jobsRoot.input}' is outside the git repository at ${top}`)
    else root = fromTop(config.jobsRoot.path)
  }
  const check = async (what: string, rev: string): Promise<string | undefined> => {
    const sha = await commitOf(top, rev)
    if (sha === undefined)
      problems.push(
        /^[0-9a-f]{7,64}$/i.test(rev)
          ? `${what} '${rev}' is not a commit in this checkout (a wrong commit, or a checkout too shallow: ${TOO_SHALLOW})`
          : `${what} '${rev}' is not a commit`
      )
    return sha
  }
  const base =
    config.given.base && config.base !== undefined ? await check('base', config.base) : config.base
  const head = config.given.head ? ((await check('head', config.head)) ?? config.head) : config.head
  if (problems.length) throw new InputError(problems.join('; '))
  return { top, root, base, head }
}

/** The job folders of the two commits compared, and which source said what changed. */
interface Trees {
  compared: GitRange
  atHead: Map<string, JobTree>
  atBase: Map<string, JobTree>
  /** The source of the changed files, for the log. */
  by: string
}

/** Both commits are in the checkout: git reads their trees. */
async function treesFromGit(place: Place, range: GitRange): Promise<Trees> {
  return {
    compared: range,
    atHead: await jobTrees(place.top, range.head, place.root),
    atBase: await jobTrees(place.top, range.base, place.root),
    by: 'with git'
  }
}

/**
 * The base is not in the checkout: the head's tree is, and GitHub's compare API lists what
 * changed from the base; the base's job folders are rebuilt from both (core/basefiles.ts). Without
 * a token the old failure stays, with both ways out.
 */
async function treesFromGitHub(
  config: ChangedJobsConfig,
  place: Place,
  range: ShallowRange,
  ctx: ActionContext
): Promise<Trees> {
  const github = config.github.repository
    ? githubClient(config.github, {
        env: ctx.env,
        signal: ctx.signal,
        userAgent: userAgent('changed-jobs')
      })
    : undefined
  if (!github) throw new ActionFailure(`${range.why}; ${TOO_SHALLOW_NO_TOKEN}`)
  ctx.info(`${range.why}: asking GitHub's compare API for the changed files`)
  const { files, pages, ...trees } = await jobTreesByGitHub(github, place.top, place.root, range)
  return {
    ...trees,
    by: `with the GitHub compare API (${files} changed file(s), ${pages} page(s))`
  }
}

/** How the job folders of both commits are named in the outputs. */
interface Naming {
  /** Each job folder's path as text; a folder whose path is not UTF-8 is not in it. */
  text: Map<string, string>
  /** The job's name: its folder's name. */
  nameOf: (jobDir: string) => string
  /** The folder's path from the workspace, '/' separators. */
  toWorkspace: (jobDir: string) => string
}

function naming(
  config: ChangedJobsConfig,
  top: string,
  jobDirs: Iterable<string>,
  ctx: ActionContext
): Naming {
  // paths as text: a folder whose path is not UTF-8 cannot be named in the outputs
  const text = new Map<string, string>()
  for (const jobDir of jobDirs) {
    try {
      text.set(
        jobDir,
        new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(jobDir, 'latin1'))
      )
    } catch {
      const shown = Buffer.from(jobDir, 'latin1').toString('utf8')
      ctx.warning(`the job folder '${shown}' is left out: its path is not UTF-8 text`)
    }
  }
  // the job name VDK uses is the folder's name (the CLI's deploy takes
  // os.path.basename(job_path): projects/vdk-control-cli/src/vdk/internal/control/
  // command_groups/job/deploy_cli.py), and the Control Service knows a job by its name alone,
  // whatever its team (`@Id private String name` in projects/control-service/projects/
  // pipelines_control_service/src/main/java/com/vmware/taurus/service/model/DataJob.java)
  return {
    text,
    nameOf: jobDir => basename(resolve(top, text.get(jobDir) ?? '')),
    toWorkspace: jobDir =>
      relative(config.workspace, resolve(top, text.get(jobDir) ?? ''))
        .split(sep)
        .join('/') || '.'
  }
}

/** The job folders that changed and those deleted, between two commits' job folders. */
function compare(
  atBase: Map<string, JobTree>,
  atHead: Map<string, JobTree>,
  names: Naming,
  ctx: ActionContext
): { changed: string[]; deleted: string[]; headByName: Map<string, string[]> } {
  const { text, nameOf, toWorkspace } = names
  // a job is a folder with a config.ini, and what it holds is the files no nested job owns; it
  // changed when those differ between base and head (a moved folder is new where it is now)
  const changed = new Set<string>()
  for (const [jobDir, job] of atHead) {
    const before = atBase.get(jobDir)
    if (!before || !sameFiles(before, job)) changed.add(jobDir)
  }
  const headByName = new Map<string, string[]>()
  for (const jobDir of atHead.keys()) {
    if (!text.has(jobDir)) continue
    const folders = headByName.get(nameOf(jobDir)) ?? []
    headByName.set(nameOf(jobDir), [...folders, jobDir])
  }
  // a folder gone from the head is a deleted job only when no folder at head has its name: a
  // job moved (git's rename, or a delete and an add) is deployed from where it is now, and the
  // folders left with its name now hold the job: they are listed as changed
  const deleted: string[] = []
  for (const jobDir of atBase.keys()) {
    if (atHead.has(jobDir) || !text.has(jobDir)) continue
    const still = headByName.get(nameOf(jobDir))
    if (!still) {
      deleted.push(jobDir)
      continue
    }
    for (const other of still) changed.add(other)
    ctx.info(
      `${toWorkspace(jobDir)} is gone, but a job folder named ${nameOf(jobDir)} is at ${still.map(toWorkspace).join(', ')}: not deleted`
    )
  }
  return {
    changed: [...changed].filter(d => text.has(d)).sort(),
    deleted: deleted.sort(),
    headByName
  }
}

/** The changed jobs (with their teams at head) and the deleted ones, one entry a name. */
async function listJobs(
  top: string,
  atHead: Map<string, JobTree>,
  found: ReturnType<typeof compare>,
  names: Naming,
  ctx: ActionContext
): Promise<{ jobs: ChangedJob[]; gone: DeletedJob[] }> {
  const { nameOf, toWorkspace } = names
  const jobs: ChangedJob[] = []
  const warned = new Set<string>()
  for (const jobDir of found.changed) {
    const name = nameOf(jobDir)
    const same = found.headByName.get(name) ?? []
    if (same.length > 1 && !warned.has(name)) {
      warned.add(name)
      ctx.warning(
        `the job folders ${same.map(toWorkspace).join(', ')} are all named ${name}: on the Control Service they are one data job, whichever is deployed last`
      )
    }
    jobs.push({ path: toWorkspace(jobDir), name, team: await teamOf(top, atHead.get(jobDir)) })
  }
  // one entry a name: a clean-up step deletes a job once
  const gone: DeletedJob[] = []
  for (const jobDir of found.deleted)
    if (!gone.some(g => g.name === nameOf(jobDir)))
      gone.push({ path: toWorkspace(jobDir), name: nameOf(jobDir) })
  return { jobs, gone }
}

function outcome(jobs: ChangedJob[], gone: DeletedJob[], compared: GitRange): Outcome {
  return {
    outputs: { jobs: JSON.stringify(jobs), deleted: JSON.stringify(gone), count: jobs.length },
    summary: {
      heading: `Changed data jobs: ${compared.base ? short(compared.base) : 'nothing'}..${short(compared.head)}`,
      columns: ['job', 'path', 'team', 'change'],
      rows: [
        ...jobs.map(j => [j.name, j.path, j.team, 'changed']),
        ...gone.map(j => [j.name, j.path, '', 'deleted'])
      ]
    }
  }
}

export const changedJobs: ActionDefinition<ChangedJobsConfig> = {
  name: 'changed-jobs',

  config: (inputs, problems) => Promise.resolve(readConfig(inputs, problems)),

  // no `connection`: changed-jobs talks to no Control Service, only to git

  async run(config, ctx) {
    const place = await locate(config)
    const range = await compareRange({
      ...place,
      mergeBase: config.mergeBase,
      newBranch: config.newBranch
    })
    const { compared, atHead, atBase, by } = isShallowRange(range)
      ? await treesFromGitHub(config, place, range, ctx)
      : await treesFromGit(place, range)
    ctx.info(`comparing ${compared.described}, from ${config.source}, ${by}`)
    const names = naming(config, place.top, new Set([...atHead.keys(), ...atBase.keys()]), ctx)
    const found = compare(atBase, atHead, names, ctx)
    const { jobs, gone } = await listJobs(place.top, atHead, found, names, ctx)
    ctx.info(
      jobs.length
        ? `${jobs.length} changed data job(s): ${jobs.map(j => j.path).join(', ')}`
        : 'no data job changed'
    )
    if (gone.length)
      ctx.info(`${gone.length} deleted data job(s): ${gone.map(j => j.path).join(', ')}`)
    return outcome(jobs, gone, compared)
  }
}
