// The job's zip, streamed: one top folder, entries in sorted order, fixed timestamps and modes, so
// the same tree gives the same bytes (and the service the same version). Files are read one at a
// time as the zip is consumed; nothing holds the whole archive. Only upload bundles import this.
import { createReadStream } from 'node:fs'
import { Transform, type Readable } from 'node:stream'
import yazl from 'yazl'
import type { JobEntry } from './scan.js'

/** 1980-01-01 00:00, the first DOS date, in local time so that the stored DOS fields are the same everywhere. */
const FIXED_TIME = new Date(1980, 0, 1, 0, 0, 0)

export interface ZipStream {
  stream: Readable
  /** Bytes of the archive, once it is fully read. */
  bytes(): number
}

export function zipJob(entries: JobEntry[], topFolder: string): ZipStream {
  const zip = new yazl.ZipFile()
  const times = { mtime: FIXED_TIME, forceDosTimestamp: true }
  zip.addEmptyDirectory(`${topFolder}/`, { ...times, mode: 0o40755 })
  for (const e of entries) {
    const name = `${topFolder}/${e.path}`
    if (e.dir) zip.addEmptyDirectory(`${name}/`, { ...times, mode: 0o40755 })
    else {
      zip.addReadStreamLazy(
        name,
        { ...times, mode: 0o100000 | e.mode, size: e.size, compress: true, compressionLevel: 6 },
        cb => {
          const file = createReadStream(e.source)
          // a file that vanished or changed since the scan ends the upload with its reason
          file.on('error', err =>
            counter.destroy(new Error(`${e.path} could not be read while zipping: ${err.message}`))
          )
          cb(null, file)
        }
      )
    }
  }
  let count = 0
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      count += chunk.length
      done(null, chunk)
    }
  })
  zip.on('error', (err: Error) =>
    counter.destroy(new Error(`the job folder changed while it was zipped: ${err.message}`))
  )
  zip.end()
  const out = zip.outputStream as Readable
  out.on('error', e => counter.destroy(e))
  out.pipe(counter)
  return { stream: counter, bytes: () => count }
}
