// Which logs_url is followed: the rule of follow-logs-url, the addresses that are not public, and
// the connection that goes only to the addresses checked (no second DNS answer). Real sockets on
// loopback; host names are resolved by a resolver of the test's own.
import { createServer, type Server } from 'node:http'
import { connect as netConnect, type AddressInfo } from 'node:net'
import { Problems, type InputSource } from '../../src/core/inputs.js'
import {
  nonPublic,
  pinnedLookup,
  readLogsUrlRule,
  routeLogsUrl,
  type LogsUrlRule,
  type Resolve
} from '../../src/core/logsurl.js'
import { ControlServiceClient } from '../../src/core/client.js'
import { Transport } from '../../src/core/http.js'

const SERVICE = 'https://vdk.example.com'
const rule = (over: Partial<LogsUrlRule> = {}): LogsUrlRule => ({
  follow: 'public',
  hosts: [],
  origin: SERVICE,
  ...over
})

const inputs = (value: string): InputSource => ({
  input: name => (name === 'follow-logs-url' ? value : ''),
  env: {}
})

describe('follow-logs-url', () => {
  test.each([
    ['', { follow: 'public', hosts: [] }],
    ['public', { follow: 'public', hosts: [] }],
    ['Same-Origin', { follow: 'same-origin', hosts: [] }],
    ['any', { follow: 'any', hosts: [] }],
    [
      'logs.corp.example, 10.1.2.3 ,[fd00::1]',
      { hosts: ['logs.corp.example', '10.1.2.3', 'fd00::1'] }
    ]
  ])('%j is read', (value, want) => {
    const problems = new Problems()
    expect(readLogsUrlRule(inputs(value), problems, `${SERVICE}/base`)).toMatchObject({
      ...want,
      origin: SERVICE
    })
    expect(problems.list).toEqual([])
  })

  test.each(['http://logs.example.com', 'logs example', 'a,,b/c', ',', 'x\n::error::y'])(
    '%j is refused with one line naming the input',
    value => {
      const problems = new Problems()
      readLogsUrlRule(inputs(value), problems, SERVICE)
      expect(problems.list).toHaveLength(1)
      expect(problems.list[0]).toMatch(
        /^follow-logs-url must be public, same-origin, any, or host names/
      )
      expect(problems.list[0]).not.toMatch(/\n/)
    }
  )
})

describe('addresses that are not public', () => {
  test.each([
    ['127.0.0.1', 'a loopback'],
    ['127.255.0.9', 'a loopback'],
    ['::1', 'a loopback'],
    ['169.254.169.254', 'a link-local'],
    ['::ffff:169.254.169.254', 'a link-local'],
    ['::ffff:a9fe:a9fe', 'a link-local'],
    ['[::ffff:127.0.0.1]', 'a loopback'],
    ['fe80::1', 'a link-local'],
    ['10.0.0.1', 'a private'],
    ['172.16.0.1', 'a private'],
    ['172.31.255.255', 'a private'],
    ['192.168.1.1', 'a private'],
    ['fc00::1', 'a private'],
    ['fd12:3456::1', 'a private'],
    ['100.64.0.1', 'a shared (CGNAT)'],
    ['100.127.255.254', 'a shared (CGNAT)'],
    ['0.0.0.0', 'an unspecified'],
    ['::', 'an unspecified'],
    ['::a9fe:a9fe', 'an IPv4-compatible'],
    ['64:ff9b::a9fe:a9fe', 'a translated (NAT64)'],
    ['224.0.0.1', 'a multicast or reserved'],
    ['255.255.255.255', 'a multicast or reserved'],
    ['ff02::1', 'a multicast']
  ])('%s is %s address', (ip, kind) => {
    expect(nonPublic(ip)).toBe(kind)
  })

  test.each(['93.184.216.34', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])(
    '%s is public',
    ip => {
      expect(nonPublic(ip)).toBeUndefined()
    }
  )
})

