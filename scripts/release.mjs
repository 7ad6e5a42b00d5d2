// The release steps a maintainer (or .github/workflows/release.yml) runs for a tag vX.Y.Z:
//
//   node scripts/release.mjs check vX.Y.Z [--notes <file>]
//       the tag is vMAJOR.MINOR.PATCH, package.json's version is MAJOR.MINOR.PATCH, and
//       CHANGELOG.md has a section "## [MAJOR.MINOR.PATCH]"; with --notes, that section's text is
//       written to <file> (the GitHub release's notes)
//   node scripts/release.mjs move-major vX.Y.Z [--remote <name>] [--dry-run]
//       points the major tag vMAJOR at the commit of vX.Y.Z and pushes it (force: it moves), unless
//       a higher release of the same major exists (re-running an old release never moves v1 back)
//
// One line on every refusal, exit code 1. Run from the repository (git's working directory).
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const TAG = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/

class ReleaseError extends Error {}

/** The numbers of a release tag, or a refusal naming the form. */
export function parseTag(tag) {
  const m = TAG.exec(tag ?? '')
  if (!m)
    throw new ReleaseError(`'${tag ?? ''}' is not a release tag: vMAJOR.MINOR.PATCH, e.g. v1.2.3`)
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), version: tag.slice(1) }
}

/** The text of CHANGELOG.md's section for `version` (between its heading and the next one). */
export function releaseNotes(changelog, version) {
  const lines = changelog.split('\n')
  const start = lines.findIndex(l => l.startsWith(`## [${version}]`))
  if (start < 0) throw new ReleaseError(`CHANGELOG.md has no section "## [${version}]"`)
  const end = lines.findIndex((l, i) => i > start && l.startsWith('## '))
  const notes = lines
    .slice(start + 1, end < 0 ? undefined : end)
    .join('\n')
    .trim()
  if (!notes) throw new ReleaseError(`CHANGELOG.md's section "## [${version}]" is empty`)
  return notes
}

/** check: the tag, package.json and the changelog agree; the notes. */
export function check(dir, tag) {
  const { version } = parseTag(tag)
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  if (pkg.version !== version)
    throw new ReleaseError(`package.json's version is ${pkg.version}, the tag says ${version}`)
  return releaseNotes(readFileSync(join(dir, 'CHANGELOG.md'), 'utf8'), version)
}

const git = (dir, args) =>
  execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

/** Compares two parsed tags: negative when a is older. */
const order = (a, b) => a.major - b.major || a.minor - b.minor || a.patch - b.patch

/**
 * move-major: the major tag to the tag's commit, unless a newer release of that major is tagged
 * (then nothing moves and it says so). Returns what it did, one line.
 */
export function moveMajor(dir, tag, { remote = 'origin', dryRun = false } = {}) {
  const release = parseTag(tag)
  const major = `v${release.major}`
  const newer = git(dir, ['tag', '--list', `${major}.*`])
    .split('\n')
    .filter(t => TAG.test(t))
    .map(t => ({ tag: t, ...parseTag(t) }))
    .filter(t => order(t, release) > 0)
    .sort(order)
  if (newer.length) return `${major} stays: ${newer[newer.length - 1].tag} is newer than ${tag}`
  let commit
  try {
    commit = git(dir, ['rev-parse', '--verify', `refs/tags/${tag}^{commit}`]).trim()
  } catch {
    throw new ReleaseError(`there is no tag ${tag} in this repository`)
  }
  if (dryRun) return `${major} would move to ${tag} (${commit.slice(0, 12)})`
  git(dir, ['tag', '--force', major, commit])
  git(dir, ['push', '--force', remote, `refs/tags/${major}`])
  return `${major} moved to ${tag} (${commit.slice(0, 12)}) and pushed to ${remote}`
}

function main(argv) {
  const [command, tag, ...rest] = argv
  const option = name => {
    const i = rest.indexOf(name)
    return i < 0 ? undefined : rest[i + 1]
  }
  if (command === 'check') {
    const notes = check(process.cwd(), tag)
    const file = option('--notes')
    if (file) writeFileSync(file, `${notes}\n`)
    console.log(`${tag}: package.json and CHANGELOG.md agree`)
  } else if (command === 'move-major') {
    console.log(
      moveMajor(process.cwd(), tag, {
        remote: option('--remote') ?? 'origin',
        dryRun: rest.includes('--dry-run')
      })
    )
  } else {
    throw new ReleaseError('usage: node scripts/release.mjs check|move-major vX.Y.Z [options]')
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    main(process.argv.slice(2))
  } catch (e) {
    const text = e instanceof ReleaseError ? e.message : String(e.stderr || e.message)
    console.error(`release: ${text.trim().split('\n')[0]}`)
    process.exit(1)
  }
}
