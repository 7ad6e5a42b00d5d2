// The release steps (scripts/release.mjs, what .github/workflows/release.yml runs) on real git
// repositories in a temporary folder: a bare "origin" and a clone with tagged commits. The major
// tag moves to a new release and is pushed; re-running an older release of the same major leaves
// it where it is; a tag whose version package.json or CHANGELOG.md do not carry is refused in one
// line; the notes are the changelog's section.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { git, GIT_ENV } from './helpers/gitrepo.js'

const SCRIPT = join(import.meta.dirname, '..', 'scripts', 'release.mjs')
let root: string
let origin: string
let work: string

const release = (...args: string[]) =>
  spawnSync(process.execPath, [SCRIPT, ...args], {
    cwd: work,
    env: { ...process.env, ...GIT_ENV },
    encoding: 'utf8'
  })

/** A commit whose package.json says `version`, tagged v<version>. */
function commitRelease(version: string): string {
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'x', version }))
  git(work, 'add', '-A')
  git(work, 'commit', '-q', '-m', `release ${version}`)
  git(work, 'tag', `v${version}`)
  git(work, 'push', '-q', 'origin', 'HEAD', `refs/tags/v${version}`)
  return git(work, 'rev-parse', 'HEAD')
}

const remoteTag = (tag: string): string => git(origin, 'rev-parse', `refs/tags/${tag}^{commit}`)

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'release-'))
  origin = join(root, 'origin.git')
  work = join(root, 'work')
  git(root, 'init', '-q', '--bare', origin)
  git(root, 'clone', '-q', origin, work)
  writeFileSync(
    join(work, 'CHANGELOG.md'),
    '# Changelog\n\n## [Unreleased]\n\n## [1.1.0] - 2026-12-04\n\n- plan action\n\n## [1.0.0] - 2026-11-30\n\n- first release\n'
  )
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

test('the major tag follows each new release and is pushed; an older re-run does not move it back', () => {
  const first = commitRelease('1.0.0')
  let r = release('move-major', 'v1.0.0')
  expect(r.status).toBe(0)
  expect(r.stdout).toMatch(/^v1 moved to v1\.0\.0 \([0-9a-f]{12}\) and pushed to origin/)
  expect(remoteTag('v1')).toBe(first)

  const second = commitRelease('1.1.0')
  r = release('move-major', 'v1.1.0')
  expect(r.status).toBe(0)
  expect(remoteTag('v1')).toBe(second)

  r = release('move-major', 'v1.0.0')
  expect(r.status).toBe(0)
  expect(r.stdout.trim()).toBe('v1 stays: v1.1.0 is newer than v1.0.0')
  expect(remoteTag('v1')).toBe(second)
})

test('check: the notes are the changelog section of the version', () => {
  const notes = join(root, 'notes.md')
  const r = release('check', 'v1.1.0', '--notes', notes)
  expect(r.stderr).toBe('')
  expect(r.status).toBe(0)
  expect(readFileSync(notes, 'utf8')).toBe('- plan action\n')
})

test.each([
  ['1.1.0', "release: '1.1.0' is not a release tag: vMAJOR.MINOR.PATCH, e.g. v1.2.3"],
  ['v1.2.0', "release: package.json's version is 1.1.0, the tag says 1.2.0"],
  ['v01.1.0', "release: 'v01.1.0' is not a release tag: vMAJOR.MINOR.PATCH, e.g. v1.2.3"]
])('check refuses %s in one line', (tag, line) => {
  const r = release('check', tag)
  expect(r.status).toBe(1)
  expect(r.stderr).toBe(`${line}\n`)
})

test('a version without its changelog section is refused', () => {
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'x', version: '2.0.0' }))
  const r = release('check', 'v2.0.0')
  expect(r.status).toBe(1)
  expect(r.stderr).toBe('release: CHANGELOG.md has no section "## [2.0.0]"\n')
})

test('move-major of a tag that does not exist is refused, nothing pushed', () => {
  const before = remoteTag('v1')
  const r = release('move-major', 'v1.9.9')
  expect(r.status).toBe(1)
  expect(r.stderr).toBe('release: there is no tag v1.9.9 in this repository\n')
  expect(remoteTag('v1')).toBe(before)
})
