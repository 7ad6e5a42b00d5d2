// Job sources, stored the way git stores them: each file's content once under its hash, each tree
// as a manifest. Upload streams the request body to a temporary file (the zip's central directory
// is at its end), then reads it entry by entry; nothing is held in memory whole. The body, the
// number of entries and what they inflate to are capped (SourceLimits), and each cap is checked
// before the bytes past it are written: a zip bomb is refused without filling the disk.
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream, existsSync, mkdirSync } from 'node:fs'
import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { once } from 'node:events'
import { finished, pipeline } from 'node:stream/promises'
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

/**
 * A problem with the uploaded archive itself: the service answers `status` with this text, 400
 * for a zip it cannot take, 413 for one over a limit.
 */
export class ArchiveError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 413 = 400
  ) {
    super(message)
  }
}

/**
 * How much one upload may hold. The real service sets no limit: the body is an
 * application/octet-stream `Resource` (DataJobsSourcesController.sourcesUpload), so Spring's
 * multipart limits (spring.servlet.multipart.*) do not apply and application.properties sets no
 * other, and FileUtils.unzipDataJob (…/service/upload/FileUtils.java) says it has no protection
 * against a zip bomb ("the pod may restart"). The defaults here take anything the actions send
 * (src/core/scan.ts: at most 4 GB of files in 65,533 entries, without ZIP64) and refuse a bomb.
 */
export interface SourceLimits {
  /** The largest request body, i.e. the zip (--max-upload-bytes). */
  uploadBytes: number
  /** The largest total of the files' inflated sizes (--max-sources-bytes). */
  filesBytes: number
  /** The most entries, files and folders (--max-sources-entries). */
  entries: number
  /** Past INFLATE_GRACE_BYTES, the files may inflate to at most this many times the zip's size;
   * 0: no such limit (--max-inflate-ratio). Deflate reaches about 1030 on zeros, source code 3-10. */
  inflateRatio: number
}

const GiB = 1024 ** 3
export const DEFAULT_SOURCE_LIMITS: SourceLimits = {
  uploadBytes: 5 * GiB,
  filesBytes: 5 * GiB,
  entries: 0xffff,
  inflateRatio: 100
}
/** Files may inflate this much whatever the ratio: a small zip of text compresses well. */
export const INFLATE_GRACE_BYTES = 64 * 1024 * 1024
/** The longest entry name: PATH_MAX of Linux, where the real service unpacks (FileUtils). */
const MAX_NAME_BYTES = 4096

export class SourceStore {
  private readonly blobs: string
  private readonly trees: string
  private readonly tmp: string

  constructor(
    readonly dir: string,
    private readonly limits: SourceLimits = DEFAULT_SOURCE_LIMITS
  ) {
    this.blobs = join(dir, 'blobs')
    this.trees = join(dir, 'trees')
    this.tmp = join(dir, 'tmp')
    for (const d of [this.blobs, this.trees, this.tmp]) mkdirSync(d, { recursive: true })
  }

  private tmpName(): string {
    return join(this.tmp, randomBytes(8).toString('hex'))
  }

  /**
   * Reads a zip from `body` and stores its files; the archive must hold one top-level folder.
   * `declaredBytes` (the Content-Length) over the limit is refused before a byte is read. Past a
   * limit, `body` is left as it is (not destroyed), so that the answer can still be sent on it.
   */
  async ingest(body: Readable, declaredBytes?: number): Promise<IngestResult> {
    if (declaredBytes !== undefined && declaredBytes > this.limits.uploadBytes) {
      throw this.tooLargeBody()
    }
    const zipPath = this.tmpName()
    try {
      return await this.readZip(zipPath, await this.receive(body, zipPath))
    } finally {
      await rm(zipPath, { force: true })
    }
  }

  private tooLargeBody(): ArchiveError {
    return new ArchiveError(
      `the zip archive is larger than ${this.limits.uploadBytes} bytes (--max-upload-bytes)`,
      413
    )
  }

  /** Writes `body` to `path`, never more than the upload limit; answers its size. */
  private async receive(body: Readable, path: string): Promise<number> {
    const out = createWriteStream(path)
    let size = 0
    try {
      for await (const chunk of body.iterator({
        destroyOnReturn: false
      }) as AsyncIterable<Buffer>) {
        size += chunk.length
        if (size > this.limits.uploadBytes) throw this.tooLargeBody()
        if (!out.write(chunk)) await once(out, 'drain')
      }
      out.end()
      await finished(out)
      return size
    } finally {
      out.destroy()
    }
  }