describe('routeLogsUrl', () => {
  const names: Record<string, string[]> = {
    'logs.example.com': ['93.184.216.34', '2606:4700::1111'],
    // a public name that resolves to the cloud's metadata address
    'metadata.example.com': ['169.254.169.254'],
    // one good address is not enough: every address must be public
    'mixed.example.com': ['93.184.216.34', '10.0.0.7']
  }
  const asked: string[] = []
  const resolve: Resolve = host => {
    asked.push(host)
    const found = names[host]
    if (!found) return Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }))
    return Promise.resolve(
      found.map(address => ({ address, family: address.includes(':') ? 6 : 4 }))
    )
  }
  const why = async (url: string, r = rule()): Promise<string | undefined> => {
    const route = await routeLogsUrl(url, r, resolve)
    if ('why' in route) return route.why
    await route.dispatcher?.close()
    return undefined
  }

  beforeEach(() => (asked.length = 0))

  test("the service's own origin is followed, by its transport (the token goes there)", async () => {
    const route = await routeLogsUrl(`${SERVICE}/_logs/x`, rule(), resolve)
    expect(route).toEqual({ url: new URL(`${SERVICE}/_logs/x`) })
    expect(asked).toEqual([])
  })

  test('https to a host whose every address is public: followed, connecting only there', async () => {
    const route = await routeLogsUrl('https://logs.example.com/x', rule(), resolve)
    expect('url' in route && route.dispatcher).toBeTruthy()
    if ('dispatcher' in route) await route.dispatcher?.close()
    expect(asked).toEqual(['logs.example.com'])
  })

  test.each([
    [
      'http://169.254.169.254/latest/meta-data/',
      /^it is plain http to a host other than the Control Service/
    ],
    [
      'https://169.254.169.254/latest/meta-data/',
      /^it is 169\.254\.169\.254, a link-local address; set follow-logs-url/
    ],
    [
      'https://metadata.example.com/x',
      /^its host resolves to 169\.254\.169\.254, a link-local address/
    ],
    ['https://mixed.example.com/x', /^its host resolves to 10\.0\.0\.7, a private address/],
    ['https://localhost.example/x', /^its host does not resolve \(ENOTFOUND\)/],
    ['https://[::ffff:127.0.0.1]/x', /^it is ::ffff:7f00:1, a loopback address/],
    ['https://0x7f.1/x', /^it is 127\.0\.0\.1, a loopback address/],
    ['https://[fd00::1]:8443/x', /^it is fd00::1, a private address/],
    ['https://user:pw@logs.example.com/x', /^it holds a user name or password/],
    ['javascript:alert(1)', /^it is not an http\(s\) URL/],
    ['file:///etc/passwd', /^it is not an http\(s\) URL/],
    ['/relative', /^it is not an http\(s\) URL/]
  ])('%s is not followed', async (url, reason) => {
    expect(await why(url)).toMatch(reason)
  })

  test('same-origin follows nothing else; any follows everything; named hosts at any address', async () => {
    expect(await why('https://logs.example.com/x', rule({ follow: 'same-origin' }))).toMatch(
      /^it is not on the Control Service's origin https:\/\/vdk\.example\.com/
    )
    expect(await why('http://169.254.169.254/x', rule({ follow: 'any' }))).toBeUndefined()
    expect(await why('http://10.0.0.7:9200/x', rule({ hosts: ['10.0.0.7'] }))).toBeUndefined()
    expect(
      await why('http://metadata.example.com/x', rule({ hosts: ['metadata.example.com'] }))
    ).toBeUndefined()
    // listed hosts are looked up by the proxy or the system as any request (no pinning needed)
    expect(asked).toEqual([])
  })
})

describe('pinnedLookup: the connection goes to the checked address, whatever the name', () => {
  let server: Server
  let port: number
  beforeAll(async () => {
    server = createServer((_req, res) => res.end('pinned'))
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })
  afterAll(() => new Promise(resolve => server.close(resolve)))

  test('a name that does not exist reaches the pinned address', async () => {
    const lookup = pinnedLookup([{ address: '127.0.0.1', family: 4 }])
    const socket = netConnect({ host: 'no-such-host.invalid', port, lookup })
    const address = await new Promise<string | undefined>((resolve, reject) => {
      socket.once('connect', () => resolve(socket.remoteAddress))
      socket.once('error', reject)
    })
    socket.destroy()
    expect(address).toBe('127.0.0.1')
  })

  test('a family it was not given is an error, not a fresh lookup', async () => {
    const lookup = pinnedLookup([{ address: '127.0.0.1', family: 4 }])
    const socket = netConnect({ host: 'no-such-host.invalid', port, lookup, family: 6 })
    const code = await new Promise<unknown>(resolve =>
      socket.once('error', e => resolve((e as NodeJS.ErrnoException).code))
    )
    expect(code).toBe('ENOTFOUND')
  })

  test('readLogsUrl over loopback: a named host is followed, text/plain only, without the token', async () => {
    const seen: Array<string | undefined> = []
    const store = createServer((req, res) => {
      seen.push(req.headers.authorization)
      res.writeHead(200, { 'content-type': req.url === '/page' ? 'text/html' : 'text/plain' })
      res.end('line 1\nline 2\n')
    })
    await new Promise<void>(resolve => store.listen(0, '127.0.0.1', resolve))
    const at = `http://127.0.0.1:${(store.address() as AddressInfo).port}`
    const client = new ControlServiceClient(
      new Transport({
        baseUrl: SERVICE,
        userAgent: 'test',
        auth: {
          header: () => Promise.resolve('Bearer secret'),
          refresh: () => Promise.resolve(false)
        }
      })
    )
    try {
      const named = rule({ hosts: ['127.0.0.1'] })
      expect(await client.readLogsUrl(`${at}/logs`, named)).toEqual({ text: 'line 1\nline 2\n' })
      expect(await client.readLogsUrl(`${at}/page`, named)).toEqual({
        why: 'it serves text/html, not plain text'
      })
      // not named: refused before any request
      expect(await client.readLogsUrl(`${at}/logs`, rule())).toEqual({
        why: 'not followed: it is plain http to a host other than the Control Service; set follow-logs-url to follow it'
      })
      expect(seen).toEqual([undefined, undefined])
    } finally {
      await client.close()
      await new Promise(resolve => store.close(resolve))
    }
  })
})
