// changed-jobs in process on a shallow clone, with the GitHub test server for the compare API:
// the pages it asks for, the 300-file cap refused, a token without contents: read, a push (whose
// base must be the merge base GitHub compares from, not after a force push) and a push that made a
// branch (its head's first parent, named by the commit though the clone does not hold it).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChangedFile } from '../helpers/github-routes/state.js'
import { ALL_PERMISSIONS, GitHubServer } from '../helpers/github-server.js'
import { asDiffEntries, diffEntries } from '../helpers/gitdiff.js'
import { commitFiles, git } from '../helpers/gitrepo.js'
import { runInProcess, type InProcessRun } from '../helpers/inprocess.js'

const REPOSITORY = 'acme/data-jobs'
let tmp: string
let repo: string
let shallow: string
let gh: GitHubServer
const c: Record<string, string> = {}

const ini = (team: string): string => `[owner]\nteam = ${team}\n`

/** The env of an event whose payload is `payload`, written under the test's folder. */
function eventEnv(name: string, payload: object): Record<string, string> {
  const file = join(tmp, `${name}-${Object.keys(payload).join('-')}-${Math.random()}.json`)
  writeFileSync(file, JSON.stringify(payload))
  return { GITHUB_EVENT_NAME: name, GITHUB_EVENT_PATH: file }
}

const run = (
  event: Record<string, string>,
  token = 'ghs-all',
  workspace = shallow
): Promise<InProcessRun> =>
  runInProcess(
    'changed-jobs',
    { 'github-token': token },
    { workspace, env: { GITHUB_API_URL: gh.apiUrl, GITHUB_SERVER_URL: gh.serverUrl, ...event } }
  )

/** The comparison of two commits of the history as GitHub lists it (git's diff, renames found). */
const compareAs = (base: string, head: string, commits = 1): void =>
  gh.setComparison(
    REPOSITORY,
    `${base}...${head}`,
    asDiffEntries(diffEntries(repo, base, head)) as ChangedFile[],
    commits
  )

/**
 * GitHub's answer to `base...head` when `base` is an ancestor of head: its merge base is `base`
 * (the test server names a merge base of its own). The server's own answer, with that changed,
 * given to the next request.
 */
async function answerWithMergeBase(base: string, head: string): Promise<void> {
  const url = `${gh.apiUrl}/repos/${REPOSITORY}/compare/${base}...${head}?per_page=100&page=1`
  const res = await fetch(url, { headers: { authorization: 'token ghs-all' } })
  const json = (await res.json()) as { merge_base_commit: { sha: string } }
  json.merge_base_commit.sha = base
  const link = res.headers.get('link')
  gh.inject('repos/compare-commits-with-basehead', {
    status: 200,
    json,
    headers: link ? { link } : {}
  })
}

const comparisons = (): string[] =>
  gh.journal.filter(e => e.operationId === 'repos/compare-commits-with-basehead').map(e => e.query)

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'inprocess-compare-'))
  repo = join(tmp, 'repo')
  mkdirSync(repo)
  git(repo, 'init', '-q', '-b', 'main')
  c.initial = commitFiles(
    repo,
    {
      'jobs/alpha-job/config.ini': ini('a'),
      'jobs/alpha-job/a.py': '1\n',
      'jobs/beta-job/config.ini': ini('b'),
      'jobs/beta-job/b.sql': 'select 1\n'
    },
    'initial'
  )
  // a branch pushed and then replaced by a force push
  git(repo, 'checkout', '-q', '-b', 'abandoned')
  c.abandoned = commitFiles(repo, { 'jobs/beta-job/b.sql': 'select 2\n' }, 'abandoned')
  git(repo, 'checkout', '-q', 'main')
  c.alpha = commitFiles(repo, { 'jobs/alpha-job/a.py': '2\n' }, 'alpha')
  git(repo, 'mv', 'jobs/beta-job', 'jobs/beta-moved')
  git(repo, 'commit', '-q', '-m', 'move beta')
  c.head = git(repo, 'rev-parse', 'HEAD')
  shallow = join(tmp, 'shallow')
  git(tmp, 'clone', '-q', '--depth', '1', '--branch', 'main', `file://${repo}`, shallow)
  gh = await GitHubServer.start({ tokens: { 'ghs-all': ALL_PERMISSIONS, 'ghs-none': {} } })
})

afterAll(async () => {
  await gh?.close()
  rmSync(tmp, { recursive: true, force: true })
})

afterEach(() => gh.assertClean())

const pullRequest = (base: string, head: string): Record<string, string> =>
  eventEnv('pull_request', { pull_request: { base: { sha: base }, head: { sha: head } } })

