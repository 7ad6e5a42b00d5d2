// changed-jobs' `deleted` output, read back as an input by the actions that act on it (plan,
// prune): one reader, so that both take and refuse the same entries with the same words.
import type { InputSource, Problems } from '../core/inputs.js'
import { JOB_NAME_RULE } from '../core/jobrules.js'
import { hasControl } from '../core/text.js'

/** A job whose folder is gone: its name, and the folder's path at the base, when given. */
export interface DeletedJobInput {
  name: string
  path?: string
}

/**
 * `deleted`: a JSON list of {"path", "name"} (none when the input is empty), each name a valid
 * job name and each path one line of text; a name listed twice is taken once. Problems are the
 * input's, one per bad entry.
 */
export function readDeletedInput(inputs: InputSource, problems: Problems): DeletedJobInput[] {
  const raw = inputs.input('deleted')
  if (!raw) return []
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch {
    problems.add('deleted', 'is not JSON: pass the deleted output of changed-jobs as it is')
    return []
  }
  if (!Array.isArray(value)) {
    problems.add('deleted', 'must be a JSON list of {"path", "name"}, as changed-jobs writes it')
    return []
  }
  const jobs: DeletedJobInput[] = []
  for (const [i, entry] of (value as unknown[]).entries()) {
    const { name, path } = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<
      string,
      unknown
    >
    if (typeof name !== 'string' || !JOB_NAME_RULE.test(name))
      problems.add('deleted', `entry ${i + 1} has no valid job name (expected {"path", "name"})`)
    else if (path !== undefined && (typeof path !== 'string' || hasControl(path)))
      problems.add('deleted', `entry ${i + 1} has a path that is not one line of text`)
    else if (!jobs.some(j => j.name === name)) jobs.push({ name, path: path || undefined })
  }
  return jobs
}
