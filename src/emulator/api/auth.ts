// Who may call the API: the bearer check every request but the token endpoint passes (tokens
// given at start, or access tokens the endpoint handed out and not expired), and the endpoint
// that exchanges an API (refresh) token for an access token, as the real service's OAuth2 does.
import { randomBytes } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { readBody } from '../body.js'
import type { Handler, Service } from '../context.js'
import { empty, json, type Reply } from '../reply.js'

/** The path of the token endpoint: the only one of the API open without a token. */
export const TOKEN_PATH = '/auth/token'
/** A token request is a short form: more than this is no client of ours. */
const MAX_FORM_BYTES = 64 * 1024

/** Undefined when the request may go on; else the 401 to answer. */
export function refuseUnauthorized(service: Service, req: IncomingMessage): Reply | undefined {
  if (!service.authOn) return undefined
  const header = req.headers.authorization
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1]
  if (!bearer) return empty(401, { 'WWW-Authenticate': 'Bearer' })
  const expiry = service.store.state.issued_tokens[bearer]
  if (
    service.settings.tokens.includes(bearer) ||
    (expiry !== undefined && expiry > service.clock.now())
  )
    return undefined
  return empty(401, {
    'WWW-Authenticate':
      'Bearer error="invalid_token", error_description="The access token is invalid or expired."'
  })
}

export const tokenEndpoint: Handler = async (service, call) => {
  const { apiTokens, accessTokenTtlSeconds } = service.settings
  if (!apiTokens.length) return empty(404)
  const form = new URLSearchParams((await readBody(call.req, MAX_FORM_BYTES)).toString('utf8'))
  if (form.get('grant_type') !== 'refresh_token') {
    return json(400, {
      error: 'unsupported_grant_type',
      error_description: 'only grant_type=refresh_token is supported'
    })
  }
  const refresh = form.get('refresh_token')
  if (!refresh || !apiTokens.includes(refresh)) {
    return json(400, { error: 'invalid_grant', error_description: 'the API token is not valid' })
  }
  const token = `emu-${randomBytes(24).toString('hex')}`
  service.store.state.issued_tokens[token] = service.clock.now() + accessTokenTtlSeconds * 1000
  return json(200, {
    access_token: token,
    token_type: 'bearer',
    expires_in: accessTokenTtlSeconds,
    scope: ''
  })
}
