// Tokens on the local Control Service (src/emulator/api/auth.ts): the bearer check and the token
// endpoint. Calls are contract-checked (see jobs.test.ts).
import { admin, closeServices, describeIfSpec, service, TEAM } from '../helpers/emulator-api.js'
import { teamPath } from '../helpers/fixtures.js'

describeIfSpec('local Control Service, official API', () => {
  afterAll(closeServices)

  describe('auth', () => {
    test('with --token, a request without it or with another token is a 401; with it, 200', async () => {
      const { api: secured } = await service({ tokens: ['good-token'] })
      const info = `${teamPath(TEAM)}/info`
      const none = await secured.call('GET', info, { deviations: ['unauthorized-401'] })
      expect(none.status).toBe(401)
      expect(none.text).toBe('')
      expect(none.headers.get('www-authenticate')).toBe('Bearer')
      const wrong = await secured.call('GET', info, {
        token: 'bad-token',
        deviations: ['unauthorized-401']
      })
      expect(wrong.status).toBe(401)
      expect(wrong.headers.get('www-authenticate')).toContain('invalid_token')
      expect((await secured.call('GET', info, { token: 'good-token' })).status).toBe(200)
    })

    test('the token endpoint exchanges an API token (form POST grant_type=refresh_token); expired tokens are refused', async () => {
      const { emu: e, api: secured } = await service({ apiTokens: ['my-api-token'] })
      const exchange = (form: string) =>
        fetch(`${e.url}/auth/token`, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            Accept: 'application/json'
          },
          body: form
        })
      const bad = await exchange('grant_type=refresh_token&refresh_token=wrong')
      expect(bad.status).toBe(400)
      expect(await bad.json()).toMatchObject({ error: 'invalid_grant' })
      const grant = await exchange('grant_type=password&username=x')
      expect(await grant.json()).toMatchObject({ error: 'unsupported_grant_type' })
      const ok = await exchange('grant_type=refresh_token&refresh_token=my-api-token')
      const body = (await ok.json()) as {
        access_token: string
        expires_in: number
        token_type: string
      }
      expect(body).toMatchObject({ token_type: 'bearer', expires_in: 3600 })
      expect(
        (await secured.call('GET', `${teamPath(TEAM)}/info`, { token: body.access_token })).status
      ).toBe(200)
      // the admin API asks for a token as the API does: here, the access token it then expires
      expect((await admin(e, 'POST', 'auth/expire')).status).toBe(401)
      expect((await admin(e, 'POST', 'auth/expire', undefined, body.access_token)).status).toBe(204)
      expect(
        (
          await secured.call('GET', `${teamPath(TEAM)}/info`, {
            token: body.access_token,
            deviations: ['unauthorized-401']
          })
        ).status
      ).toBe(401)
      const again = (await (
        await exchange('grant_type=refresh_token&refresh_token=my-api-token')
      ).json()) as { access_token: string }
      expect(
        (await secured.call('GET', `${teamPath(TEAM)}/info`, { token: again.access_token })).status
      ).toBe(200)
      expect(e.journal.filter(j => j.path === '/auth/token').map(j => j.status)).toEqual([
        400, 400, 200, 200
      ])
    })
  })
})
