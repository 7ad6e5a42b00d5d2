// The jobsQuery GraphQL: the emulator's schema must be consistent with the official one, and every
// query the project sends must validate against the official schema.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  buildSchema,
  isEnumType,
  isInputObjectType,
  isObjectType,
  parse,
  validate,
  type GraphQLSchema
} from 'graphql'
import { QUERIES } from '../../src/core/queries.js'
import { jobsQuerySchema } from '../../src/emulator/graphql-schema.js'
import { ROOT } from '../helpers/service.js'

const OFFICIAL = join(ROOT, '..', 'shared', 'reference', 'vdk-jobs-query-schema.graphqls')
const present = existsSync(OFFICIAL)
if (!present)
  console.warn(
    `SKIPPED: the official GraphQL schema is not at ${OFFICIAL} (../shared/reference beside the repo)`
  )
const describeIfSchema = present ? describe : describe.skip

describeIfSchema('jobsQuery schema', () => {
  let official: GraphQLSchema
  beforeAll(() => {
    official = buildSchema(readFileSync(OFFICIAL, 'utf8'))
  })

  test.each(Object.entries(QUERIES))(
    'the project query %s validates against the official schema',
    (_name, query) => {
      expect(validate(official, parse(query)).map(e => e.message)).toEqual([])
    }
  )

  test.each(Object.entries(QUERIES))(
    'the project query %s validates against the emulator schema',
    (_name, query) => {
      expect(validate(jobsQuerySchema(), parse(query)).map(e => e.message)).toEqual([])
    }
  )

  test('every type, field, argument and enum value of the emulator exists in the official schema, with the same type', () => {
    const ours = jobsQuerySchema()
    const problems: string[] = []
    let fields = 0
    for (const [name, type] of Object.entries(ours.getTypeMap())) {
      if (name.startsWith('__') || ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(name))
        continue
      const theirs = official.getType(name)
      if (!theirs) {
        problems.push(`type ${name} is not in the official schema`)
        continue
      }
      if (theirs.constructor !== type.constructor)
        problems.push(`${name} is a different kind of type`)
      if (isEnumType(type) && isEnumType(theirs)) {
        const values = new Set(theirs.getValues().map(v => v.name))
        for (const v of type.getValues())
          if (!values.has(v.name)) problems.push(`enum value ${name}.${v.name} is not official`)
      }
      if (
        (isObjectType(type) && isObjectType(theirs)) ||
        (isInputObjectType(type) && isInputObjectType(theirs))
      ) {
        const official = theirs.getFields() as Record<
          string,
          {
            type: unknown
            args?: ReadonlyArray<{ name: string; type: unknown; defaultValue: unknown }>
          }
        >
        for (const [fname, field] of Object.entries(type.getFields())) {
          fields++
          const other = official[fname]
          if (!other) {
            problems.push(`${name}.${fname} is not in the official schema`)
            continue
          }
          if (String(field.type) !== String(other.type))
            problems.push(
              `${name}.${fname}: ${String(field.type)} ≠ official ${String(other.type)}`
            )
          for (const arg of 'args' in field ? field.args : []) {
            const o = other.args?.find(a => a.name === arg.name)
            if (!o) problems.push(`${name}.${fname}(${arg.name}) is not official`)
            else if (String(arg.type) !== String(o.type) || arg.defaultValue !== o.defaultValue) {
              problems.push(`${name}.${fname}(${arg.name}) differs from the official argument`)
            }
          }
        }
      }
    }
    expect(problems).toEqual([])
    expect(fields).toBeGreaterThan(60)
  })

  test('the root fields and the deployment status are served', () => {
    const query = jobsQuerySchema().getQueryType()?.getFields() ?? {}
    expect(Object.keys(query).sort()).toEqual(['executions', 'jobs'])
    const deployment = jobsQuerySchema().getType('DataJobDeployment')
    expect(isObjectType(deployment) && Object.keys(deployment.getFields())).toEqual(
      expect.arrayContaining(['status', 'jobVersion', 'executions'])
    )
  })
})
