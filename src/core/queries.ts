// The GraphQL documents the project sends to `jobsQuery` (GET .../jobs?query=...). They live in
// one place so that a test can validate each against the official schema
// (../shared/reference/vdk-jobs-query-schema.graphqls) and run it against the local service.
// Pages are 1-based on the real service: every query passes pageNumber explicitly.

/** The latest executions of one job, newest first. */
export const LATEST_EXECUTIONS_QUERY = `query LatestExecutions($job: String!, $team: String!, $size: Int!) {
  executions(
    pageNumber: 1
    pageSize: $size
    filter: { jobNameIn: [$job], teamNameIn: [$team] }
    order: { property: "startTime", direction: DESC }
  ) {
    content { id status type startTime endTime startedBy message logsUrl }
    totalItems
  }
}`

/**
 * The jobs of a team. The real service reads the `config.team` pattern as a regular expression
 * (JobFieldStrategyByTeam), so a team holding `.` or `(` matches others or fails the query: a
 * caller re-checks the team, and nothing that must work for every team name relies on it.
 */
export const TEAM_JOBS_QUERY = `query TeamJobs($team: String!, $page: Int!, $size: Int!) {
  jobs(pageNumber: $page, pageSize: $size, filter: [{ property: "config.team", pattern: $team }]) {
    content {
      jobName
      config { team description schedule { scheduleCron } }
      deployments { jobVersion enabled lastExecutionStatus }
    }
    totalItems
    totalPages
  }
}`

/**
 * The names of a team's jobs, page by page in the order of their names (drift lists the jobs that
 * have no folder). A filter with a property and a sort but no pattern only orders
 * (FieldStrategy.filterProvided needs a pattern; JobFieldStrategyByName's comparator is the job
 * name): without it the real service orders by team alone, which leaves the order of one team's
 * jobs to the database, page after page. `$team` is a regular expression there: see teamPattern.
 */
export const TEAM_JOB_NAMES_QUERY = `query TeamJobNames($team: String!, $page: Int!, $size: Int!) {
  jobs(
    pageNumber: $page
    pageSize: $size
    filter: [{ property: "config.team", pattern: $team }, { property: "jobName", sort: ASC }]
  ) {
    content { jobName config { team } }
    totalPages
  }
}`

/**
 * The `config.team` pattern that matches `team` on the real service (JobFieldStrategyByTeam:
 * `%` becomes `.*`, then the lowercase team must match the pattern as a Java regular expression):
 * every character Java's regular expressions treat as syntax is escaped with a backslash (a
 * backslash before a character that is not a letter or digit always stands for the character
 * itself). A `%` still widens the match, so the caller keeps only the jobs of exactly its team.
 */
export const teamPattern = (team: string): string => team.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&')

export const QUERIES = {
  LatestExecutions: LATEST_EXECUTIONS_QUERY,
  TeamJobs: TEAM_JOBS_QUERY,
  TeamJobNames: TEAM_JOB_NAMES_QUERY
} as const
