// The job's zip, streamed: one top folder, entries in sorted order, fixed timestamps and modes, so
// the same tree gives the same bytes (and the service the same version). Only upload bundles
// import this module.
//
// The writer is our own (the format part is a few dozen lines of headers: zipformat.ts) because
// the measured costs were in what a general zip library does around it: a JS CRC, one zlib stream
// per file fed in 64 KiB steps, one file at a time. Here small files are read whole, checksummed
// by zlib.crc32 and deflated a few at a time on libuv's thread pool while earlier ones are being
// sent; a file that deflate does not shrink is stored, as `zip` does; large files are streamed
// through one deflate stream with a data descriptor. What is held at once is bounded, however
// large the tree: AHEAD_BYTES of files read ahead, their deflated forms (at most as large), and the
// chunk being sent. A stored file's bytes are not kept ahead: they are read again when its turn
// comes (see Packed). Sizes and offsets must fit in 32 bits (no ZIP64): the
// scan refuses larger trees before any request (scan.ts, MAX_ENTRIES and MAX_BYTES), and the
// writer checks again.
import { constants as fs } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream'
import { constants, crc32, createDeflateRaw, type DeflateRaw } from 'node:zlib'
import { MAX_ENTRIES, type JobEntry } from './scan.js'
import {
  CentralDirectory,
  dataDescriptor,
  DATA_DESCRIPTOR,
  DEFLATED,
  DIR_MODE,
  endOfDirectory,
  FILE_TYPE,
  fits,
  localHeader,
  STORED,
  UTF8,
  type Entry
} from './zipformat.js'

/** Files up to this size are read whole and deflated in one step; larger ones are streamed. */
export const SMALL_FILE = 1024 * 1024
/** File data read ahead of the one being sent (at least one file is always read ahead). */
const AHEAD_BYTES = 4 * 1024 * 1024
/**
 * Files read ahead of the one being sent, at most, and deflate contexts, each used for file after
 * file (at most this many files are deflated at once). Few: a file's buffers that wait longer are
 * promoted and freed only by a full collection (see Packed). Measured by bench/upload.mjs on the
 * 1 GiB tree of 20,000 incompressible files (2 cores, shared): 16 files and 4 contexts peaked at
 * 116 MiB, 4 files and 2 contexts at 108 MiB, in the same wall time.
 */
const AHEAD_FILES = 4
const DEFLATERS = 2
const LEVEL = 6

export interface ZipStream {
  stream: Readable
  /** Bytes of the archive sent so far (all of it, once the stream has ended). */
  bytes(): number
}

/**
 * A file read and packed ahead: its CRC and sizes, and its deflated form when deflated. A stored
 * file's data is not kept (`data` undefined): it is read again when its turn comes, and its CRC
 * checked. A buffer kept ahead outlives the young generation's collections and is promoted, and
 * promoted buffers are freed only by a full collection, which V8 schedules by the size of its own
 * heap, not by the buffers': held ahead, the data of incompressible files piled up as garbage
 * between full collections (bench/upload.mjs, 100 MiB of incompressible files: peak RSS 110 MiB,
 * 95 MiB with the data read when sent). What is sent now lives from its read to its write.
 */
interface Packed {
  method: number
  crc: number
  size: number
  compressed: number
  data?: Buffer[]
}

export function zipJob(entries: JobEntry[], topFolder: string): ZipStream {
  // the scan refuses these trees; a caller that did not scan gets the same reason here
  if (entries.length > MAX_ENTRIES)
    throw new Error(`${entries.length} files and folders are more than one upload can hold`)
  const sent = { bytes: 0 }
  const stream = Readable.from(writeZip(entries, topFolder, sent), { objectMode: false })
  return { stream, bytes: () => sent.bytes }
}

