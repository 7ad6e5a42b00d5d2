// The records of a zip file as the job's archive writes them (archive.ts): local headers, data
// descriptors, central directory headers and the end of the directory, for entries whose sizes and
// offsets fit in 32 bits (no ZIP64). Times are fixed (the first DOS date) and names UTF-8, so the
// same tree gives the same bytes.

/** 1980-01-01 00:00, the first DOS date: time 0, date (0 << 9) | (1 << 5) | 1. */
const DOS_TIME = 0
const DOS_DATE = 0x21
export const UTF8 = 0x0800
export const DATA_DESCRIPTOR = 0x0008
export const STORED = 0
export const DEFLATED = 8
/** Version made by: Unix (3) so that the upper half of the external attributes is the mode; 2.0. */
const MADE_BY = (3 << 8) | 20
const NEEDED = 20

/** The modes of a folder and of a file (its permission bits added), as Unix writes them. */
export const DIR_MODE = 0o40755
export const FILE_TYPE = 0o100000

/**
 * One entry of the archive, as its headers say it. The name is kept as a string and encoded into
 * each header as it is written: a short Buffer.from(name) is a slice of Node's shared allocation
 * pool (64 KiB slabs on Node 24), and the directory keeps every entry until the end of the zip, so
 * names held as Buffers pinned a slab per few dozen files (70 MiB live on a 20,000-file tree, as a
 * heap snapshot of bench/upload.mjs's large tree showed) and the peak memory grew with the tree.
 */
export interface Entry {
  name: string
  /** The name's length in UTF-8 bytes. */
  nameBytes: number
  flags: number
  method: number
  crc: number
  compressed: number
  size: number
  mode: number
  offset: number
}

/** A size or offset of the archive, which must fit in the 32 bits of a zip without ZIP64. */
export function fits(n: number): number {
  if (n > 0xffffffff)
    throw new Error(
      `the archive grew past 4 GiB, which needs ZIP64: leave large files out with .vdkignore`
    )
  return n
}

export function localHeader(e: Entry): Buffer {
  const b = Buffer.alloc(30 + e.nameBytes)
  b.writeUInt32LE(0x04034b50, 0)
  b.writeUInt16LE(NEEDED, 4)
  b.writeUInt16LE(e.flags, 6)
  b.writeUInt16LE(e.method, 8)
  b.writeUInt16LE(DOS_TIME, 10)
  b.writeUInt16LE(DOS_DATE, 12)
  // with a data descriptor the CRC and sizes follow the data; here they stay 0
  if (!(e.flags & DATA_DESCRIPTOR)) {
    b.writeUInt32LE(e.crc >>> 0, 14)
    b.writeUInt32LE(e.compressed, 18)
    b.writeUInt32LE(e.size, 22)
  }
  b.writeUInt16LE(e.nameBytes, 26)
  b.writeUInt16LE(0, 28)
  b.write(e.name, 30, 'utf8')
  return b
}

export function dataDescriptor(e: Entry): Buffer {
  const b = Buffer.alloc(16)
  b.writeUInt32LE(0x08074b50, 0)
  b.writeUInt32LE(e.crc >>> 0, 4)
  b.writeUInt32LE(e.compressed, 8)
  b.writeUInt32LE(e.size, 12)
  return b
}

export function centralHeader(e: Entry): Buffer {
  const b = Buffer.alloc(46 + e.nameBytes)
  b.writeUInt32LE(0x02014b50, 0)
  b.writeUInt16LE(MADE_BY, 4)
  b.writeUInt16LE(NEEDED, 6)
  b.writeUInt16LE(e.flags, 8)
  b.writeUInt16LE(e.method, 10)
  b.writeUInt16LE(DOS_TIME, 12)
  b.writeUInt16LE(DOS_DATE, 14)
  b.writeUInt32LE(e.crc >>> 0, 16)
  b.writeUInt32LE(e.compressed, 20)
  b.writeUInt32LE(e.size, 24)
  b.writeUInt16LE(e.nameBytes, 28)
  // extra field length, comment length, disk number, internal attributes: 0
  const dosDir = (e.mode & 0o170000) === 0o040000 ? 0x10 : 0
  b.writeUInt32LE(((e.mode << 16) | dosDir) >>> 0, 38)
  b.writeUInt32LE(e.offset, 42)
  b.write(e.name, 46, 'utf8')
  return b
}

export function endOfDirectory(count: number, size: number, offset: number): Buffer {
  const b = Buffer.alloc(22)
  b.writeUInt32LE(0x06054b50, 0)
  b.writeUInt16LE(count, 8)
  b.writeUInt16LE(count, 10)
  b.writeUInt32LE(size, 12)
  b.writeUInt32LE(offset, 16)
  return b
}

/**
 * The central directory's records, kept until the end of the zip: numbers only, in typed arrays
 * sized once for the whole tree, and the names given again when the directory is written. One
 * object and one name string per entry, held for the whole upload, were some 200 bytes each of
 * V8's heap (20,000 files: about 4 MiB live, and the heap's slack and the garbage V8 lets pile up
 * between full collections grow with what is live).
 */
export class CentralDirectory {
  private readonly crc: Uint32Array
  private readonly compressed: Uint32Array
  private readonly size: Uint32Array
  private readonly offset: Uint32Array
  private readonly mode: Uint32Array
  private readonly flags: Uint16Array
  private readonly method: Uint16Array
  private count = 0

  constructor(capacity: number) {
    this.crc = new Uint32Array(capacity)
    this.compressed = new Uint32Array(capacity)
    this.size = new Uint32Array(capacity)
    this.offset = new Uint32Array(capacity)
    this.mode = new Uint32Array(capacity)
    this.flags = new Uint16Array(capacity)
    this.method = new Uint16Array(capacity)
  }

  get length(): number {
    return this.count
  }

  /** Records the next entry, once its CRC and sizes are known. */
  add(e: Entry): void {
    const i = this.count++
    if (i >= this.crc.length) throw new Error('internal: more zip entries than the directory holds')
    this.crc[i] = e.crc >>> 0
    this.compressed[i] = e.compressed
    this.size[i] = e.size
    this.offset[i] = e.offset
    this.mode[i] = e.mode
    this.flags[i] = e.flags
    this.method[i] = e.method
  }

  /** The central directory headers in order, `batch` to a buffer; `name(i)` is entry i's name. */
  *headers(name: (i: number) => string, batch = 256): Generator<Buffer> {
    for (let from = 0; from < this.count; from += batch) {
      const records: Buffer[] = []
      for (let i = from; i < Math.min(this.count, from + batch); i++) {
        const n = name(i)
        records.push(
          centralHeader({
            name: n,
            nameBytes: Buffer.byteLength(n),
            flags: this.flags[i],
            method: this.method[i],
            crc: this.crc[i],
            compressed: this.compressed[i],
            size: this.size[i],
            mode: this.mode[i],
            offset: this.offset[i]
          })
        )
      }
      yield Buffer.concat(records)
    }
  }
}
