// Text from outside reaches a log line or the summary only through these: a log line never acts as
// a workflow command, a summary cell is never markup.
import { escapeHtml, hasControl, inert, safeHref, shownUrl } from '../../src/core/text.js'
import { code, joined, link } from '../../src/actions/runtime.js'

const render = (c: ReturnType<typeof link>): string => (typeof c === 'string' ? c : c.markup)

describe('inert: one log line that is only text', () => {
  test.each([
    ['ok\n::stop-commands::x', 'ok\\n::stop-commands::x'],
    ['a\r\nb\rc', 'a\\nb\\nc'],
    ['::warning::spoofed', '\u200b::warning::spoofed'],
    ['   ::error file=README.md::x', '\u200b   ::error file=README.md::x'],
    ['colour \u001b[31mred', 'colour \uFFFD[31mred'],
    ['tab\tstays', 'tab\tstays'],
    ['ok ##[stop-commands]zzz', 'ok ##\u200b[stop-commands]zzz'],
    ['##[error]spoofed', '##\u200b[error]spoofed'],
    ['separator\u2028::warning::x\u2029y', 'separator\\n::warning::x\\ny'],
    [
      'bidi \u202eevil\u202c and \u2066isolate\u2069',
      'bidi \uFFFDevil\uFFFD and \uFFFDisolate\uFFFD'
    ],
    ['status: running — a :: in the middle', 'status: running — a :: in the middle']
  ])('%j → %j', (line, shown) => {
    expect(inert(line)).toBe(shown)
    // whatever it held, it is one line that does not start a command
    expect(inert(line)).not.toMatch(/[\r\n]/)
    expect(inert(line)).not.toMatch(/^\s*::/)
    expect(inert(line)).not.toContain('##[')
  })

  test('control characters in names are found', () => {
    expect(hasControl('analytics\n::error::x')).toBe(true)
    expect(hasControl('data team é')).toBe(false)
    expect(hasControl('\u202ejob-name')).toBe(true)
    expect(hasControl('team\u2028x')).toBe(true)
  })
})

describe('summary cells', () => {
  test('text is escaped, markup comes only from link, code and joined', () => {
    expect(escapeHtml(`<img src=x onerror="a('b')">&`)).toBe(
      '&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;'
    )
    expect(render(link('logs', 'https://logs.example.com/a b?x="y"&z=<1>'))).toBe(
      '<a href="https://logs.example.com/a%20b?x=%22y%22&amp;z=%3C1%3E">logs</a>'
    )
    // a target that is not http(s) is shown, not linked
    expect(link('logs', 'javascript:alert(1)')).toBe('logs: javascript:alert(1)')
    expect(safeHref('/relative')).toBeUndefined()
    expect(code('<b>').markup).toBe('<code>&lt;b&gt;</code>')
    expect(joined(['a<b', '', link('run 1', 'https://github.com/r')], ' · ').markup).toBe(
      'a&lt;b · <a href="https://github.com/r">run 1</a>'
    )
    expect(joined(['x', 'y'], 'line').markup).toBe('x<br>y')
    // a cell is one line: a blank line would end the table's HTML and start Markdown
    expect(render(link('x\n\n![t](https://evil.example/p.png)', 'https://e.example'))).toBe(
      '<a href="https://e.example/">x\\n\\n![t](https://evil.example/p.png)</a>'
    )
    expect(code('a\r\n\r\n<img>').markup).toBe('<code>a\\n\\n&lt;img&gt;</code>')
    expect(joined(['2026-12-04\n\n![x](https://evil.example)'], ' ').markup).not.toMatch(/\n/)
  })
})

describe('shownUrl: a URL from outside, without its credentials', () => {
  test.each([
    ['https://ci:hunter2@logs.example.com/x?q=a@b', 'https://***@logs.example.com/x?q=a@b'],
    ['https://logs.example.com/x?email=a@b.com', 'https://logs.example.com/x?email=a@b.com'],
    ['not a url', 'not a url'],
    ['ci:hunter2@logs.example.com:44x', '***@logs.example.com:44x']
  ])('%j → %j', (raw, shown) => {
    expect(shownUrl(raw)).toBe(shown)
    expect(shownUrl(raw)).not.toContain('hunter2')
  })
})