async function* writeZip(
  entries: JobEntry[],
  top: string,
  sent: { bytes: number }
): AsyncGenerator<Buffer> {
  // entry 0 is the top folder, entry i + 1 is entries[i]
  const nameOf = (i: number): string =>
    i === 0 ? `${top}/` : `${top}/${entries[i - 1].path}${entries[i - 1].dir ? '/' : ''}`
  const written = new CentralDirectory(entries.length + 1)
  const out = (buf: Buffer): Buffer => {
    sent.bytes += buf.length
    return buf
  }
  /** The entry written next (its CRC and sizes set by the caller); recorded with `written.add`. */
  const start = (mode: number): Entry => {
    const name = nameOf(written.length)
    const nameBytes = Buffer.byteLength(name)
    if (nameBytes > 0xffff) throw new Error(`${name}: a name longer than a zip can hold`)
    const offset = fits(sent.bytes)
    return {
      name,
      nameBytes,
      flags: UTF8,
      method: STORED,
      crc: 0,
      compressed: 0,
      size: 0,
      mode,
      offset
    }
  }
  const folder = start(DIR_MODE)
  written.add(folder)
  yield out(localHeader(folder))
  const deflaters = new Deflaters()
  const ahead = new ReadAhead(entries, deflaters)
  try {
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]
      if (e.dir) {
        const entry = start(DIR_MODE)
        written.add(entry)
        yield out(localHeader(entry))
      } else if (e.size <= SMALL_FILE) {
        const { method, crc, size, compressed, data } = await ahead.take(i)
        const parts = data ?? [await readStored(e, crc)]
        const entry = Object.assign(start(FILE_TYPE | e.mode), { method, crc, size, compressed })
        written.add(entry)
        yield out(localHeader(entry))
        for (const part of parts) yield out(part)
      } else {
        const entry = start(FILE_TYPE | e.mode)
        Object.assign(entry, { flags: UTF8 | DATA_DESCRIPTOR, method: DEFLATED })
        yield out(localHeader(entry))
        for await (const part of deflateFile(e, entry)) yield out(part)
        yield out(dataDescriptor(entry))
        written.add(entry)
      }
    }
  } finally {
    ahead.stop()
    deflaters.close()
  }
  const directory = fits(sent.bytes)
  for (const records of written.headers(nameOf)) yield out(records)
  yield out(endOfDirectory(written.length, fits(sent.bytes) - directory, directory))
}

/** Reads and packs small files ahead of the one being sent, within AHEAD_BYTES and AHEAD_FILES. */
class ReadAhead {
  private readonly pending = new Map<number, Promise<Packed>>()
  private next = 0
  private bytes = 0
  private stopped = false
  /** Read buffers of SMALL_FILE + 1 bytes, one per file being packed (at most AHEAD_FILES). */
  private readonly buffers: Buffer[] = []

  constructor(
    private readonly entries: JobEntry[],
    private readonly deflaters: Deflaters
  ) {}

  async take(i: number): Promise<Packed> {
    this.fill(i)
    const packed = this.pending.get(i)
    if (!packed) throw new Error(`internal: ${this.entries[i].path} was not read ahead`)
    this.pending.delete(i)
    const done = await packed
    this.bytes -= this.entries[i].size
    this.fill(i + 1)
    return done
  }

  /** The zip ended (done, failed, or its consumer stopped): read nothing more. */
  stop(): void {
    this.stopped = true
  }

  private fill(from: number): void {
    if (this.stopped) return
    this.next = Math.max(this.next, from)
    while (this.next < this.entries.length && this.pending.size < AHEAD_FILES) {
      const e = this.entries[this.next]
      if (e.dir) {
        this.next++
        continue
      }
      // a large file is streamed when its turn comes; nothing past it is read before that
      if (e.size > SMALL_FILE) return
      if (this.pending.size > 0 && this.bytes + e.size > AHEAD_BYTES) return
      const packed = pack(e, this.deflaters, this.buffers)
      packed.catch(() => undefined) // awaited in take(); not an unhandled rejection meanwhile
      this.pending.set(this.next++, packed)
      this.bytes += e.size
    }
  }
}

async function pack(e: JobEntry, deflaters: Deflaters, buffers: Buffer[]): Promise<Packed> {
  // read into a buffer of our own, used file after file: it is only read here (zlib copies what
  // it deflates), and a fresh buffer per file was garbage that lived long enough to be promoted
  const own = buffers.pop() ?? Buffer.allocUnsafeSlow(SMALL_FILE + 1)
  try {
    const data = await readExactly(e, own)
    const crc = crc32(data)
    const size = data.length
    if (size > 0) {
      const parts = await deflaters.deflate(data)
      const compressed = parts.reduce((n, p) => n + p.length, 0)
      // what deflate does not shrink is stored, as zip does
      if (compressed < size) return { method: DEFLATED, crc, size, compressed, data: parts }
    }
    // stored: read again when sent (see Packed); an empty file has nothing to read
    return { method: STORED, crc, size, compressed: size, data: size > 0 ? undefined : [] }
  } finally {
    buffers.push(own)
  }
}

/** A stored file's data, read when it is sent: as it was packed (same size and CRC), or refused. */
export async function readStored(e: JobEntry, crc: number): Promise<Buffer> {
  const data = await readExactly(e)
  if (crc32(data) !== crc)
    throw new Error(
      `${e.path} changed while it was zipped (its content differs from when it was first read): run again once the job folder is stable`
    )
  return data
}

/**
 * Deflate contexts reused file after file (deflateReset between files). A context per file, as
 * zlib.deflateRaw makes, costs some 300 KiB of native memory that only a garbage collection gives
 * back: with thousands of small files that made the peak memory grow with the tree.
 */
class Deflaters {
  private readonly free: DeflateRaw[] = []
  private readonly all = new Set<DeflateRaw>()
  private readonly waiting: Array<(z: DeflateRaw | undefined) => void> = []
  private closed = false

