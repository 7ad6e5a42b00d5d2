// What the plan says, three ways from one record: the `changes` output (JSON, its shape documented
// in actions/plan/README.md), the job summary's table, and the pull-request comment (Markdown
// around the same table's escaped cells, with a hidden marker to find it again).
import type { FileProblem } from '../core/errors.js'
import type { ChangedFile } from '../core/git.js'
import { relativeToWorkspace } from '../core/inputs.js'
import type { FieldChange } from './plan-live.js'
import { kind, type PropertyChange } from './property-values.js'
import { shownValue } from './shown-values.js'
import { escapeHtml, inert, safeHref } from '../core/text.js'
import { summaryRow } from './set-properties.js'
import { renderSummary, type Cell, type SummaryTable } from './summary.js'
import { code, joined } from './runtime.js'

/** The plan of one job. */
export interface JobPlan {
  name: string
  path: string
  team?: string
  /** A changed job folder, or one the change deletes. */
  folder: 'changed' | 'deleted'
  /** On the service now: `unknown` when it was not read. */
  job: 'exists' | 'absent' | 'unknown'
  /** The live deployment's version and state, when one was read. */
  deployed?: { version?: string; enabled?: boolean }
  /** The files changed in the folder (paths inside it); undefined when not compared. */
  files?: ChangedFile[]
  config: FieldChange[]
  deployment: FieldChange[]
  properties: PropertyChange[]
  problems: FileProblem[]
  /** What could not be planned, and why. */
  notes: string[]
}

/** Whether merging changes anything of the job on the Control Service. */
export function changes(job: JobPlan): boolean {
  if (job.folder === 'deleted') return job.job === 'exists'
  return (
    job.job !== 'exists' ||
    (job.files?.length ?? 1) > 0 ||
    job.config.length + job.deployment.length + job.properties.length > 0
  )
}

/** A property change as the outputs carry it: the type, and values only as set-properties shows them. */
function propertyJson(p: PropertyChange, showValues: boolean): object {
  const types = [...new Set([p.before, p.after].filter(v => v !== undefined).map(kind))]
  const values = (v: unknown): string | undefined =>
    v === undefined ? undefined : shownValue(p.key, v)
  return showValues
    ? {
        key: p.key,
        change: p.change,
        type: types.join(' → '),
        before: values(p.before),
        after: values(p.after)
      }
    : { key: p.key, change: p.change, type: types.join(' → ') }
}

/** The `changes` output. */
export function changesJson(jobs: JobPlan[], live: boolean, showValues: boolean): string {
  return JSON.stringify({
    live,
    jobs: jobs.map(j => ({
      name: j.name,
      path: j.path,
      team: j.team ?? null,
      folder: j.folder,
      job: j.job,
      changes: changes(j),
      deployed: j.deployed ?? null,
      files: j.files ?? null,
      config: j.config,
      deployment: j.deployment,
      properties: j.properties.map(p => propertyJson(p, showValues)),
      problems: j.problems.map(p => ({
        file: relativeToWorkspace(p.file),
        line: p.line ?? null,
        message: p.message
      })),
      notes: j.notes
    }))
  })
}

/** At most this many changed files are named in a cell; the rest are counted. */
const FILES_SHOWN = 20

const fileCell = (files: ChangedFile[]): Cell =>
  joined(
    [
      ...files
        .slice(0, FILES_SHOWN)
        .map(f => joined([f.change, code(f.from ? `${f.from} → ${f.path}` : f.path)], ' ')),
      files.length > FILES_SHOWN ? `and ${files.length - FILES_SHOWN} more` : ''
    ],
    'line'
  )

const value = (v: string | undefined): Cell => (v === undefined ? '' : code(v))

