// The GitHub seam (src/core/github.ts) against the GitHub test server (helpers/github-server.ts),
// all real HTTP on loopback: the config read through Problems, the calls through GitHub.call, the
// failures as one-line GitHubErrors (permission, rate limit, network) that never hold the token;
// and the server itself: GitHub's deployment behaviour, pagination, and its check of every request
// and answer against GitHub's REST description (a violation fails the test unless explained).
import { GitHub, GitHubError, readGitHub, type GitHubConfig } from '../../src/core/github.js'
import { Problems, type InputSource } from '../../src/core/inputs.js'
import { ALL_PERMISSIONS, GitHubServer } from '../helpers/github-server.js'

const TOKEN = 'ghs-TOKEN-ALL-0123456789'
const READ_ONLY = 'ghs-TOKEN-READONLY-abcdef'
const SHA = 'a'.repeat(40)

let server: GitHubServer

beforeAll(async () => {
  server = await GitHubServer.start({
    tokens: { [TOKEN]: ALL_PERMISSIONS, [READ_ONLY]: { contents: 'read', issues: 'read' } }
  })
})
afterAll(() => server.close())

function inputsOf(
  inputs: Record<string, string>,
  env: NodeJS.ProcessEnv
): InputSource & {
  masked: string[]
} {
  const masked: string[] = []
  return { input: n => inputs[n] ?? '', env, mask: s => void masked.push(s), masked }
}

function configFor(token: string, apiUrl = server.apiUrl): GitHubConfig {
  const problems = new Problems()
  const config = readGitHub(
    inputsOf(
      { 'github-token': token },
      {
        GITHUB_API_URL: apiUrl,
        GITHUB_SERVER_URL: server.serverUrl,
        GITHUB_REPOSITORY: 'octo/data',
        GITHUB_SHA: SHA,
        GITHUB_RUN_ID: '42'
      }
    ),
    problems
  )
  expect(problems.list).toEqual([])
  return config
}

const DEPLOY = { operation: 'create the deployment', permission: 'deployments: write' }

describe('readGitHub', () => {
  it('reads the token (masked) and the runner variables into a typed config', () => {
    const inputs = inputsOf(
      { 'github-token': TOKEN },
      {
        GITHUB_API_URL: 'https://ghe.example.com/api/v3/',
        GITHUB_SERVER_URL: 'https://ghe.example.com',
        GITHUB_REPOSITORY: 'octo/data',
        GITHUB_SHA: SHA,
        GITHUB_RUN_ID: '42',
        GITHUB_RUN_ATTEMPT: '2'
      }
    )
    const problems = new Problems()
    const config = readGitHub(inputs, problems)
    expect(problems.list).toEqual([])
    expect(inputs.masked).toEqual([TOKEN])
    expect(config).toMatchObject({
      token: TOKEN,
      apiUrl: 'https://ghe.example.com/api/v3',
      repository: { owner: 'octo', repo: 'data' },
      sha: SHA,
      runUrl: 'https://ghe.example.com/octo/data/actions/runs/42/attempts/2'
    })
  })

  it('refuses a token with a line break and malformed runner variables, naming each, never the token', () => {
    const problems = new Problems()
    const config = readGitHub(
      inputsOf(
        { 'github-token': `${TOKEN}\n` + 'x' },
        {
          GITHUB_API_URL: 'ftp://u:secret@host',
          GITHUB_REPOSITORY: 'not a repository',
          HTTPS_PROXY: 'not a proxy'
        }
      ),
      problems
    )
    expect(config.token).toBe('')
    expect(problems.list).toEqual([
      'github-token holds a line break or another control character: copy the token into the secret again, without them',
      "GITHUB_API_URL must be an http(s) URL, not 'ftp://***@host'",
      "GITHUB_REPOSITORY must be owner/repository, not 'not a repository'",
      "HTTPS_PROXY is not a valid proxy URL: 'not a proxy' (expected e.g. http://proxy.example.com:3128)"
    ])
    expect(problems.list.join(' ')).not.toContain(TOKEN)
  })
})