  async deflate(data: Buffer): Promise<Buffer[]> {
    const z = this.free.pop() ?? (await this.acquire())
    if (!z) throw new Error('the zip was closed')
    let parts: Buffer[]
    try {
      parts = await finish(z, data)
    } catch (err) {
      // a context that failed is not used again: a new one takes its place for whoever waits
      this.all.delete(z)
      z.close()
      if (this.waiting.length && !this.closed) this.release(this.create())
      throw err
    }
    this.release(z)
    return parts
  }

  private release(z: DeflateRaw): void {
    if (this.closed) return
    const next = this.waiting.shift()
    if (next) next(z)
    else this.free.push(z)
  }

  private create(): DeflateRaw {
    const z = createDeflateRaw({ level: LEVEL, chunkSize: 64 * 1024 })
    this.all.add(z)
    return z
  }

  private acquire(): Promise<DeflateRaw | undefined> {
    if (this.closed) return Promise.resolve(undefined)
    if (this.all.size < DEFLATERS) return Promise.resolve(this.create())
    return new Promise(resolve => this.waiting.push(resolve))
  }

  close(): void {
    this.closed = true
    for (const z of this.all) z.close()
    for (const w of this.waiting.splice(0)) w(undefined)
  }
}

/** Deflates `data` as one complete raw deflate stream, then resets the context for the next file. */
function finish(z: DeflateRaw, data: Buffer): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = []
    const collect = (part: Buffer): void => void parts.push(part)
    const fail = (err: Error): void => {
      z.off('data', collect)
      reject(err)
    }
    z.on('data', collect)
    z.once('error', fail)
    z.write(data)
    z.flush(constants.Z_FINISH, (err?: Error | null) => {
      z.off('data', collect)
      z.off('error', fail)
      // closed meanwhile when the zip stopped early (an error, or the upload cut short): then the
      // parts are not the whole file, and nothing may be written from them
      if (err || z.destroyed) return reject(err ?? new Error('the zip was closed'))
      z.reset()
      resolve(parts)
    })
  })
}

/**
 * Opened without blocking: a file swapped for a named pipe after the scan reads as empty (then as
 * changed) instead of waiting for a writer forever.
 */
const READ_FLAGS = fs.O_RDONLY | fs.O_NONBLOCK

/** The file's `e.size` bytes; one byte more is asked for, so that a file that grew is noticed. */
async function readExactly(e: JobEntry, into?: Buffer): Promise<Buffer> {
  const buf = into ? into.subarray(0, e.size + 1) : Buffer.allocUnsafe(e.size + 1)
  let got = 0
  try {
    const file = await open(e.source, READ_FLAGS)
    try {
      for (;;) {
        const { bytesRead } = await file.read(buf, got, buf.length - got, got)
        if (bytesRead === 0) break
        got += bytesRead
        if (got === buf.length) break
      }
    } finally {
      await file.close()
    }
  } catch (err) {
    throw unreadable(e, err)
  }
  if (got !== e.size) throw changed(e, got)
  return buf.subarray(0, got)
}

/** Streams a large file through deflate; sets the entry's CRC and sizes once it is read. */
async function* deflateFile(e: JobEntry, entry: Entry): AsyncGenerator<Buffer> {
  let crc = 0
  let size = 0
  let compressed = 0
  let handle: FileHandle
  try {
    handle = await open(e.source, READ_FLAGS)
  } catch (err) {
    throw unreadable(e, err)
  }
  const deflater = createDeflateRaw({ level: LEVEL, chunkSize: 256 * 1024 })
  pipeline(
    // `end` is inclusive: one byte past the scanned size is read, so that a file that grew is noticed
    handle.createReadStream({ highWaterMark: 1024 * 1024, end: e.size }),
    async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        crc = crc32(chunk, crc)
        size += chunk.length
        yield chunk
      }
    },
    deflater,
    () => undefined // an error reaches the loop below through the destroyed deflater
  )
  try {
    for await (const part of deflater as AsyncIterable<Buffer>) {
      compressed += part.length
      yield part
    }
  } catch (err) {
    throw unreadable(e, err)
  }
  if (size !== e.size) throw changed(e, size)
  Object.assign(entry, { crc, size, compressed: fits(compressed) })
}

function unreadable(e: JobEntry, err: unknown): Error {
  return new Error(`${e.path} could not be read while zipping: ${(err as Error).message}`)
}

/** `read`: the bytes read, at most one past the scanned size (then the file grew). */
function changed(e: JobEntry, read: number): Error {
  const now = read > e.size ? 'more' : `${read}`
  return new Error(
    `${e.path} changed while it was zipped (${e.size} bytes when the folder was scanned, ${now} now): run again once the job folder is stable`
  )
}
