// Host and Origin checks of the local Control Service (src/emulator/access.ts), as pure functions:
// which names count as loopback or as the service's own, however a client spells them.
import { accessCheck, hostName, isLoopback } from '../../src/emulator/access.js'

test.each([
  ['127.0.0.1:8092', '127.0.0.1'],
  ['LOCALHOST.:80', 'localhost'],
  ['[0:0:0:0:0:0:0:1]:8092', '[::1]'],
  ['::1', '[::1]'],
  ['0.0.0.0', '0.0.0.0'],
  ['::', '[::]'],
  ['127.1', '127.0.0.1'],
  ['[::ffff:127.0.0.1]', '[::ffff:7f00:1]'],
  ['Vdk-Emulator.internal', 'vdk-emulator.internal'],
  ['attacker.example@127.0.0.1', undefined],
  ['127.0.0.1/x', undefined],
  ['local host', undefined],
  ['', undefined]
])('hostName(%p) is %p', (host, name) => {
  expect(hostName(host)).toBe(name)
})

test('loopback: localhost, 127.0.0.0/8, [::1] and IPv4-mapped 127.x; nothing else', () => {
  for (const name of ['localhost', '127.0.0.1', '127.255.0.9', '[::1]', '[::ffff:7f00:1]'])
    expect([name, isLoopback(name)]).toEqual([name, true])
  for (const name of ['127.0.0.1.nip.io', 'localhost.attacker.example', '[::2]', '10.0.0.1'])
    expect([name, isLoopback(name)]).toEqual([name, false])
})

test('a service listening on every address answers only loopback and the names it was given', () => {
  const check = accessCheck('0.0.0.0', ['vdk-emulator'])
  expect(check({ host: 'vdk-emulator:8092' })).toBeUndefined()
  expect(check({ host: '127.0.0.1:8092', origin: 'http://vdk-emulator:3000' })).toBeUndefined()
  expect(check({ host: '0.0.0.0:8092' })?.status).toBe(403)
  expect(check({ host: '192.168.1.20:8092' })?.status).toBe(403)
  expect(check({})?.status).toBe(403)
  expect(check({ host: 'localhost', origin: 'file://' })?.status).toBe(403)
  // listening on one address of its own: that address is its name too
  expect(accessCheck('192.168.1.20', [])({ host: '192.168.1.20:8092' })).toBeUndefined()
  expect(accessCheck('::1', [])({ host: '[::1]:8092' })).toBeUndefined()
})
