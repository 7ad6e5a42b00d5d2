// The client behind an HTTP proxy, all real on loopback: the local Control Service, a forward
// proxy (../helpers/proxy.ts), and a client built the way the actions build it (readConnection →
// connect) with the proxy settings in the env given to `connect`. The client never proxies a
// loopback host, so the service is named `vdk.test` where a request should go through the proxy
// (the proxy resolves that name to 127.0.0.1; nothing else does). A proxy variable that is not a
// proxy URL is an input problem, reported in one line without its credentials.
//
// undici's ProxyAgent (under EnvHttpProxyAgent) tunnels every request with CONNECT, plain http
// included, so the proxy records one `CONNECT host:port` per connection rather than each request;
// the emulator's journal shows the requests themselves.
import { ProxyAgent, type Dispatcher } from 'undici'
import { jobRef, type ControlServiceClient } from '../../src/core/client.js'
import { connect, readConnection } from '../../src/core/connection.js'
import { Problems } from '../../src/core/inputs.js'
import { ControlServiceError, InputError } from '../../src/core/errors.js'
import { isLoopbackHost, Transport, type TransportOptions } from '../../src/core/http.js'
import { startEmulator, type Emulator } from '../../src/emulator/server.js'
import { jobFiles, zipOf } from '../helpers/fixtures.js'
import { PROXIED_HOST, startProxy, type Proxy } from '../helpers/proxy.js'

const TEAM = 'team'
/** Recognisable, so that a leak into a message is easy to see. */
const TOKEN = 'tok-PROXYTEST-9f8e7d6c5b4a'
const API_TOKEN = 'api-PROXYTEST-0a1b2c3d4e5f'
const noSleep = (): Promise<void> => Promise.resolve()

let emu: Emulator
let proxy: Proxy
let clients: ControlServiceClient[] = []
let dispatchers: Dispatcher[] = []
/** Index of the first journal entry of the current test. */
let mark = 0

beforeAll(async () => {
  emu = await startEmulator({
    port: 0,
    tokens: [TOKEN],
    apiTokens: [API_TOKEN],
    // the proxy tests address the service by a name only the test proxy resolves
    allowedHosts: [PROXIED_HOST]
  })
  proxy = await startProxy()
})

beforeEach(() => {
  mark = emu.journal.length
  proxy.requests.length = 0
  proxy.refuse(null)
})

afterEach(async () => {
  await Promise.all(clients.map(c => c.transport.close()))
  await Promise.all(dispatchers.map(d => d.close()))
  clients = []
  dispatchers = []
})

afterAll(async () => {
  await proxy?.close()
  await emu?.close()
})

/** The emulator by a name only the proxy resolves: reachable only through the proxy. */
const proxiedUrl = (): string => `http://${PROXIED_HOST}:${emu.port}`

/**
 * A client for the emulator, configured as an action is: inputs + env, through connect(); by
 * default for the emulator named vdk.test (only the proxy reaches it).
 */
function clientWith(
  env: NodeJS.ProcessEnv,
  transport?: Partial<TransportOptions>,
  masked: string[] = [],
  more: Record<string, string> = {}
): ControlServiceClient {
  const inputs: Record<string, string> = {
    'control-service-url': proxiedUrl(),
    'allow-insecure-http': 'true',
    'access-token': TOKEN,
    ...more
  }
  const problems = new Problems()
  const config = readConnection({ input: name => inputs[name] ?? '', env }, problems)
  problems.check()
  const client = connect(config, {
    mask: secret => masked.push(secret),
    action: 'test',
    env,
    transport
  })
  clients.push(client)
  return client
}

/** The requests the emulator received during this test, as `METHOD path status`. */
const journal = (): string[] =>
  emu.journal.slice(mark).map(e => `${e.method} ${e.path} ${String(e.status)}`)

const tunnelToEmulator = (): { method: string; url: string } => ({
  method: 'CONNECT',
  url: `${PROXIED_HOST}:${emu.port}`
})

/** Two calls: one that answers 200, one that answers 404 (accepted: the job does not exist). */
async function twoCalls(client: ControlServiceClient): Promise<void> {
  const info = await client.info(TEAM)
  expect(info.supported_python_versions).toContain('3.9')
  expect(await client.readJob(jobRef(TEAM, 'some-job'))).toBeUndefined()
}

const TWO_CALLS = [
  `GET /data-jobs/for-team/${TEAM}/info 200`,
  `GET /data-jobs/for-team/${TEAM}/jobs/some-job 404`
]

