// The client behind an HTTP proxy, all real on loopback: the local Control Service, a forward
// proxy (../helpers/proxy.ts), and a client built the way the actions build it (readConnection →
// connect) with the proxy settings in the env given to `connect`.
//
// undici's ProxyAgent (under EnvHttpProxyAgent) tunnels every request with CONNECT, plain http
// included, so the proxy records one `CONNECT host:port` per connection rather than each request;
// the emulator's journal shows the requests themselves.
import { ProxyAgent, type Dispatcher } from 'undici'
import { jobRef, type ControlServiceClient } from '../../src/core/client.js'
import { connect, Problems, readConnection } from '../../src/core/connection.js'
import { ControlServiceError } from '../../src/core/errors.js'
import type { TransportOptions } from '../../src/core/http.js'
import { startEmulator, type Emulator } from '../../src/emulator/server.js'
import { jobFiles, zipOf } from '../helpers/fixtures.js'
import { startProxy, type Proxy } from '../helpers/proxy.js'

const TEAM = 'team'
/** Recognisable, so that a leak into a message is easy to see. */
const TOKEN = 'tok-PROXYTEST-9f8e7d6c5b4a'
const noSleep = (): Promise<void> => Promise.resolve()

let emu: Emulator
let proxy: Proxy
let clients: ControlServiceClient[] = []
let dispatchers: Dispatcher[] = []
/** Index of the first journal entry of the current test. */
let mark = 0

beforeAll(async () => {
  emu = await startEmulator({ port: 0, tokens: [TOKEN] })
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

/** A client for the emulator, configured as an action is: inputs + env, through connect(). */
function clientWith(
  env: NodeJS.ProcessEnv,
  transport?: Partial<TransportOptions>,
  masked: string[] = []
): ControlServiceClient {
  const inputs: Record<string, string> = {
    'control-service-url': emu.url,
    'access-token': TOKEN
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
  url: `127.0.0.1:${emu.port}`
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
    await twoCalls(clientWith({}))
    expect(proxy.requests).toEqual([])
    expect(journal()).toEqual(TWO_CALLS)
  })

  test.each<[string, () => NodeJS.ProcessEnv]>([
    ['NO_PROXY=127.0.0.1', () => ({ NO_PROXY: '127.0.0.1' })],
    ['NO_PROXY=*', () => ({ NO_PROXY: '*' })],
    ['no_proxy=127.0.0.1', () => ({ no_proxy: '127.0.0.1' })],
    ['NO_PROXY=127.0.0.1:<the port>', () => ({ NO_PROXY: `127.0.0.1:${emu.port}` })],
    ['NO_PROXY in a list', () => ({ NO_PROXY: `example.com, 127.0.0.1 ,.internal` })]
  ])('%s: the proxy sees nothing, and the calls succeed', async (_what, noProxy) => {
    await twoCalls(clientWith({ HTTP_PROXY: proxy.url, ...noProxy() }))
    expect(proxy.requests).toEqual([])
    expect(journal()).toEqual(TWO_CALLS)
  })

  test('a NO_PROXY that does not match (other host, other port) still proxies', async () => {
    await twoCalls(clientWith({ HTTP_PROXY: proxy.url, NO_PROXY: 'example.com,127.0.0.1:1' }))
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
    const saved = process.env.HTTP_PROXY
    process.env.HTTP_PROXY = proxy.url
    try {
      await twoCalls(clientWith({}))
    } finally {
      if (saved === undefined) delete process.env.HTTP_PROXY
      else process.env.HTTP_PROXY = saved
    }
    expect(journal()).toEqual(TWO_CALLS)
    expect(proxy.requests).toEqual([])
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

    const origin = emu.url
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
