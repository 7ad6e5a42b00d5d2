// What drift says, two ways from one record: the `drift` output (JSON, its shape documented in
// actions/drift/README.md) and the job summary's table. Property values are never shown: a
// property's drift is its key, how it differs, and the types of its values.
import type { FieldChange } from './plan-live.js'
import { kind, type PropertyChange } from './property-values.js'
import { code, joined, type Cell, type SummaryTable } from './runtime.js'

/** One way a job differs from its folder. */
export type DriftKind =
  | 'job missing'
  | 'not deployed'
  | 'disabled'
  | 'config'
  | 'python version'
  | 'property'
  | 'deployed by'
  | 'no folder'

export interface DriftFinding {
  kind: DriftKind
  /** The config field, or the property's key. */
  field?: string
  /** What the service has (absent: nothing). */
  service?: string
  /** What the repository says (absent: nothing). */
  repository?: string
}

/** One job: a folder under jobs-root, or a job of the team that has none. */
export interface JobDrift {
  name: string
  /** The folder from the workspace; absent for a job of the team with no folder. */
  path?: string
  team?: string
  findings: DriftFinding[]
  /** What was not compared, and why (not drift). */
  notes: string[]
}

export const drifted = (j: JobDrift): boolean => j.findings.length > 0

/** A config or deployment field: the service's value against config.ini's. */
export const fieldFinding = (k: DriftKind, c: FieldChange): DriftFinding => ({
  kind: k,
  field: c.field,
  service: c.before,
  repository: c.after
})

/** A property: how the service's value differs from the file's, by type only. */
export const propertyFinding = (p: PropertyChange): DriftFinding => ({
  kind: 'property',
  field: p.key,
  service: p.before === undefined ? 'absent' : kind(p.before),
  repository:
    p.after === undefined
      ? 'absent'
      : p.change === 'changed'
        ? `${kind(p.after)}, another value`
        : kind(p.after)
})

/** The `drift` output. */
export function driftJson(jobs: JobDrift[], teams: string[]): string {
  return JSON.stringify({
    teams,
    jobs: jobs.map(j => ({
      name: j.name,
      path: j.path ?? null,
      team: j.team ?? null,
      drift: drifted(j),
      findings: j.findings.map(f => ({
        kind: f.kind,
        field: f.field ?? null,
        service: f.service ?? null,
        repository: f.repository ?? null
      })),
      notes: j.notes
    }))
  })
}

/** One log line a job. */
export function driftLine(j: JobDrift): string {
  if (!drifted(j))
    return `${j.name}: ${j.notes.length ? `not compared: ${j.notes.join('; ')}` : 'no drift'}`
  const what = j.findings.map(f => (f.field ? `${f.kind} ${f.field}` : f.kind))
  return `${j.name}: ${what.join(', ')}`
}

const value = (v: string | undefined): Cell => (v === undefined ? '' : code(v))

/** The words of a finding's row: [drift, on the service, in the repository]. */
function findingCells(f: DriftFinding, j: JobDrift): Cell[] {
  switch (f.kind) {
    case 'job missing':
      return ['job missing', `no job '${j.name}' in team ${j.team ?? '—'}`, value(j.path)]
    case 'not deployed':
      return ['not deployed', 'no deployment', 'a deployment']
    case 'disabled':
      return ['disabled', 'enabled: false', 'enabled: true']
    case 'no folder':
      return ['no folder', `a job of team ${j.team ?? '—'}`, 'no folder under jobs-root']
    case 'property':
      return [joined(['property', code(f.field ?? '')], ' '), f.service ?? '', f.repository ?? '']
    default:
      return [
        f.field ? joined([f.kind === 'config' ? '' : f.kind, code(f.field)], ' ') : f.kind,
        value(f.service),
        value(f.repository)
      ]
  }
}

export function driftTable(jobs: JobDrift[]): SummaryTable {
  const n = jobs.filter(drifted).length
  const rows: Cell[][] = []
  for (const j of jobs) {
    for (const f of j.findings) rows.push([j.name, ...findingCells(f, j)])
    for (const note of j.notes) rows.push([j.name, 'not compared', '', note])
    if (!j.findings.length && !j.notes.length) rows.push([j.name, 'no drift', '', ''])
  }
  return {
    heading: `VDK drift: ${n ? `${n} data job(s) differ from the repository` : 'no drift'}`,
    columns: ['Job', 'Drift', 'On the Control Service', 'In the repository'],
    rows
  }
}