async function failure(call: Promise<unknown>): Promise<ControlServiceError> {
  const e = await call.then(
    () => undefined,
    (err: unknown) => err
  )
  expect(e).toBeInstanceOf(ControlServiceError)
  return e as ControlServiceError
}

describe('a client with HTTP_PROXY in its env', () => {
  test('sends its calls through the proxy', async () => {
    const masked: string[] = []
    await twoCalls(clientWith({ HTTP_PROXY: proxy.url }, undefined, masked))
    expect(proxy.requests.length).toBeGreaterThanOrEqual(1)
    for (const r of proxy.requests) expect(r).toEqual(tunnelToEmulator())
    expect(journal()).toEqual(TWO_CALLS)
    expect(masked).toEqual([TOKEN])
  })

  test('lowercase http_proxy works too', async () => {
    await twoCalls(clientWith({ http_proxy: proxy.url }))
    expect(proxy.requests.length).toBeGreaterThanOrEqual(1)
    for (const r of proxy.requests) expect(r).toEqual(tunnelToEmulator())
    expect(journal()).toEqual(TWO_CALLS)
  })

  test('without any proxy setting the calls go straight to the service', async () => {
    await twoCalls(clientWith({}, undefined, [], { 'control-service-url': emu.url }))
    expect(proxy.requests).toEqual([])
    expect(journal()).toEqual(TWO_CALLS)
  })

  /**
   * The failure of a call that went straight to vdk.test: only the proxy resolves that name, so
   * not found means not proxied.
   */
  async function wentStraight(client: ControlServiceClient): Promise<void> {
    const e = await failure(client.info(TEAM))
    expect(e.kind).toBe('network')
    // not found, or the resolver could not be asked (a runner without DNS): either way not proxied
    expect(e.message).toMatch(new RegExp(`(ENOTFOUND|EAI_AGAIN), getaddrinfo \\w+ ${PROXIED_HOST}`))
  }

  test.each<[string, () => NodeJS.ProcessEnv]>([
    ['NO_PROXY=vdk.test', () => ({ NO_PROXY: PROXIED_HOST })],
    ['NO_PROXY=*', () => ({ NO_PROXY: '*' })],
    ['no_proxy=vdk.test', () => ({ no_proxy: PROXIED_HOST })],
    ['NO_PROXY=vdk.test:<the port>', () => ({ NO_PROXY: `${PROXIED_HOST}:${emu.port}` })],
    ['NO_PROXY in a list', () => ({ NO_PROXY: `example.com, ${PROXIED_HOST} ,.internal` })],
    ['NO_PROXY=.test (a suffix)', () => ({ NO_PROXY: '.test' })]
  ])('%s: the proxy sees nothing (the calls go straight)', async (_what, noProxy) => {
    await wentStraight(clientWith({ HTTP_PROXY: proxy.url, ...noProxy() }, { retries: 0 }))
    expect(proxy.requests).toEqual([])
    expect(journal()).toEqual([])
  })

  test('a NO_PROXY that does not match (other host, other port) still proxies', async () => {
    await twoCalls(
      clientWith({ HTTP_PROXY: proxy.url, NO_PROXY: `example.com,${PROXIED_HOST}:1,127.0.0.1` })
    )
    expect(proxy.requests.length).toBeGreaterThanOrEqual(1)
    for (const r of proxy.requests) expect(r).toEqual(tunnelToEmulator())
    expect(journal()).toEqual(TWO_CALLS)
  })

  test.each([407, 403])(
    'a proxy that refuses (%i): a ControlServiceError naming the operation and the status, without the token',
    async status => {
      proxy.refuse(status)
      const client = clientWith({ HTTP_PROXY: proxy.url }, { sleep: noSleep, retries: 2 })
      const e = await failure(client.info(TEAM))
      expect(e.operation).toBe(`read the Control Service info (team '${TEAM}')`)
      expect(e.kind).toBe('network')
      expect(e.message).toContain(`read the Control Service info (team '${TEAM}') failed`)
      expect(e.message).toContain(`(HTTP ${status}).`)
      expect(e.message).toContain('HTTP_PROXY')
      expect(e.message).not.toContain(TOKEN)
      expect(JSON.stringify(e)).not.toContain(TOKEN)
      expect(String(e.cause)).not.toContain(TOKEN)
      // a refusal is an answer, not a glitch: not retried, and the request never reached the service
      expect(e.attempts).toBe(1)
      expect(e.status).toBe(status)
      expect(proxy.requests).toEqual([tunnelToEmulator()])
      expect(journal()).toEqual([])
    }
  )

  test('after the proxy accepts again, a new client gets through', async () => {
    proxy.refuse(407)
    await failure(clientWith({ HTTP_PROXY: proxy.url }, { retries: 0 }).info(TEAM))
    proxy.refuse(null)
    await twoCalls(clientWith({ HTTP_PROXY: proxy.url }))
    expect(journal()).toEqual(TWO_CALLS)
  })

  // BUG in src/core/http.ts (Transport.send) with retry.ts: a refused CONNECT is undici's
  // RequestAbortedError (UND_ERR_ABORTED), which neverSent() does not know, so a POST refused by
  // the proxy counts as "may have taken effect": createJob then runs its reconcile (readJob), whose
  // own failure is thrown instead, and the message names "read data job …", not the create the
  // caller asked for. Remove `.failing` once a reconcile failure (or a refused tunnel) keeps the
  // original operation in the error.
  test('a POST refused by the proxy fails naming its own operation', async () => {
    proxy.refuse(407)
    const client = clientWith({ HTTP_PROXY: proxy.url }, { sleep: noSleep, retries: 0 })
    const e = await failure(
      client.createJob(jobRef(TEAM, 'other-job'), {
        description: 'made through a proxy',
        config: {}
      })
    )
    expect(e.operation).toBe(`create data job 'other-job' of team '${TEAM}'`)
    expect(e.message).toMatch(/^create data job 'other-job' of team 'team' failed/)
  })

  // BUG in src/core/http.ts (Transport constructor): TransportOptions.env says proxy settings are
  // read from it, but when it has no HTTP_PROXY/http_proxy (or NO_PROXY/no_proxy) the Transport
  // passes `undefined` to EnvHttpProxyAgent, which then falls back to process.env itself: a
  // process-wide HTTP_PROXY (or NO_PROXY) overrides the env given to connect(). Remove `.failing`
  // once the Transport passes '' (or an Agent) for settings absent from its env.
  test('only the env given to connect() counts, not process.env', async () => {
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY }
    try {
      // a process-wide proxy: not used
      process.env.HTTP_PROXY = proxy.url
      await wentStraight(clientWith({}, { retries: 0 }))
      expect(proxy.requests).toEqual([])
      // a process-wide NO_PROXY: not used either
      delete process.env.HTTP_PROXY
      process.env.NO_PROXY = PROXIED_HOST
      await twoCalls(clientWith({ HTTP_PROXY: proxy.url }))
      expect(proxy.requests.length).toBeGreaterThanOrEqual(1)
    } finally {
      for (const [k, v] of Object.entries(saved))
        if (v === undefined) delete process.env[k]
        else process.env[k] = v
    }
    expect(journal()).toEqual(TWO_CALLS)
  })
})

