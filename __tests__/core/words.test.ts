// Word inputs, in process: one rule for every input that takes one of a few words, booleans
// (parseBoolean) and choices (choice) alike: each word in lower, Title or UPPER case, as the YAML
// 1.2 core schema writes true and false (core.getBooleanInput's rule), and nothing else; the
// problem names the input and the words.
import { choice, parseBoolean, Problems } from '../../src/core/inputs.js'

const MODES = ['merge', 'replace'] as const
const LOGS = ['stream', 'on-failure', 'none'] as const

describe('parseBoolean', () => {
  test.each([
    ['true', true],
    ['True', true],
    ['TRUE', true],
    ['false', false],
    ['False', false],
    ['FALSE', false]
  ])('takes %j as %j', (raw, value) => {
    const problems = new Problems()
    expect(parseBoolean('wait', raw, !value, problems)).toBe(value)
    expect(problems.list).toEqual([])
  })

  test('takes an unset input as its default', () => {
    const problems = new Problems()
    expect(parseBoolean('wait', '', true, problems)).toBe(true)
    expect(parseBoolean('dry-run', '', false, problems)).toBe(false)
    expect(problems.list).toEqual([])
  })

  test.each(['tRUE', 'TRue', 'fALSE', 'yes', 'Yes', 'on', '1', 'y', 'true ', 'truee'])(
    'refuses %j, naming the input and the words',
    raw => {
      const problems = new Problems()
      parseBoolean('update-config', raw, true, problems)
      expect(problems.list).toEqual([`update-config must be true or false, not '${raw}'`])
    }
  )
})

describe('choice', () => {
  test.each([
    ['merge', 'merge'],
    ['Merge', 'merge'],
    ['MERGE', 'merge'],
    ['replace', 'replace'],
    ['Replace', 'replace'],
    ['REPLACE', 'replace']
  ])('takes %j as %j', (raw, value) => {
    const problems = new Problems()
    expect(choice('mode', raw, MODES, 'replace', problems)).toBe(value)
    expect(problems.list).toEqual([])
  })

  test('takes a word with a dash in its three casings', () => {
    const problems = new Problems()
    for (const raw of ['on-failure', 'On-failure', 'ON-FAILURE'])
      expect(choice('logs', raw, LOGS, 'stream', problems)).toBe('on-failure')
    expect(problems.list).toEqual([])
  })

  test('takes true, True and TRUE where true is one of the words (run-and-wait wait)', () => {
    const problems = new Problems()
    const words = ['true', 'false', 'running'] as const
    for (const raw of ['true', 'True', 'TRUE'])
      expect(choice('wait', raw, words, 'false', problems)).toBe('true')
    expect(choice('wait', 'Running', words, 'true', problems)).toBe('running')
    expect(problems.list).toEqual([])
  })

  test('takes an unset input as its default', () => {
    const problems = new Problems()
    expect(choice('mode', '', MODES, 'merge', problems)).toBe('merge')
    expect(problems.list).toEqual([])
  })

  test.each([
    ['mode', 'mErGe', MODES, "mode must be merge or replace, not 'mErGe'"],
    ['mode', 'MErge', MODES, "mode must be merge or replace, not 'MErge'"],
    ['mode', 'overwrite', MODES, "mode must be merge or replace, not 'overwrite'"],
    ['logs', 'On-Failure', LOGS, "logs must be one of stream, on-failure, none, not 'On-Failure'"],
    ['logs', 'on_failure', LOGS, "logs must be one of stream, on-failure, none, not 'on_failure'"]
  ] as const)('%s refuses %j, naming the input and the words', (name, raw, words, message) => {
    const problems = new Problems()
    expect(choice(name, raw, words, words[0], problems)).toBe(words[0])
    expect(problems.list).toEqual([message])
  })
})
