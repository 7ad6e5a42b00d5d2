// The job summary's cell cut (runtime.ts cutMarkup), in process: cut at a boundary, never inside
// a tag or an entity, with a tag left open closed. The whole summary's cap is tested end to end in
// set-properties.e2e.test.ts.
import { code, cutMarkup, joined, link } from '../../src/actions/runtime.js'

const markup = (cell: ReturnType<typeof joined>): string => cell.markup

test('markup within the limit is left as it is', () => {
  const m = markup(joined([code('a<b'), 'x & y'], ' · '))
  expect(cutMarkup(m, m.length)).toBe(m)
})

test.each([
  [5, '<code>&quot;abc&quot;</code>', ' … (cut)'],
  [12, '<code>&quot;abc&quot;</code>', '<code>&quot;</code> … (cut)'],
  [14, '<code>&quot;abc&quot;</code>', '<code>&quot;ab</code> … (cut)'],
  [10, 'a &amp; b &lt; c', 'a &amp; b  … (cut)']
])('cut at %d: %s', (max, m, cut) => {
  expect(cutMarkup(m, max)).toBe(cut)
})

test('a link cut inside its text is closed; one before the cut stays whole', () => {
  const m = markup(joined([link('logs', 'https://x.example.com/l'), code('x'.repeat(50))], ' · '))
  const cut = cutMarkup(m, 60)
  expect(cut).toBe('<a href="https://x.example.com/l">logs</a> · <code>xxxxxxxxx</code> … (cut)')
  const inLink = cutMarkup(m, 36)
  expect(inLink).toBe('<a href="https://x.example.com/l">lo</a> … (cut)')
})

test('a surrogate pair is not split', () => {
  expect(cutMarkup(`ab${'😀'.repeat(10)}`, 5)).toBe('ab😀 … (cut)')
})