/** The rows of one job: [job, change, before, after]. */
function jobRows(j: JobPlan, showValues: boolean): Cell[][] {
  const rows: Cell[][] = []
  const row = (...cells: Cell[]) => rows.push([j.name, ...cells])
  if (j.folder === 'deleted') {
    if (j.job === 'exists')
      row(
        j.deployed
          ? 'folder deleted: its deployment stays'
          : 'folder deleted: the job stays (not deployed)',
        j.deployed ? value(j.deployed.version) : '',
        'merging deletes nothing on the Control Service'
      )
    else if (j.job === 'absent') row('folder deleted', '', 'nothing on the Control Service')
  } else {
    if (j.job === 'absent') row('job created', '', `team ${j.team ?? '—'}`)
    if (j.files?.length)
      row('new sources', j.deployed ? value(j.deployed.version) : '', fileCell(j.files))
    for (const c of [...j.config, ...j.deployment])
      row(code(c.field), value(c.before), value(c.after))
    const property = summaryRow(showValues)
    for (const p of j.properties) {
      const cells = property(p.key, `property ${p.change}`, p.before, p.after)
      if (showValues) row(joined([cells[1], code(p.key)], ' '), cells[2], cells[3])
      else row(joined([cells[1], code(p.key)], ' '), '', cells[2])
    }
  }
  for (const p of j.problems)
    row('problem', '', `${relativeToWorkspace(p.file)}${p.line ? `:${p.line}` : ''}: ${p.message}`)
  for (const n of j.notes) row('not planned', '', n)
  if (!rows.length) row('no change', '', '')
  return rows
}

export function planTable(jobs: JobPlan[], showValues: boolean, skipped?: string): SummaryTable {
  const changed = jobs.filter(changes).length
  return {
    heading: `VDK plan: ${changed ? `${changed} data job(s) change` : 'nothing changes on the Control Service'}${skipped ? ' (Control Service not read)' : ''}`,
    columns: ['Job', 'Change', 'Now', 'After merging'],
    rows: jobs.flatMap(j => jobRows(j, showValues))
  }
}

/** GitHub's limit on a comment's body (characters): the REST API refuses a longer one. */
export const COMMENT_MAX = 65_536

/** The hidden first line that finds the plan's comment again: one per comment-key. */
export const commentMarker = (key: string): string =>
  `<!-- vdk-actions:plan${key ? ` key=${encodeURIComponent(key)}` : ''} -->`

/**
 * The comment: the marker, a heading, the note of what was not read, and the table's escaped
 * cells as an HTML table (rows that do not fit GitHub's limit are counted, not shown).
 */
export function commentBody(
  key: string,
  table: SummaryTable,
  o: { commit?: string; skipped?: string; run?: string }
): string {
  const rendered = renderSummary(table)
  const runHref = o.run ? safeHref(o.run) : undefined
  const head = [
    commentMarker(key),
    `### ${rendered.heading}`,
    '',
    ...(o.skipped ? [`> ${escapeLine(o.skipped)}`, ''] : [])
  ]
  const foot = [
    '',
    `<sub>${[o.commit ? `for commit ${escapeLine(o.commit.slice(0, 12))}` : '', runHref ? `<a href="${runHref}">workflow run</a>` : ''].filter(Boolean).join(' · ')} · updated on every push by vdk-actions/plan</sub>`
  ]
  const header = `<table><tr>${rendered.columns.map(c => `<th>${c}</th>`).join('')}</tr>`
  let body = ''
  let shown = 0
  const fixed = [...head, header, '</table>', ...foot].join('\n').length + 200
  for (const r of rendered.rows) {
    const line = `<tr>${r.map(c => (typeof c === 'string' ? `<td>${c}</td>` : `<td colspan="${c.colspan}">${c.data}</td>`)).join('')}</tr>\n`
    if (fixed + body.length + line.length > COMMENT_MAX) break
    body += line
    shown++
  }
  const more = rendered.rows.length - shown
  if (more)
    body += `<tr><td colspan="4">… ${more} more row(s): see the job summary of the run</td></tr>\n`
  return [...head, header, body + '</table>', ...foot].join('\n')
}

/** Text outside the table (a note, a commit) as one escaped line, as a cell's text is. */
const escapeLine = (s: string): string => escapeHtml(inert(s))