describe('GitHub client and test server', () => {
  afterEach(() => server.assertClean())

  it('records a deployment and statuses; a later success marks the earlier one inactive', async () => {
    const gh = new GitHub(configFor(TOKEN))
    const create = (environment: string) =>
      gh.call(DEPLOY, o =>
        o.rest.repos.createDeployment({
          ...gh.repo,
          ref: SHA,
          environment,
          auto_merge: false,
          required_contexts: [],
          payload: { job: 'j' }
        })
      )
    const status = (id: number, state: 'success' | 'in_progress') =>
      gh.call(DEPLOY, o =>
        o.rest.repos.createDeploymentStatus({ ...gh.repo, deployment_id: id, state })
      )
    const first = await create('vdk/team/j')
    expect(first.status).toBe(201)
    const firstId = (first.data as { id: number }).id
    await status(firstId, 'success')
    const other = (await create('vdk/team/other')).data as { id: number }
    await status(other.id, 'success')
    const second = (await create('vdk/team/j')).data as { id: number }
    await status(second.id, 'in_progress')
    // in_progress does not inactivate; success does, only in the same environment
    const statesOf = async (id: number) =>
      (
        await gh.call(DEPLOY, o =>
          o.rest.repos.listDeploymentStatuses({ ...gh.repo, deployment_id: id })
        )
      ).data.map(s => s.state)
    expect(await statesOf(firstId)).toEqual(['success'])
    await status(second.id, 'success')
    expect(await statesOf(firstId)).toEqual(['inactive', 'success'])
    expect(await statesOf(other.id)).toEqual(['success'])
    expect(await statesOf(second.id)).toEqual(['success', 'in_progress'])
  })

  it('refuses a deployment while commit checks are pending unless required_contexts is []', async () => {
    const gh = new GitHub(configFor(TOKEN))
    const sha = 'b'.repeat(40)
    server.setCommitStatus(sha, 'ci/build', 'pending')
    const attempt = (required?: string[]) =>
      gh.call(DEPLOY, o =>
        o.rest.repos.createDeployment({
          ...gh.repo,
          ref: sha,
          auto_merge: false,
          ...(required ? { required_contexts: required } : {})
        })
      )
    await expect(attempt()).rejects.toMatchObject({ kind: 'http', status: 409 })
    expect((await attempt([])).status).toBe(201)
    expect(server.violations.map(v => v.explainedBy)).toContain('conflict-body-409')
  })

  it('says which permission a 403 lacks, in one line without the token', async () => {
    const gh = new GitHub(configFor(READ_ONLY))
    const error = (await gh
      .call(DEPLOY, o => o.rest.repos.createDeployment({ ...gh.repo, ref: SHA }))
      .catch((e: unknown) => e)) as GitHubError
    expect(error).toBeInstanceOf(GitHubError)
    expect(error.kind).toBe('permission')
    expect(error.permission).toBe('deployments: write')
    expect(error.message).toBe(
      'GitHub: could not create the deployment (HTTP 403: Resource not accessible by integration): the token lacks the permission deployments: write; grant it in the workflow with "permissions: deployments: write"'
    )
    expect(error.message).not.toContain(READ_ONLY)
    expect(server.violations.at(-1)?.explainedBy).toBe('no-permission-403')
  })

  it('pages issue comments through Link headers, and updates one in place', async () => {
    const gh = new GitHub(configFor(TOKEN))
    const call = { operation: 'comment', permission: 'pull-requests: write' }
    for (let i = 0; i < 35; i++)
      await gh.call(call, o =>
        o.rest.issues.createComment({ ...gh.repo, issue_number: 7, body: `c${i}` })
      )
    const all = await gh.call(call, o =>
      o.paginate(o.rest.issues.listComments, { ...gh.repo, issue_number: 7, per_page: 10 })
    )
    expect(all.map(c => c.body)).toEqual(Array.from({ length: 35 }, (_, i) => `c${i}`))
    const pages = server.journal.filter(e => e.operationId === 'issues/list-comments')
    expect(pages.map(e => new URLSearchParams(e.query).get('page') ?? '1')).toEqual([
      '1',
      '2',
      '3',
      '4'
    ])
    await gh.call(call, o =>
      o.rest.issues.updateComment({ ...gh.repo, comment_id: all[0].id, body: 'edited' })
    )
    expect(server.state.comments.find(c => c.id === all[0].id)?.body).toBe('edited')
  })

  it('compares with renames, the files on the first page only, as GitHub documents', async () => {
    const gh = new GitHub(configFor(TOKEN))
    server.setComparison(
      'octo/data',
      `${'c'.repeat(40)}...${SHA}`,
      [
        { filename: 'jobs/a/x.py', status: 'modified' },
        { filename: 'jobs/b/y.py', status: 'renamed', previous_filename: 'jobs/old/y.py' }
      ],
      3
    )
    const call = { operation: 'compare', permission: 'contents: read' }
    const first = await gh.call(call, o =>
      o.rest.repos.compareCommitsWithBasehead({
        ...gh.repo,
        basehead: `${'c'.repeat(40)}...${SHA}`,
        per_page: 2
      })
    )
    expect(first.data.files?.map(f => [f.filename, f.previous_filename])).toEqual([
      ['jobs/a/x.py', undefined],
      ['jobs/b/y.py', 'jobs/old/y.py']
    ])
    expect(first.headers.link).toContain('rel="next"')
    const second = await gh.call(call, o =>
      o.rest.repos.compareCommitsWithBasehead({
        ...gh.repo,
        basehead: `${'c'.repeat(40)}...${SHA}`,
        per_page: 2,
        page: 2
      })
    )
    expect(second.data.commits).toHaveLength(1)
    expect(second.data.files).toEqual([])
  })

  it('serves a GitHub Enterprise Server base path (/api/v3) through GITHUB_API_URL', async () => {
    const ghes = await GitHubServer.start({
      basePath: '/api/v3',
      tokens: { [TOKEN]: ALL_PERMISSIONS }
    })
    try {
      const gh = new GitHub(configFor(TOKEN, ghes.apiUrl))
      const list = await gh.call(DEPLOY, o => o.rest.repos.listDeployments({ ...gh.repo }))
      expect(list.data).toEqual([])
      expect(ghes.journal.map(e => e.path)).toEqual(['/repos/octo/data/deployments'])
      ghes.assertClean()
    } finally {
      await ghes.close()
    }
  })

  it('says a rate limit and a network fault in one line each', async () => {
    const gh = new GitHub(configFor(TOKEN))
    server.inject('repos/list-deployments', {
      status: 403,
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1700000000' },
      json: { message: 'API rate limit exceeded for installation ID 1.' }
    })
    await expect(
      gh.call(DEPLOY, o => o.rest.repos.listDeployments({ ...gh.repo }))
    ).rejects.toMatchObject({
      kind: 'rate-limit',
      message:
        "GitHub: could not create the deployment: GitHub's rate limit is reached (HTTP 403) (the limit resets at 2023-11-14T22:13:20.000Z)"
    })
    const closed = await GitHubServer.start()
    const url = closed.apiUrl
    await closed.close()
    const offline = new GitHub(configFor(TOKEN, url))
    const error = (await offline
      .call(DEPLOY, o => o.rest.repos.listDeployments({ ...offline.repo }))
      .catch((e: unknown) => e)) as GitHubError
    expect(error.kind).toBe('network')
    expect(error.message).toMatch(
      /^GitHub: could not create the deployment: no answer from http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED/
    )
  })
})

describe("the test server checks requests against GitHub's description", () => {
  it('collects a request that breaks it as unexplained, and answers 422', async () => {
    const own = await GitHubServer.start({ tokens: { [TOKEN]: ALL_PERMISSIONS } })
    try {
      const res = await fetch(`${own.apiUrl}/repos/octo/data/deployments`, {
        method: 'POST',
        headers: { authorization: `token ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ref: SHA, auto_merge: 'no' })
      })
      expect(res.status).toBe(422)
      expect(own.unexplained().map(v => v.violation)).toEqual([
        'request body: /auto_merge must be boolean'
      ])
      expect(() => own.assertClean()).toThrow(/1 unexplained violation/)
      const unknown = await fetch(`${own.apiUrl}/repos/octo/data/nothing`, {
        headers: { authorization: `token ${TOKEN}` }
      })
      expect(unknown.status).toBe(404)
      expect(own.unexplained().at(-1)?.violation).toMatch(/^no operation:/)
    } finally {
      await own.close()
    }
  })
})
