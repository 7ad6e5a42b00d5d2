// The JSON text of the local Control Service's answers (src/emulator/reply.ts jsonText): its fast
// way for an object of long strings (a logs answer) must give exactly JSON.stringify's text.
import { jsonText } from '../../src/emulator/reply.js'

describe('jsonText', () => {
  test.each([
    ['a log of plain lines', { logs: 'line 1\nline 2\nligne ✓ → é' }],
    ['quotes and backslashes', { logs: 'say "hi" \\ C:\\path' }],
    ['control characters', { logs: 'a\u0000b\u0007c\u001fd\re\tf' }],
    ['a surrogate pair (emoji)', { logs: 'ok 🚀 done' }],
    ['a lone surrogate', { logs: 'broken \ud800 and \udfff' }],
    ['line and paragraph separators', { logs: 'a\u2028b\u2029c' }],
    ['keys that need escaping', { 'we"ird\nkey': 'v', '': '' }],
    ['an empty object', {}],
    ['values that are not strings', { logs: 'x', n: 1, list: ['a'], nested: { a: 'b' } }],
    ['undefined values', { logs: 'x', gone: undefined }],
    ['an array', ['a', 'b"c']],
    ['null', null],
    ['a string', 'text "quoted"'],
    ['a number', 42]
  ])('%s: the same text as JSON.stringify', (_name, body) => {
    expect(jsonText(body)).toBe(JSON.stringify(body))
  })

  test('an object with its own toJSON, or a class instance, goes the way JSON.stringify goes', () => {
    const withToJson = { logs: 'x', toJSON: () => ({ other: 1 }) }
    expect(jsonText(withToJson)).toBe('{"other":1}')
    expect(jsonText(new Date(0))).toBe(JSON.stringify(new Date(0)))
  })
})
