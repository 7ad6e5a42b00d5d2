// The job summary's table: cells of text or of markup made only by the helpers here (each escapes
// what it is given), each cell cut at a boundary, and the whole kept under what GitHub takes.
// Where the rendered table goes (the runner's summary file, or a test's record) is sinks.ts's.
import { escapeHtml, inert, safeHref } from '../core/text.js'

/**
 * A summary cell: plain text (escaped when written, whatever it holds), or markup made only by
 * `link`, `code` and `joined` below, which escape what they are given.
 */
export type Cell = string | Markup
export interface Markup {
  readonly markup: string
}

/**
 * Text for a cell: one line (a blank line would end the table's HTML block, and what follows it
 * would be read as Markdown: images, links), then escaped.
 */
const text = (s: string): string => escapeHtml(inert(s))

const render = (cell: Cell): string => (typeof cell === 'string' ? text(cell) : cell.markup)

/** A link; a target that is not an http(s) URL is shown as text, not followed. */
export function link(label: string, href: string): Cell {
  const target = safeHref(href)
  return target ? { markup: `<a href="${target}">${text(label)}</a>` } : `${label}: ${href}`
}

export const code = (s: string): Markup => ({ markup: `<code>${text(s)}</code>` })

/** Cells in one, the non-empty ones, with `separator` (' · ', or 'line' for one per line). */
export function joined(cells: Cell[], separator: string): Markup {
  const sep = separator === 'line' ? '<br>' : escapeHtml(separator)
  return {
    markup: cells
      .filter(c => (typeof c === 'string' ? c !== '' : c.markup !== ''))
      .map(render)
      .join(sep)
  }
}

export interface SummaryTable {
  heading: string
  columns: string[]
  rows: Cell[][]
}

/**
 * What the job summary may take: GitHub refuses a step summary over 1 MiB whole ("$GITHUB_STEP_SUMMARY
 * upload aborted, supports content up to a size of 1024k"), so ours stays at half of it, and one
 * cell (a property's value, a step's rows in the pipeline's table) at a few screens.
 */
export const SUMMARY_LIMITS = { bytes: 512 * 1024, cellChars: 4096 }

/**
 * A cell's markup cut to `max` characters at a boundary: never inside a tag or an entity, and a
 * <code> or <a> left open is closed. The markup is flat (link, code and joined make it: text,
 * entities, <code>…</code>, <a …>…</a> and <br>, no tag inside another), so this is enough.
 */
export function cutMarkup(markup: string, max: number): string {
  if (markup.length <= max) return markup
  let out = ''
  let open: string | undefined
  for (const [token] of markup.matchAll(/<[^>]*>|&[#\w]+;|[^<&]+|[<&]/g)) {
    if (out.length + token.length > max) {
      // text may be cut anywhere but inside a surrogate pair
      if (!/^[<&]./.test(token))
        out += token.slice(0, max - out.length).replace(/[\ud800-\udbff]$/, '')
      break
    }
    out += token
    const tag = /^<(\/?)(code|a)\b/.exec(token)
    if (tag) open = tag[1] ? undefined : tag[2]
  }
  return `${out}${open ? `</${open}>` : ''} … (cut)`
}

/** A row as written: each cell's markup, or the note of the rows left out (one cell across). */
export type SummaryRow = Array<string | { data: string; colspan: string }>

/** The table as it is written: escaped heading and columns, cut cells, rows within the limit. */
export interface RenderedSummary {
  heading: string
  columns: string[]
  rows: SummaryRow[]
}

export function renderSummary(table: SummaryTable): RenderedSummary {
  const { bytes, cellChars } = SUMMARY_LIMITS
  // the heading, the header row, and 1 KiB for the tags around them and the note of rows left out
  let left =
    bytes -
    1024 -
    [table.heading, ...table.columns].reduce((n, t) => n + Buffer.byteLength(escapeHtml(t)) + 9, 0)
  const rows: SummaryRow[] = []
  for (const r of table.rows) {
    const cells = r.map(cell => cutMarkup(render(cell), cellChars) || '—')
    const size = cells.reduce((n, c) => n + Buffer.byteLength(c) + 9, 9)
    if (size > left) break
    left -= size
    rows.push(cells)
  }
  const unshown = table.rows.length - rows.length
  if (unshown)
    rows.push([
      {
        data: escapeHtml(
          `… ${unshown} more row(s) not shown: a job summary is limited to ${bytes / 1024} KiB here`
        ),
        colspan: String(table.columns.length)
      }
    ])
  return { heading: escapeHtml(table.heading), columns: table.columns.map(escapeHtml), rows }
}
