// What a handler is given: the service (its settings, state, sources, clock, journal and faults,
// passed explicitly rather than captured) and the call it answers. A handler returns a Reply
// (reply.ts) or throws one with `fail`; it never writes to the socket.
import type { IncomingMessage } from 'node:http'
import type { ServiceClock } from './clock.js'
import type { FaultList } from './faults.js'
import type { Journal } from './journal.js'
import type { Settings } from './options.js'
import type { Reply } from './reply.js'
import type { SourceStore } from './sources.js'
import type { Store } from './state.js'

export interface Service {
  readonly settings: Settings
  readonly store: Store
  readonly clock: ServiceClock
  readonly sources: SourceStore
  readonly journal: Journal
  readonly faults: FaultList
  /** Whether requests need a token (some token or API token was given). */
  readonly authOn: boolean
  /** `http://host:port`, known once the service listens (logs_url is made from it). */
  base: string
}

/** One request, as the handler the router picked sees it. */
export interface ApiCall {
  req: IncomingMessage
  url: URL
  /** The `:name` segments of the route, decoded. */
  params: Record<string, string>
  opId: string
  /** Who the service records as the author of what the call changes. */
  user: string
}

export type Handler = (service: Service, call: ApiCall) => Reply | Promise<Reply>
