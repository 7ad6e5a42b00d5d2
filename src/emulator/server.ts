// The local Control Service: real HTTP on loopback, the Data Jobs API as the official service
// behaves (see the README's "Local Control Service" section for every deliberate difference).
// This file wires the parts together and listens; the path of one request is `answer` below.
// Where the rest lives: options.ts (what it is started with), state.ts (the state and its file),
// router.ts (which handler answers), api/ (one file per resource), admin.ts (/_emulator/),
// body.ts (request bodies), faults.ts (scripted faults), journal.ts (the record of requests).
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { accessCheck } from './access.js'
import { ADMIN_ROUTES, refuseAdmin } from './admin.js'
import { refuseUnauthorized, TOKEN_PATH } from './api/auth.js'
import { swallow } from './body.js'
import type { ServiceClock } from './clock.js'
import type { Service } from './context.js'
import { applyFault, describeFault, FaultList } from './faults.js'
import { Journal, type JournalEntry } from './journal.js'
import type { ServiceState } from './model.js'
import { resolveOptions, type EmulatorOptions } from './options.js'
import { send } from './reply.js'
import { API_ROUTES, dispatch } from './router.js'
import { SourceStore } from './sources.js'
import { Store } from './state.js'

export { EMULATOR_VERSION, type EmulatorOptions } from './options.js'

export interface Emulator {
  readonly url: string
  readonly port: number
  readonly server: Server
  readonly state: ServiceState
  readonly journal: JournalEntry[]
  /** The service's time: freeze it and move it on to decide what clients see. */
  readonly clock: ServiceClock
  close(): Promise<void>
}

const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms).unref())

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const settings = resolveOptions(options)
  const dataDir = settings.dataDir ?? mkdtempSync(join(tmpdir(), 'vdk-emulator-'))
  mkdirSync(dataDir, { recursive: true })
  // without --data-dir the folder is a temporary one for the sources alone: state stays in memory
  const store = new Store(
    settings.dataDir ? join(dataDir, 'state.json') : undefined,
    options.clock,
    options.frozenClock
  )
  const service: Service = {
    settings,
    store,
    clock: store.clock,
    sources: new SourceStore(join(dataDir, 'sources'), {
      uploadBytes: settings.maxUploadBytes,
      filesBytes: settings.maxSourcesBytes,
      entries: settings.maxSourcesEntries,
      inflateRatio: settings.maxInflateRatio
    }),
    journal: new Journal(),
    faults: new FaultList(),
    authOn: settings.tokens.length > 0 || settings.apiTokens.length > 0,
    base: ''
  }
  const access = accessCheck(settings.host, settings.allowedHosts)
  const server = createServer((req, res) => {
    handle(service, access, req, res).catch((e: unknown) => {
      settings.log?.(`failed to answer: ${String(e)}`)
      res.destroy()
    })
  })
  // Long uploads must not be cut by Node's default request timeout (5 minutes).
  server.requestTimeout = 0
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(settings.port, settings.host, () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host
  service.base = `http://${host}:${port}`
  if (!store.saved) store.persist()

  return {
    url: service.base,
    port,
    server,
    get state() {
      return store.state
    },
    journal: service.journal.entries,
    clock: store.clock,
    async close() {
      await new Promise<void>(resolve => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      if (!settings.dataDir) rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

/** The path of every request: who may ask, then the admin API or the official one. */
async function handle(
  service: Service,
  access: ReturnType<typeof accessCheck>,
  req: IncomingMessage,
  res: ServerResponse
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://emulator')
  const opId = (req.headers['x-opid'] as string | undefined) ?? randomBytes(8).toString('hex')
  res.setHeader('X-OPID', opId)
  // before anything else, and out of the journal: such a request is not a client of the service
  const refused = access({ host: req.headers.host, origin: req.headers.origin })
  if (refused) {
    swallow(req)
    send(res, refused)
    return
  }
  if (url.pathname.startsWith('/_emulator/')) {
    const denied = refuseAdmin(service, req)
    const reply = denied ?? (await dispatch(service, ADMIN_ROUTES, req, url, opId))
    swallow(req)
    send(res, reply)
    return
  }
  await answerApi(service, req, res, url, opId)
}

/**
 * A call of the official API: journaled, then a scripted fault may delay it or answer in its
 * place, before it runs or after (a lost response); finished builds are applied first, so that
 * the handler sees the state as of now, and any change is saved before the answer goes out.
 */
async function answerApi(
  service: Service,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  opId: string
): Promise<void> {
  const method = req.method ?? 'GET'
  const entry = service.journal.record(req, res, url, opId)
  service.settings.log?.(`${method} ${req.url}`)

  const hasLength = req.headers['content-length'] !== undefined
  const fault = service.faults.take(method, url.pathname, hasLength)
  if (fault) entry.fault = describeFault(fault)
  const after = fault?.when === 'after'
  const answers = fault && (fault.reset || fault.status !== undefined)
  if (fault?.delayMs && !after) await sleep(fault.delayMs)
  if (fault && answers && !after) return applyFault(req, res, fault, service.clock.now())

  const changed = service.store.settleAll(service.clock.now())
  const denied = url.pathname === TOKEN_PATH ? undefined : refuseUnauthorized(service, req)
  const reply = denied ?? (await dispatch(service, API_ROUTES, req, url, opId))
  if (changed || (method !== 'GET' && method !== 'HEAD')) service.store.persist()
  if (fault?.delayMs && after) await sleep(fault.delayMs)
  if (fault && answers && after) {
    if (reply.kind === 'stream') (reply.body as Readable).destroy()
    return applyFault(req, res, fault, service.clock.now())
  }
  swallow(req)
  send(res, reply)
}
