// The GraphQL documents the project sends to `jobsQuery` (GET .../jobs?query=...). They live in
// one place so that a test can validate each against the official schema
// (../shared/reference/vdk-jobs-query-schema.graphqls) and run it against the local service.
// Pages are 1-based on the real service: every query passes pageNumber explicitly.

/** The deployment of one job: live version, status (NONE / SUCCESS / USER_ERROR / PLATFORM_ERROR). */
export const DEPLOYMENT_STATUS_QUERY = `query DeploymentStatus($job: String!, $team: String!) {
  jobs(
    pageNumber: 1
    pageSize: 100
    filter: [{ property: "jobName", pattern: $job }, { property: "config.team", pattern: $team }]
  ) {
    content {
      jobName
      config { team }
      deployments {
        status
        jobVersion
        jobPythonVersion
        enabled
        lastDeployedDate
        lastDeployedBy
      }
    }
  }
}`

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

/** The jobs of a team (the `pattern` is a case-insensitive "contains", so callers re-check the team). */
export const TEAM_JOBS_QUERY = `query TeamJobs($team: String!, $page: Int!, $size: Int!) {
  jobs(pageNumber: $page, pageSize: $size, filter: [{ property: "config.team", pattern: $team }]) {
    content {
      jobName
      config { team description schedule { scheduleCron } }
      deployments { status jobVersion enabled lastExecutionStatus }
    }
    totalItems
    totalPages
  }
}`

export const QUERIES = {
  DeploymentStatus: DEPLOYMENT_STATUS_QUERY,
  LatestExecutions: LATEST_EXECUTIONS_QUERY,
  TeamJobs: TEAM_JOBS_QUERY
} as const