describe('loopback is never proxied (as @actions/http-client), whatever NO_PROXY says', () => {
  test.each<[string, () => string]>([
    ['127.0.0.1', () => emu.url],
    ['localhost', () => `http://localhost:${emu.port}`]
  ])(
    'a service at %s: the calls go straight to it, HTTP_PROXY and HTTPS_PROXY set, NO_PROXY not matching',
    async (_what, url) => {
      const env = {
        HTTP_PROXY: proxy.url,
        HTTPS_PROXY: proxy.url,
        NO_PROXY: 'example.com'
      }
      await twoCalls(clientWith(env, undefined, [], { 'control-service-url': url() }))
      expect(proxy.requests).toEqual([])
      expect(journal()).toEqual(TWO_CALLS)
    }
  )

  test('a token endpoint on loopback is not proxied, while the service at another host is', async () => {
    const masked: string[] = []
    const client = clientWith({ HTTP_PROXY: proxy.url }, undefined, masked, {
      'access-token': '',
      'api-token': API_TOKEN,
      'api-token-authorization-url': `${emu.url}/auth/token`
    })
    await twoCalls(client)
    expect(proxy.requests.length).toBeGreaterThanOrEqual(1)
    for (const r of proxy.requests) expect(r).toEqual(tunnelToEmulator())
    expect(journal()).toEqual([`POST /auth/token 200`, ...TWO_CALLS])
    expect(masked[0]).toBe(API_TOKEN)
  })

  test('an absolute URL on loopback (a logs_url, say) is not proxied, while the service is', async () => {
    const client = clientWith({ HTTP_PROXY: proxy.url })
    await twoCalls(client)
    const tunnels = proxy.requests.length
    expect(tunnels).toBeGreaterThanOrEqual(1)
    const status = await client.transport.send(
      {
        operation: 'read a page on loopback',
        method: 'GET',
        path: `${emu.url}/data-jobs/for-team/${TEAM}/info`,
        absolute: true,
        idempotent: true,
        // another origin than the service's: no token is sent, and the service says so
        accept: [401]
      },
      res => res.status
    )
    expect(status).toBe(401)
    expect(proxy.requests).toHaveLength(tunnels)
    expect(journal()).toEqual([...TWO_CALLS, `GET /data-jobs/for-team/${TEAM}/info 401`])
  })

  test.each([
    ['localhost', true],
    ['LOCALHOST', true],
    ['localhost.', true],
    ['127.0.0.1', true],
    ['127.255.3.4', true],
    ['[::1]', true],
    ['[::ffff:7f00:1]', true],
    ['vdk.test', false],
    ['localhost.example.com', false],
    ['128.0.0.1', false],
    ['[::2]', false],
    ['10.0.0.1', false],
    ['0.0.0.0', false]
  ])('isLoopbackHost(%s) is %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback)
  })

  test('every loopback form the URL parser writes is recognised', () => {
    for (const raw of [
      'http://127.1/',
      'http://0x7f.0.0.1/',
      'http://[0:0:0:0:0:0:0:1]/',
      'http://[::ffff:127.0.0.1]/'
    ])
      expect(isLoopbackHost(new URL(raw).hostname)).toBe(true)
  })
})