  /**
   * Reads the zip twice: first its central directory alone, which settles every refusal that
   * does not need the contents (limits, names, top-level folder), so that such an archive stores
   * nothing; then each file, inflated and stored, one at a time.
   */
  private async readZip(zipPath: string, zipBytes: number): Promise<IngestResult> {
    await this.withZip(zipPath, zip => this.survey(zip, zipBytes))
    return this.withZip(zipPath, zip => this.store(zip))
  }

  private async withZip<T>(zipPath: string, use: (zip: yauzl.ZipFile) => Promise<T>): Promise<T> {
    let zip: yauzl.ZipFile
    try {
      zip = await yauzl.openPromise(zipPath, { lazyEntries: true, validateEntrySizes: true })
    } catch (e) {
      throw new ArchiveError(`the body is not a readable zip archive (${(e as Error).message})`)
    }
    try {
      return await use(zip)
    } catch (e) {
      if (e instanceof ArchiveError) throw e
      throw new ArchiveError(`the zip archive is corrupt (${(e as Error).message})`)
    } finally {
      zip.close()
    }
  }

  /** Refuses an archive over a limit, with a name too long, or without one top-level folder. */
  private async survey(zip: yauzl.ZipFile, zipBytes: number): Promise<void> {
    const { entries: maxEntries, filesBytes, inflateRatio } = this.limits
    // the count is the central directory's: yauzl reads exactly that many entries
    if (zip.entryCount > maxEntries) {
      throw new ArchiveError(
        `the zip archive holds ${zip.entryCount} entries, more than ${maxEntries} (--max-sources-entries)`,
        413
      )
    }
    const ratioCap =
      inflateRatio > 0 ? Math.max(INFLATE_GRACE_BYTES, inflateRatio * zipBytes) : Infinity
    const tops = new Set<string>()
    /** What the entries say they inflate to; validateEntrySizes holds each to its word. */
    let declared = 0
    for await (const entry of entries(zip)) {
      if (entry.fileNameRaw.length > MAX_NAME_BYTES)
        throw new ArchiveError(`an entry's name is longer than ${MAX_NAME_BYTES} bytes`)
      declared += entry.uncompressedSize
      if (declared > filesBytes) {
        throw new ArchiveError(
          `its files inflate to more than ${filesBytes} bytes (--max-sources-bytes)`,
          413
        )
      }
      if (declared > ratioCap) {
        throw new ArchiveError(
          `its files inflate to more than ${ratioCap} bytes, over ${inflateRatio} times the ${zipBytes} bytes of the zip (--max-inflate-ratio): a zip bomb`,
          413
        )
      }
      const [top, ...rest] = entryName(entry).split('/')
      tops.add(rest.length ? `${top}/` : top)
    }
    if (tops.size === 0) throw new ArchiveError('the zip archive is empty')
    const folders = [...tops].filter(t => t.endsWith('/'))
    if (tops.size > 1 || folders.length !== 1) {
      const shown = [...tops].slice(0, 5).join(', ')
      throw new ArchiveError(
        `the zip archive must hold exactly one top-level folder with the job's files, but its top level has ${tops.size} entries (${shown})`
      )
    }
  }

  /** Stores the files of a surveyed archive and its tree. */
  private async store(zip: yauzl.ZipFile): Promise<IngestResult> {
    const files: TreeFile[] = []
    let bytes = 0
    for await (const entry of entries(zip)) {
      const name = entryName(entry)
      const rest = name.split('/').slice(1)
      if (name.endsWith('/') || rest.length === 0) continue
      const stored = await this.storeBlob(await zip.openReadStreamPromise(entry))
      const unixMode = (entry.externalFileAttributes >>> 16) & 0o777
      files.push({ path: rest.join('/'), mode: unixMode & 0o111 ? 0o755 : 0o644, ...stored })
      bytes += stored.size
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
    try {
      await pipeline(content, createWriteStream(tmp))
    } catch (e) {
      await rm(tmp, { force: true })
      throw e
    }
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

const entryName = (entry: yauzl.Entry): string => entry.fileName.replace(/\\/g, '/')

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
