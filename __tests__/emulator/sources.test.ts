// The local Control Service's job sources over loopback (src/emulator/api/sources.ts): versions
// from trees, download, delete, and the zips it refuses. Calls are contract-checked (see
// jobs.test.ts).
import yauzl from 'yauzl'
import type { Api } from '../helpers/api.js'
import { closeServices, describeIfSpec, service, TEAM } from '../helpers/emulator-api.js'
import { createJob, jobFiles, jobPath, upload, zipOf } from '../helpers/fixtures.js'

async function unzip(buffer: Buffer): Promise<Record<string, string>> {
  const zip = await yauzl.fromBufferPromise(buffer, { lazyEntries: true })
  const out: Record<string, string> = {}
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      if (entry.fileName.endsWith('/')) {
        out[entry.fileName] = ''
        return zip.readEntry()
      }
      void zip.openReadStreamPromise(entry).then(async stream => {
        const chunks: Buffer[] = []
        for await (const c of stream) chunks.push(c as Buffer)
        out[entry.fileName] = Buffer.concat(chunks).toString()
        zip.readEntry()
      }, reject)
    })
    zip.on('end', () => resolve())
    zip.on('error', reject)
    zip.readEntry()
  })
  return out
}

describeIfSpec('local Control Service, official API', () => {
  let api: Api
  beforeAll(async () => {
    ;({ api } = await service())
  })
  afterAll(closeServices)

  describe('sources', () => {
    test('the same tree gives the same version whatever the zip looks like; new content a new version', async () => {
      await createJob(api, TEAM, 'sources-job')
      const v1 = await upload(api, TEAM, 'sources-job', await zipOf(jobFiles('sources-job')))
      // other top folder name, other timestamps, other entry order: same files → same version
      const reordered = Object.fromEntries(Object.entries(jobFiles('local-folder')).reverse())
      const v1again = await upload(
        api,
        TEAM,
        'sources-job',
        await zipOf(reordered, new Date('2020-01-01'))
      )
      expect(v1again).toBe(v1)
      const v2 = await upload(
        api,
        TEAM,
        'sources-job',
        await zipOf(jobFiles('sources-job', { 'extra.py': 'x = 1\n' }))
      )
      expect(v2).not.toBe(v1)
      // going back to the first tree is a new commit on the real service (git), so a new version
      const v3 = await upload(api, TEAM, 'sources-job', await zipOf(jobFiles('sources-job')))
      expect(new Set([v1, v2, v3]).size).toBe(3)
      // a fresh service answers the same first version for the same tree: versions derive from content
      const fresh = await service()
      await createJob(fresh.api, TEAM, 'sources-job')
      expect(
        await upload(fresh.api, TEAM, 'sources-job', await zipOf(jobFiles('sources-job')))
      ).toBe(v1)
    })

    test('download gives the stored tree as a zip whose single top folder is the job name', async () => {
      await createJob(api, TEAM, 'download-job')
      await upload(
        api,
        TEAM,
        'download-job',
        await zipOf(jobFiles('my-local-folder', { 'lib/util.py': 'y = 2\n' }))
      )
      const res = await api.call('GET', `${jobPath(TEAM, 'download-job')}/sources`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('application/octet-stream')
      const files = await unzip(res.buffer)
      expect(files).toEqual({
        'download-job/': '',
        'download-job/10_load.py': 'def run(job_input):\n    pass\n',
        'download-job/20_report.sql': 'SELECT 1;\n',
        'download-job/config.ini':
          '[owner]\nteam = data team\n\n[job]\nschedule_cron = 0 6 * * *\n',
        'download-job/lib/util.py': 'y = 2\n'
      })
    })

    test.each([
      [
        'not a zip at all',
        () => Promise.resolve(Buffer.from('this is not a zip')),
        'not a readable zip'
      ],
      [
        'a truncated zip',
        async () => (await zipOf(jobFiles('x'))).subarray(0, 60),
        'not a readable zip'
      ],
      [
        'two top folders',
        async () => zipOf({ ...jobFiles('one'), 'two/config.ini': '' }),
        'exactly one top-level folder'
      ],
      [
        'a file at the top level',
        async () => zipOf({ 'config.ini': '[owner]\n' }),
        'exactly one top-level folder'
      ],
      [
        'a folder and a loose file',
        async () => zipOf({ ...jobFiles('one'), 'README.md': '' }),
        'exactly one top-level folder'
      ],
      ['an empty zip', async () => zipOf({}), 'empty']
    ])('upload of %s is a 400 that says what is wrong', async (_label, make, expected) => {
      await createJob(api, TEAM, 'bad-zip-job').catch(() => undefined)
      const res = await api.call('POST', `${jobPath(TEAM, 'bad-zip-job')}/sources`, {
        body: await make(),
        headers: { 'Content-Type': 'application/octet-stream' },
        deviations: ['error-body']
      })
      expect(res.status).toBe(400)
      expect(res.json).toMatchObject({
        what: expect.stringContaining('bad-zip-job'),
        why: expect.stringContaining(expected),
        countermeasures: expect.stringContaining('one top-level folder')
      })
    })

    test('a zip entry escaping the folder (zip slip) is refused', async () => {
      await createJob(api, TEAM, 'zip-slip-job')
      const zip = await zipOf(jobFiles('zip-slip-job'))
      // yazl refuses to write "../" names, so patch a same-length name into the archive
      const evil = Buffer.from(
        zip
          .toString('latin1')
          .replaceAll('zip-slip-job/10_load.py', 'zip-slip-job/../load.py'.padEnd(23, 'x')),
        'latin1'
      )
      const res = await api.call('POST', `${jobPath(TEAM, 'zip-slip-job')}/sources`, {
        body: evil,
        headers: { 'Content-Type': 'application/octet-stream' },
        deviations: ['error-body']
      })
      expect(res.status).toBe(400)
      expect(res.json).toMatchObject({
        why: expect.stringMatching(/invalid relative path|corrupt/)
      })
    })

    test('upload to an unknown job is a 404 with an empty body; a JSON content type is a 415', async () => {
      const zip = await zipOf(jobFiles('nope'))
      const res = await api.call('POST', `${jobPath(TEAM, 'unknown-upload-job')}/sources`, {
        body: zip,
        headers: { 'Content-Type': 'application/octet-stream' },
        deviations: ['sources-404']
      })
      expect(res.status).toBe(404)
      expect(res.text).toBe('')
      await createJob(api, TEAM, 'json-upload-job')
      const json = await api.call('POST', `${jobPath(TEAM, 'json-upload-job')}/sources`, {
        json: {},
        invalidRequest: 'sources are octet-stream, not JSON',
        deviations: ['unsupported-415']
      })
      expect(json.status).toBe(415)
      expect(json.json).toMatchObject({
        countermeasures: expect.stringContaining('application/octet-stream')
      })
    })
  })
})