describe('a client behind a forwarding proxy (absolute-URI requests, no tunnel)', () => {
  /** undici's ProxyAgent with proxyTunnel: false sends `GET http://host:port/path` to the proxy. */
  function forwardingClient(transport: Partial<TransportOptions> = {}): ControlServiceClient {
    const dispatcher = new ProxyAgent({ uri: proxy.url, proxyTunnel: false })
    dispatchers.push(dispatcher)
    return clientWith({}, { dispatcher, ...transport })
  }

  test('forwards requests with their bodies and streams the answers back', async () => {
    const client = forwardingClient()
    const ref = jobRef(TEAM, 'forwarded-job')
    expect(await client.createJob(ref, { description: 'made through a proxy', config: {} })).toBe(
      'created'
    )
    const zip = await zipOf(jobFiles('forwarded-job'))
    const version = await client.uploadSources(ref, () => zip, { reason: 'via proxy' })
    expect(version).toMatch(/^[0-9a-f]{40}$/)
    const chunks: Buffer[] = []
    for await (const c of await client.downloadSources(ref)) chunks.push(c as Buffer)
    const downloaded = Buffer.concat(chunks)
    expect(downloaded.subarray(0, 2).toString()).toBe('PK')
    expect(await client.readJob(ref)).toMatchObject({
      job_name: 'forwarded-job',
      team: TEAM,
      description: 'made through a proxy'
    })

    const origin = proxiedUrl()
    const jobUrl = `${origin}/data-jobs/for-team/${TEAM}/jobs/forwarded-job`
    expect(proxy.requests).toEqual([
      { method: 'POST', url: `${origin}/data-jobs/for-team/${TEAM}/jobs?name=forwarded-job` },
      { method: 'POST', url: `${jobUrl}/sources?reason=via+proxy` },
      { method: 'GET', url: `${jobUrl}/sources` },
      { method: 'GET', url: jobUrl }
    ])
    expect(journal()).toEqual([
      `POST /data-jobs/for-team/${TEAM}/jobs 201`,
      `POST /data-jobs/for-team/${TEAM}/jobs/forwarded-job/sources 200`,
      `GET /data-jobs/for-team/${TEAM}/jobs/forwarded-job/sources 200`,
      `GET /data-jobs/for-team/${TEAM}/jobs/forwarded-job 200`
    ])
    expect(emu.state.jobs['forwarded-job'].versions).toHaveLength(1)
  })

  test('a forwarding proxy that refuses (407): a ControlServiceError naming the operation and the status, without the token', async () => {
    proxy.refuse(407)
    const client = forwardingClient({ sleep: noSleep, retries: 1 })
    const e = await failure(client.readJob(jobRef(TEAM, 'some-job')))
    expect(e.operation).toBe(`read data job 'some-job' of team '${TEAM}'`)
    expect(e.message).toContain(`read data job 'some-job' of team '${TEAM}' failed`)
    expect(e.message).toContain('407')
    expect(e.message).not.toContain(TOKEN)
    expect(proxy.requests).toHaveLength(2)
    expect(journal()).toEqual([])
  })
})

