// Authorization: an access token used as is, or an API (refresh) token exchanged for access tokens
// at an authorization URL the way the official CLI does (form POST grant_type=refresh_token, no
// client credentials), renewed before it expires and once more after a 401. Every token, the
// exchanged ones included, is masked before anything could print it.
import { ControlServiceError } from './errors.js'
import { Transport, type Auth, type Response, type TransportOptions } from './http.js'
import { hasControl } from './text.js'

export const noAuth: Auth = {
  header: () => Promise.resolve(undefined),
  refresh: () => Promise.resolve(false)
}

export function accessTokenAuth(token: string, mask: (secret: string) => void): Auth {
  mask(token)
  return {
    header: () => Promise.resolve(`Bearer ${token}`),
    refresh: () => Promise.resolve(false)
  }
}

export interface ApiTokenAuthOptions {
  apiToken: string
  authorizationUrl: string
  mask: (secret: string) => void
  /** Transport settings shared with the Control Service calls (proxy, timeouts, user agent…). */
  transport: Omit<TransportOptions, 'baseUrl' | 'auth'>
  clock?: () => number
}

/** Renew this long before the announced expiry. */
const EARLY_MS = 60_000

export function apiTokenAuth(options: ApiTokenAuthOptions): Auth {
  options.mask(options.apiToken)
  const clock = options.clock ?? Date.now
  const transport = new Transport({ ...options.transport, baseUrl: options.authorizationUrl })
  let token: string | undefined
  let expiresAt = 0
  let pending: Promise<string> | undefined

  const exchange = async (): Promise<string> => {
    const answer = await transport.send(
      {
        operation: `exchange the API token for an access token at ${new URL(options.authorizationUrl).origin}`,
        method: 'POST',
        path: '',
        body: () =>
          new URLSearchParams({
            grant_type: 'refresh_token',
            refresh_token: options.apiToken
          }).toString(),
        contentType: 'application/x-www-form-urlencoded',
        // issuing a token twice is harmless
        idempotent: true,
        // its error page may hold the form-encoded refresh_token, which no mask matches
        hideBody: true,
        hint: status =>
          status === 400 || status === 401
            ? 'the API token was refused: check api-token (VDK_API_TOKEN) and api-token-authorization-url (VDK_API_TOKEN_AUTHORIZATION_URL)'
            : undefined
      },
      tokenFromAnswer
    )
    options.mask(answer.token)
    token = answer.token
    // no expires_in: keep it for the run, and rely on the refresh after a 401
    expiresAt = answer.expiresIn > 0 ? clock() + answer.expiresIn * 1000 : Infinity
    return answer.token
  }

  const current = (): Promise<string> => {
    if (token && clock() < expiresAt - EARLY_MS) return Promise.resolve(token)
    pending ??= exchange().finally(() => (pending = undefined))
    return pending
  }

  return {
    header: async () => `Bearer ${await current()}`,
    refresh: async () => {
      token = undefined
      await current()
      return true
    },
    close: () => transport.close()
  }
}

/** The access token in the authorization server's answer, and its lifetime in seconds (0: unsaid). */
function tokenFromAnswer(res: Response): { token: string; expiresIn: number } {
  let body: { access_token?: unknown; expires_in?: unknown }
  try {
    body = JSON.parse(res.text) as typeof body
  } catch {
    body = {}
  }
  // a token with a line break cannot be sent (nor masked as one line): not a token
  if (
    typeof body.access_token !== 'string' ||
    !body.access_token ||
    hasControl(body.access_token)
  ) {
    throw new ControlServiceError({
      operation: 'exchange the API token for an access token',
      kind: 'protocol',
      detail: `the authorization server answered HTTP ${res.status} without an access_token${typeof body.access_token === 'string' && body.access_token ? ' fit to send (it holds a line break or another control character)' : ''}`,
      hint: 'check api-token-authorization-url: it must be the token endpoint of the authorization server'
    })
  }
  return {
    token: body.access_token,
    expiresIn: typeof body.expires_in === 'number' ? body.expires_in : 0
  }
}
