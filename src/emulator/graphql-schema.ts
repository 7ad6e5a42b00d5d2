// The schema of the jobsQuery GraphQL, written for this emulator from the official one: a subset
// of its types and fields, each with the type it has there (graphql-schema.test.ts checks that
// against the official schema). The resolvers are in graphql.ts.
import { buildSchema, type GraphQLSchema } from 'graphql'

const SDL = /* GraphQL */ `
  scalar DateTime

  type Query {
    jobs(pageNumber: Int = 0, pageSize: Int = 20, filter: [Predicate], search: String): DataJobPage
    executions(
      pageNumber: Int
      pageSize: Int
      filter: DataJobExecutionFilter
      order: DataJobExecutionOrder
    ): DataJobExecutionResponse
  }

  enum Direction {
    ASC
    DESC
  }

  input Predicate {
    property: String
    pattern: String
    sort: Direction
  }

  input DataJobExecutionFilter {
    startTimeGte: DateTime
    endTimeGte: DateTime
    statusIn: [DataJobExecutionStatus]
    jobNameIn: [String]
    teamNameIn: [String]
    startTimeLte: DateTime
    endTimeLte: DateTime
  }

  input DataJobExecutionOrder {
    property: String
    direction: Direction
  }

  enum DataJobDeploymentStatus {
    NONE
    SUCCESS
    PLATFORM_ERROR
    USER_ERROR
  }

  enum DataJobExecutionStatus {
    SUBMITTED
    RUNNING
    SUCCEEDED
    CANCELLED
    SKIPPED
    USER_ERROR
    PLATFORM_ERROR
  }

  enum DataJobExecutionType {
    MANUAL
    SCHEDULED
  }

  type DataJobPage {
    content: [DataJob]
    totalPages: Int
    totalItems: Int
  }

  type DataJobExecutionResponse {
    content: [DataJobExecution]
    totalPages: Int
    totalItems: Int
  }

  type DataJob {
    jobName: String
    config: DataJobConfig
    deployments: [DataJobDeployment]
  }

  type DataJobConfig {
    team: String
    description: String
    schedule: DataJobSchedule
    contacts: DataJobContacts
    generateKeytab: Boolean
    sourceUrl: String
    logsUrl: String
  }

  type DataJobSchedule {
    scheduleCron: String
    nextRunEpochSeconds: Int
  }

  type DataJobContacts {
    notifiedOnJobFailureUserError: [String]
    notifiedOnJobFailurePlatformError: [String]
    notifiedOnJobSuccess: [String]
    notifiedOnJobDeploy: [String]
  }

  type DataJobDeployment {
    id: String
    enabled: Boolean
    jobVersion: String
    jobPythonVersion: String
    lastDeployedDate: String
    lastDeployedBy: String
    mode: String
    schedule: DataJobSchedule
    vdkVersion: String
    executions(
      pageNumber: Int
      pageSize: Int
      filter: DataJobExecutionFilter
      order: DataJobExecutionOrder
    ): [DataJobExecution]
    status: DataJobDeploymentStatus
    lastExecutionStatus: DataJobExecutionStatus
    lastExecutionTime: String
    lastExecutionDuration: Int
    successfulExecutions: Int
    failedExecutions: Int
  }

  type DataJobExecutionDeployment {
    id: String
    enabled: Boolean
    jobVersion: String
    jobPythonVersion: String
    deployedDate: String
    deployedBy: String
    mode: String
    schedule: DataJobSchedule
    vdkVersion: String
    status: DataJobDeploymentStatus
  }

  type DataJobExecution {
    id: String
    type: DataJobExecutionType
    jobName: String
    status: DataJobExecutionStatus
    startTime: String
    endTime: String
    startedBy: String
    message: String
    opId: String
    logsUrl: String
  }
`

let cached: GraphQLSchema | undefined
export const jobsQuerySchema = (): GraphQLSchema => (cached ??= buildSchema(SDL))
