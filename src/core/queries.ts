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

export const QUERIES = {
  LatestExecutions: LATEST_EXECUTIONS_QUERY,
  TeamJobs: TEAM_JOBS_QUERY
} as const