describe('a proxy variable that is not a proxy URL is an input problem, found before any request', () => {
  /** The one-line problem readConnection reports for these inputs and env; '' when none. */
  function problemOf(inputs: Record<string, string>, env: NodeJS.ProcessEnv): string {
    const problems = new Problems()
    readConnection({ input: name => inputs[name] ?? '', env }, problems)
    try {
      problems.check()
      return ''
    } catch (e) {
      expect(e).toBeInstanceOf(InputError)
      return (e as InputError).message
    }
  }
  const https = { 'control-service-url': 'https://vdk.example.com', 'access-token': TOKEN }
  const http = { 'control-service-url': 'http://127.0.0.1:8080', 'access-token': TOKEN }

  test.each<[string, Record<string, string>, NodeJS.ProcessEnv, string]>([
    [
      'a port that is not a number, with credentials',
      https,
      { HTTPS_PROXY: 'http://u:proxy-Pa55word@127.0.0.1:notaport' },
      "HTTPS_PROXY is not a valid proxy URL: 'http://***@127.0.0.1:notaport' (expected e.g. http://proxy.example.com:3128)"
    ],
    [
      'lowercase https_proxy',
      https,
      { https_proxy: 'http://proxy user:proxy-Pa55word@[bad' },
      "https_proxy is not a valid proxy URL: 'http://***@[bad' (expected e.g. http://proxy.example.com:3128)"
    ],
    [
      'HTTP_PROXY for a plain-http service',
      http,
      { HTTP_PROXY: 'proxy-Pa55word@proxy:3128x' },
      "HTTP_PROXY is not a valid proxy URL: '***@proxy:3128x' (expected e.g. http://proxy.example.com:3128)"
    ],
    [
      'lowercase http_proxy that is no http(s) URL',
      http,
      { http_proxy: 'socks5://proxy:1080' },
      "http_proxy is not a valid proxy URL: 'socks5://proxy:1080' (expected e.g. http://proxy.example.com:3128)"
    ],
    [
      "the token endpoint's scheme counts too",
      {
        ...http,
        'access-token': '',
        'api-token': API_TOKEN,
        'api-token-authorization-url': 'https://auth.example.com/token'
      },
      { HTTPS_PROXY: 'http://u:proxy-Pa55word@:3128' },
      "HTTPS_PROXY is not a valid proxy URL: 'http://***@:3128' (expected e.g. http://proxy.example.com:3128)"
    ]
  ])('%s: one line naming the variable, credentials as ***', (_what, inputs, env, message) => {
    const problem = problemOf(inputs, env)
    expect(problem).toBe(message)
    expect(problem).not.toContain('Pa55word')
  })

  test.each<[string, Record<string, string>, NodeJS.ProcessEnv]>([
    [
      'a good proxy URL with credentials',
      https,
      { HTTPS_PROXY: 'http://u:p@proxy.example.com:3128' }
    ],
    ['an https proxy', https, { https_proxy: 'https://proxy.example.com' }],
    // lowercase first, as curl: the uppercase one is not read
    [
      'a bad HTTPS_PROXY behind a good https_proxy',
      https,
      { https_proxy: 'http://proxy:3128', HTTPS_PROXY: 'bad:x' }
    ],
    // only the scheme of the service is read
    ['a bad HTTP_PROXY for an https service', https, { HTTP_PROXY: 'http://x:notaport' }],
    ['a bad HTTPS_PROXY for a plain-http service', http, { HTTPS_PROXY: 'http://x:notaport' }],
    ['ALL_PROXY, which is not read', https, { ALL_PROXY: 'http://x:notaport' }]
  ])('%s: no problem', (_what, inputs, env) => {
    expect(problemOf(inputs, env)).toBe('')
  })

  test('a Transport made without readConnection refuses the variable at its first request through it, without its value', async () => {
    const env = { HTTPS_PROXY: 'http://u:proxy-Pa55word@127.0.0.1:notaport' }
    const transport = new Transport({ baseUrl: 'https://vdk.example.com', userAgent: 'test', env })
    const spec = { operation: 'read', method: 'GET', path: '/x', idempotent: true } as const
    await expect(transport.send(spec, () => 'sent')).rejects.toThrow(
      new InputError('HTTPS_PROXY is not a valid proxy URL')
    )
    await transport.close()
    // a client that only ever talks to loopback (changed-jobs and validate make one they never
    // use) is made all the same: loopback never goes through a proxy
    const local = new Transport({
      baseUrl: 'https://127.0.0.1:1',
      userAgent: 'test',
      env: { ...env, HTTP_PROXY: env.HTTPS_PROXY }
    })
    await local.close()
  })
})