describe('changed-jobs through the compare API', () => {
  it('asks for the pages GitHub links, and stops at the first after page 1 without files', async () => {
    compareAs(c.initial, c.head, 250)
    const before = comparisons().length
    const r = await run(pullRequest(c.initial, c.head))
    expect(r.failure).toBeUndefined()
    expect(JSON.parse(r.outputs.jobs)).toEqual([
      { path: 'jobs/alpha-job', name: 'alpha-job', team: 'a' },
      { path: 'jobs/beta-moved', name: 'beta-moved', team: 'b' }
    ])
    expect(JSON.parse(r.outputs.deleted)).toEqual([{ path: 'jobs/beta-job', name: 'beta-job' }])
    // 250 commits are three pages of 100; the files are all on the first, the second has none
    expect(comparisons().slice(before)).toEqual(['per_page=100&page=1', 'per_page=100&page=2'])
    expect(r.log.join('\n')).toMatch(/with the GitHub compare API \(\d+ changed file\(s\), 2 page/)
  })

  it('asks once when the answer is one page', async () => {
    compareAs(c.alpha, c.head)
    const before = comparisons().length
    // c.alpha is not in the depth-1 clone either
    const r = await run(pullRequest(c.alpha, c.head))
    expect(r.failure).toBeUndefined()
    expect(comparisons().slice(before)).toEqual(['per_page=100&page=1'])
    expect(JSON.parse(r.outputs.jobs)).toEqual([
      { path: 'jobs/beta-moved', name: 'beta-moved', team: 'b' }
    ])
  })

  it('refuses a list of files at the cap (300), which may be cut, with the advice of a full clone', async () => {
    const files = (n: number): ChangedFile[] =>
      Array.from({ length: n }, (_, i) => ({
        filename: `jobs/alpha-job/f${i}.py`,
        status: 'removed'
      }))
    gh.setComparison(REPOSITORY, `${c.abandoned}...${c.head}`, files(300))
    const cut = await run(pullRequest(c.abandoned, c.head))
    expect(cut.reason).toMatch(
      /^GitHub's compare API lists at most 300 changed files, and it listed 300 for .*: the list may be cut, so no job is listed from it; check out with actions\/checkout and fetch-depth: 0/
    )
    expect(cut.outputs).toEqual({})
    // one file fewer is a whole list
    gh.setComparison(REPOSITORY, `${c.abandoned}...${c.head}`, files(299))
    const whole = await run(pullRequest(c.abandoned, c.head))
    expect(whole.failure).toBeUndefined()
    // the job those files were removed from, and no other: the list is all that changed
    expect(JSON.parse(whole.outputs.jobs)).toEqual([
      { path: 'jobs/alpha-job', name: 'alpha-job', team: 'a' }
    ])
  })

  it('says which permission a token lacks, and the other fix', async () => {
    compareAs(c.initial, c.head)
    const r = await run(pullRequest(c.initial, c.head), 'ghs-none')
    expect(r.reason).toMatch(
      /^GitHub: could not list the changed files with the compare API \(HTTP 40[34].*contents: read.*fetch-depth: 0/
    )
    expect(r.outputs).toEqual({})
  })

  it('takes a push from its before commit, which GitHub compares from when it is an ancestor', async () => {
    compareAs(c.initial, c.head)
    await answerWithMergeBase(c.initial, c.head)
    const r = await run(eventEnv('push', { before: c.initial, after: c.head }))
    expect(r.failure).toBeUndefined()
    expect(r.log).toContain(
      `comparing ${c.initial.slice(0, 12)} to ${c.head.slice(0, 12)}, from the push event, with the GitHub compare API (${diffEntries(repo, c.initial, c.head).length} changed file(s), 1 page(s))`
    )
    expect(JSON.parse(r.outputs.deleted)).toEqual([{ path: 'jobs/beta-job', name: 'beta-job' }])
  })

  it('refuses a push whose before commit is not the merge base (a force push)', async () => {
    // the server answers a merge base of its own: not the before commit
    compareAs(c.abandoned, c.head)
    const r = await run(eventEnv('push', { before: c.abandoned, after: c.head }))
    expect(r.reason).toMatch(
      /is not in this checkout .*, and GitHub compares from the merge base [0-9a-f]{12} of the base and the head, not from the base .*fetch-depth: 0/
    )
    expect(r.outputs).toEqual({})
  })

  it('compares a new branch with the first parent its head names, not in the clone', async () => {
    compareAs(c.alpha, c.head)
    await answerWithMergeBase(c.alpha, c.head)
    const r = await run(eventEnv('push', { before: '0'.repeat(40), after: c.head }))
    expect(r.failure).toBeUndefined()
    expect(r.log.join('\n')).toContain(
      `the first parent ${c.alpha.slice(0, 12)} of the head commit ${c.head.slice(0, 12)} is not in this checkout`
    )
    expect(JSON.parse(r.outputs.jobs)).toEqual([
      { path: 'jobs/beta-moved', name: 'beta-moved', team: 'b' }
    ])
  })

  it('needs no GitHub on a full clone: git compares', async () => {
    const before = gh.journal.length
    const r = await run(pullRequest(c.initial, c.head), 'ghs-all', repo)
    expect(r.failure).toBeUndefined()
    expect(r.log.join('\n')).toMatch(/comparing .*, with git$/m)
    expect(gh.journal.length).toBe(before)
  })
})
