// npm run demo: starts the local Control Service (the committed bundle, as users run it) and walks
// the sample job through create → upload → deploy → run → logs with plain HTTP calls, printing
// each step. Later the same journey runs through the actions themselves.
import { spawn } from 'node:child_process'
import { readdirSync, statSync, createReadStream } from 'node:fs'
import { join, relative, dirname } from 'node:path'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import yazl from 'yazl'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const jobDir = join(root, 'examples', 'jobs', 'hello-data-job')
const jobName = 'hello-data-job'
const team = 'demo team'
const started = Date.now()
const sleep = ms => new Promise(r => setTimeout(r, ms))
const say = (step, text) =>
  console.log(
    `${`[${((Date.now() - started) / 1000).toFixed(1)}s]`.padEnd(8)} ${step.padEnd(8)} ${text}`
  )

async function startService() {
  const args = [
    join(root, 'dist/emulator/index.js'),
    '--port',
    '0',
    '--execution-seconds',
    '1.5',
    '--deployment-seconds',
    '0.6'
  ]
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  const url = await new Promise((resolve, reject) => {
    let seen = ''
    child.stdout.on('data', chunk => {
      seen += chunk
      const m = /listening on (\S+)/.exec(seen)
      if (m) resolve(m[1])
    })
    child.once('exit', code =>
      reject(new Error(`the local Control Service exited with code ${code}`))
    )
  })
  return { child, url }
}

function zipJob(dir) {
  const zip = new yazl.ZipFile()
  const walk = d => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name)
      const rel = `${jobName}/${relative(dir, full).split('\\').join('/')}`
      if (statSync(full).isDirectory()) walk(full)
      else zip.addReadStream(createReadStream(full), rel, { mtime: new Date(0) })
    }
  }
  walk(dir)
  zip.end()
  return Readable.toWeb(zip.outputStream)
}

async function main() {
  const { child, url } = await startService()
  say('service', `local Control Service ${url}`)
  const base = `${url}/data-jobs/for-team/${encodeURIComponent(team)}`
  const job = `${base}/jobs/${jobName}`
  const call = async (method, path, init = {}) => {
    const res = await fetch(path, { method, ...init, duplex: init.body ? 'half' : undefined })
    const text = await res.text()
    if (res.status >= 400) throw new Error(`${method} ${path} → ${res.status} ${text}`)
    return {
      res,
      body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text
    }
  }
  const jsonInit = body => ({
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body)
  })
  try {
    const info = (await call('GET', `${base}/info`)).body
    say('info', `python versions ${info.supported_python_versions.join(', ')}`)

    await call(
      'POST',
      `${base}/jobs?name=${jobName}`,
      jsonInit({
        job_name: jobName,
        team,
        description: 'sample job',
        config: { schedule: { schedule_cron: '0 6 * * *' } }
      })
    )
    say('create', `job '${jobName}' of team '${team}'`)

    const upload = await call(
      'POST',
      `${job}/sources?reason=${encodeURIComponent('npm run demo')}`,
      {
        headers: { 'Content-Type': 'application/octet-stream' },
        body: zipJob(jobDir)
      }
    )
    const version = upload.body.version_sha
    say('upload', `sources of examples/jobs/${jobName} → version ${version}`)

    await call(
      'POST',
      `${job}/deployments`,
      jsonInit({ job_version: version, python_version: '3.11' })
    )
    const query = encodeURIComponent(
      `{ jobs(pageNumber: 1, pageSize: 1, filter: [{property: "jobName", pattern: "${jobName}"}]) { content { deployments { status jobVersion } } } }`
    )
    let last = ''
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(200)) {
      const d = (await call('GET', `${base}/jobs?query=${query}`)).body.data.content[0]
        .deployments[0]
      if (d.status !== last)
        say(
          'deploy',
          `deployment status ${(last = d.status)}${d.jobVersion ? `, live version ${d.jobVersion}` : ''}`
        )
      if (d.status === 'SUCCESS' && d.jobVersion === version) break
    }

    const start = await call(
      'POST',
      `${job}/deployments/production/executions`,
      jsonInit({ started_by: 'manual/vdk-actions-demo', args: { greeting: 'hello' } })
    )
    const id = start.res.headers.get('location').split('/').pop()
    say('run', `execution ${id} started (202, id from the Location header)`)
    let status = ''
    let shown = 0
    let execution
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await sleep(250)) {
      execution = (await call('GET', `${job}/executions/${id}`)).body
      const logs = (await call('GET', `${job}/executions/${id}/logs`)).body.logs
      const lines = logs ? logs.split('\n') : []
      for (const line of lines.slice(shown)) say('logs', `| ${line}`)
      shown = Math.max(shown, lines.length)
      if (execution.status !== status) say('run', `status ${(status = execution.status)}`)
      if (!['submitted', 'running'].includes(status)) break
    }
    if (execution.logs_url) {
      const rest = (await call('GET', execution.logs_url)).body.split('\n').filter(Boolean)
      for (const line of rest.slice(shown)) say('logs', `| ${line}`)
      say('logs', `complete logs at ${execution.logs_url}`)
    }

    const journal = (await call('GET', `${url}/_emulator/journal`)).body
    say('journal', `${journal.length} requests received by the service:`)
    const counts = new Map()
    for (const e of journal) {
      const key = `${e.method} ${e.status} ${e.path.replace(/executions\/[^/]+/, 'executions/{id}')}`
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
    for (const [k, n] of counts)
      console.log(`         ${String(n).padStart(3)} × ${decodeURIComponent(k)}`)
    if (status !== 'succeeded') throw new Error(`the execution ended ${status}`)
    say(
      'done',
      `the job ran: ${status}, in ${((Date.now() - started) / 1000).toFixed(1)} s overall`
    )
  } finally {
    child.kill('SIGTERM')
  }
}

main().catch(e => {
  console.error(`demo failed: ${e.message}`)
  process.exit(1)
})
