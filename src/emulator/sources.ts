// Job sources, stored the way git stores them: each file's content once under its hash, each tree
// as a manifest. Upload streams the request body to a temporary file (the zip's central directory
// is at its end), then reads it entry by entry; nothing is held in memory whole.
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream, existsSync, mkdirSync } from 'node:fs'
import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import yauzl from 'yauzl'
import yazl from 'yazl'

export interface TreeFile {
  path: string
  mode: number
  sha1: string
  size: number
}

export interface IngestResult {
  tree: string
  files: TreeFile[]
  bytes: number
}

/** A problem with the uploaded archive itself: the service answers 400 with this text. */
export class ArchiveError extends Error {}

export class SourceStore {
  private readonly blobs: string
  private readonly trees: string
  private readonly tmp: string

  constructor(readonly dir: string) {
    this.blobs = join(dir, 'blobs')
    this.trees = join(dir, 'trees')
    this.tmp = join(dir, 'tmp')
    for (const d of [this.blobs, this.trees, this.tmp]) mkdirSync(d, { recursive: true })
  }

  private tmpName(): string {
    return join(this.tmp, randomBytes(8).toString('hex'))
  }

  /** Reads a zip from `body` and stores its files; the archive must hold one top-level folder. */
  async ingest(body: Readable): Promise<IngestResult> {
    const zipPath = this.tmpName()
    try {
      await pipeline(body, createWriteStream(zipPath))
      return await this.readZip(zipPath)
    } finally {
      await rm(zipPath, { force: true })
    }
  }

  private async readZip(zipPath: string): Promise<IngestResult> {
    let zip: yauzl.ZipFile
    try {
      zip = await yauzl.openPromise(zipPath, { lazyEntries: true, validateEntrySizes: true })
    } catch (e) {
      throw new ArchiveError(`the body is not a readable zip archive (${(e as Error).message})`)
    }
    const tops = new Set<string>()
    const files: TreeFile[] = []
    let bytes = 0
    try {
      for await (const entry of entries(zip)) {
        const name = entry.fileName.replace(/\\/g, '/')
        const [top, ...rest] = name.split('/')
        tops.add(rest.length ? `${top}/` : top)
        if (name.endsWith('/') || rest.length === 0) continue
        const stored = await this.storeBlob(await zip.openReadStreamPromise(entry))
        const unixMode = (entry.externalFileAttributes >>> 16) & 0o777
        files.push({ path: rest.join('/'), mode: unixMode & 0o111 ? 0o755 : 0o644, ...stored })
        bytes += stored.size
      }
    } catch (e) {
      if (e instanceof ArchiveError) throw e
      throw new ArchiveError(`the zip archive is corrupt (${(e as Error).message})`)
    } finally {
      zip.close()
    }
    if (tops.size === 0) throw new ArchiveError('the zip archive is empty')
    const folders = [...tops].filter(t => t.endsWith('/'))
    if (tops.size > 1 || folders.length !== 1) {
      const shown = [...tops].slice(0, 5).join(', ')
      throw new ArchiveError(
        `the zip archive must hold exactly one top-level folder with the job's files, but its top level has ${tops.size} entries (${shown})`
      )
    }
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    const tree = treeHash(files)
    const treeFile = join(this.trees, `${tree}.json`)
    if (!existsSync(treeFile)) await writeFile(treeFile, JSON.stringify(files))
    return { tree, files, bytes }
  }

  private async storeBlob(content: Readable): Promise<{ sha1: string; size: number }> {
    const tmp = this.tmpName()
    const hash = createHash('sha1')
    let size = 0
    content.on('data', (chunk: Buffer) => {
      hash.update(chunk)
      size += chunk.length
    })
    await pipeline(content, createWriteStream(tmp))
    const sha1 = hash.digest('hex')
    const target = join(this.blobs, sha1)
    if (existsSync(target)) await rm(tmp, { force: true })
    else await rename(tmp, target)
    return { sha1, size }
  }

  async tree(tree: string): Promise<TreeFile[]> {
    return JSON.parse(await readFile(join(this.trees, `${tree}.json`), 'utf8')) as TreeFile[]
  }

  /** The stored tree as a zip whose single top folder is the job's name, as the service serves it. */
  async zip(tree: string, topFolder: string, mtime: Date): Promise<Readable> {
    const files = await this.tree(tree)
    const out = new yazl.ZipFile()
    out.addEmptyDirectory(`${topFolder}/`, { mtime })
    for (const f of files) {
      out.addReadStreamLazy(`${topFolder}/${f.path}`, { mtime, mode: f.mode, size: f.size }, cb =>
        cb(null, createReadStream(join(this.blobs, f.sha1)))
      )
    }
    out.end()
    return out.outputStream as Readable
  }
}

/** Git-like: the same files with the same modes give the same hash, whatever the zip looked like. */
export function treeHash(files: TreeFile[]): string {
  const h = createHash('sha1')
  for (const f of files) h.update(`${f.mode.toString(8)} ${f.sha1} ${f.path}\n`)
  return h.digest('hex')
}

async function* entries(zip: yauzl.ZipFile): AsyncGenerator<yauzl.Entry> {
  const queue: Array<yauzl.Entry | Error | null> = []
  let wake: (() => void) | undefined
  const push = (v: yauzl.Entry | Error | null): void => {
    queue.push(v)
    wake?.()
  }
  zip.on('entry', (e: yauzl.Entry) => push(e))
  zip.on('end', () => push(null))
  zip.on('error', (e: Error) => push(e))
  zip.readEntry()
  for (;;) {
    while (queue.length === 0) await new Promise<void>(r => (wake = r))
    const next = queue.shift()
    if (next === null || next === undefined) return
    if (next instanceof Error) throw next
    yield next
    zip.readEntry()
  }
}
