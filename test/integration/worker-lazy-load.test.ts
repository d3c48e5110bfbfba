/**
 * The worker loads only the code its options use (issue 25): each module is
 * RSS and start-up time in every app. Read from NODE_DEBUG=esm, which names
 * each module as it is loaded, after createSluice() (the app's own imports are done by then).
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, inject, it } from 'vitest'

const APP = `
const { createSluice } = await import('pino-sluice')
process.stderr.write('=== createSluice\\n')
const sluice = createSluice(JSON.parse(process.argv[1]))
sluice.transport.once('ready', () => sluice.close().then(() => process.stderr.write('=== closed\\n')))
`

async function modulesLoadedByWorker(options: Record<string, unknown>): Promise<string[]> {
  const { stderr } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', APP, JSON.stringify({ ...options, exit: { report: false } })], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { ...process.env, NODE_DEBUG: 'esm' },
    // Node 24+ prints several MB of module debug lines (source included).
    maxBuffer: 256 * 1024 * 1024,
  })
  expect(stderr).toContain('=== closed')
  const afterStart = stderr.slice(stderr.indexOf('=== createSluice'))
  const loaded = [...afterStart.matchAll(/Storing (\S+)/g)].map((match) => match[1] as string)
  // The wording is Node's (Node 20 to 26 print it): should a release change it, say so rather than find nothing.
  expect(loaded.length, 'no "Storing <url>" lines in NODE_DEBUG=esm output: has Node changed its wording?').toBeGreaterThan(0)
  return loaded
}

// Each option's own code; validating options (the *-options.js files) is needed for any config.
const OPTIONAL_CODE = /\/(offload-stage|metrics-stage|start-stats-publisher|stats-http-server|spool|replayer)\.js$|^node:(http|zlib)$/

describe('the worker loads only what its options use', () => {
  it('Postgres only: no S3, CloudWatch, file sink, stats server or spool code, no http or zlib', async () => {
    const loaded = await modulesLoadedByWorker({ postgres: { url: inject('databaseUrl') } })
    expect(loaded.some((url) => url.includes('/sinks/postgres/postgres-sink.js'))).toBe(true)
    expect(loaded.filter((url) => OPTIONAL_CODE.test(url) || url.endsWith('/sinks/file/file-sink.js'))).toEqual([])
  })

  it('file store only: no postgres.js either', async () => {
    const loaded = await modulesLoadedByWorker({ postgres: false, file: { path: '/dev/null' } })
    expect(loaded.some((url) => url.includes('/sinks/file/file-sink.js'))).toBe(true)
    expect(loaded.filter((url) => OPTIONAL_CODE.test(url) || url.endsWith('/sinks/postgres/postgres-sink.js') || url.includes('/node_modules/postgres/'))).toEqual([])
  })

  it('stats.port loads the stats server', async () => {
    const loaded = await modulesLoadedByWorker({ postgres: false, file: { path: '/dev/null' }, stats: { port: 0 } })
    expect(loaded.some((url) => url.includes('/src/stats/stats-http-server.js'))).toBe(true)
  })
})
