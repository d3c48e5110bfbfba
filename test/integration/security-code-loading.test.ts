/**
 * Issue 27.3: which code a sink target loads. Files planted in the working
 * directory (or a parent of it) must never run in the worker in place of
 * pino-sluice's own sinks or of a Node built-in; only an explicit ./ or ../
 * path resolves from there as a file. Real processes, a temp working
 * directory, planted files that would leave a marker if they ever ran.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { refusedTarget, resolveTarget } from '../../src/pipeline/load-sink.js'
import { createSluice } from '../../src/index.js'
import { INDEX_URL, PINO_URL, WORKER_ENTRY } from '../support/transport.js'

const run = promisify(execFile)

/** Code that proves it ran: writes the marker file, and is also a valid sink. */
function plantedSink(marker: string): string {
  return `import { writeFileSync } from 'node:fs'
writeFileSync(${JSON.stringify(marker)}, 'planted code ran')
export default function createSink() { return { write() {} } }
`
}

/** A temp tree: <root>/node_modules/pino-sluice planted, the app runs in <root>/app (a child of it) or <root>. */
function plantedTree(): { root: string; marker: string } {
  const root = mkdtempSync(join(tmpdir(), 'sluice-planted-'))
  const marker = join(root, 'MARKER')
  const pkg = join(root, 'node_modules', 'pino-sluice')
  mkdirSync(pkg, { recursive: true })
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'pino-sluice', type: 'module', exports: { './file': './file.js', '.': './file.js' } }))
  writeFileSync(join(pkg, 'file.js'), plantedSink(marker))
  // A file named like a Node built-in, where `<cwd>/events` used to be loaded from.
  writeFileSync(join(root, 'events'), plantedSink(marker))
  writeFileSync(join(root, 'events.js'), plantedSink(marker))
  mkdirSync(join(root, 'app'))
  writeFileSync(join(root, 'app', 'events'), plantedSink(marker))
  return { root, marker }
}

/** An app that logs 3 lines through pino.transport() with the given sink target, from the working directory `cwd`. */
async function runTransportApp(cwd: string, target: string): Promise<{ stdout: string; stderr: string; out: string }> {
  const out = join(cwd, `out-${Math.random().toString(36).slice(2)}.ndjson`)
  const app = join(cwd, `app-${Math.random().toString(36).slice(2)}.mjs`)
  writeFileSync(
    app,
    `import pino from ${JSON.stringify(PINO_URL)}
const transport = pino.transport({ target: ${JSON.stringify(WORKER_ENTRY)}, options: { postgres: false, sinks: [{ target: ${JSON.stringify(target)}, options: { path: ${JSON.stringify(out)} } }] } })
transport.on('error', (error) => { console.log('transport error: ' + error.message); process.exitCode = 3 })
const log = pino(transport)
for (let i = 0; i < 3; i++) log.info('line ' + i)
`,
  )
  try {
    const { stdout, stderr } = await run(process.execPath, [app], { cwd, timeout: 60_000 })
    return { stdout, stderr, out }
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string }
    return { stdout, stderr, out }
  }
}

describe("pino.transport(): 'pino-sluice/file' is always pino-sluice's own file sink", () => {
  it.each(['the working directory', 'a parent of the working directory'])('with a node_modules/pino-sluice planted in %s', async (where) => {
    const { root, marker } = plantedTree()
    const cwd = where === 'the working directory' ? root : join(root, 'app')
    const result = await runTransportApp(cwd, 'pino-sluice/file')
    expect(existsSync(marker), 'the planted pino-sluice/file.js ran in the worker').toBe(false)
    expect(result.stdout + result.stderr).not.toContain('cannot start')
    expect(readFileSync(result.out, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['line 0', 'line 1', 'line 2'])
  })
})

describe('targets named like a Node built-in are refused, never loaded from a file', () => {
  it.each(['events', 'node:events', 'fs/promises'])('pino.transport(): %s', async (target) => {
    const { root, marker } = plantedTree()
    const result = await runTransportApp(root, target)
    expect(existsSync(marker), `a planted file ran for target ${target}`).toBe(false)
    expect(result.stderr).toContain(`pino-sluice: the transport cannot start: options.sinks[0] (target ${JSON.stringify(target)}) names a Node built-in module, not a sink.`)
  })

  it('createSluice(): refused at once on the app thread', () => {
    expect(() => createSluice({ postgres: false, sinks: [{ target: 'events' }] })).toThrow('names a Node built-in module, not a sink')
  })
})

describe('which targets resolve how', () => {
  it('an explicit ./ path still resolves from the working directory', async () => {
    const { root, marker } = plantedTree()
    const result = await runTransportApp(root, './events.js')
    // The user asked for that file by path: it is loaded (and leaves its marker).
    expect(result.stdout + result.stderr).not.toContain('cannot start')
    expect(existsSync(marker)).toBe(true)
  })

  it('a bare name is a package, never a file of that name in the working directory', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sluice-bare-'))
    const marker = join(root, 'MARKER')
    writeFileSync(join(root, 'my-sink'), plantedSink(marker))
    writeFileSync(join(root, 'my-sink.js'), plantedSink(marker))
    const result = await runTransportApp(root, 'my-sink')
    expect(existsSync(marker)).toBe(false)
    expect(result.stderr).toContain('pino-sluice: the transport cannot start: options.sinks[0] (target "my-sink"): cannot find the module from the node_modules folders')
  })

  it('other pino-sluice names and URL schemes are refused', () => {
    expect(refusedTarget('pino-sluice/file')).toBeUndefined()
    expect(refusedTarget('pino-sluice/worker')).toContain("is not one of pino-sluice's sinks")
    expect(refusedTarget('pino-sluice')).toContain("is not one of pino-sluice's sinks")
    expect(refusedTarget('data:text/javascript,export default () => ({ write() {} })')).toContain('scheme other than file:')
    expect(refusedTarget('https://example.com/sink.js')).toContain('scheme other than file:')
    expect(refusedTarget('file:///tmp/sink.mjs')).toBeUndefined()
    expect(refusedTarget('/abs/sink.mjs')).toBeUndefined()
    expect(refusedTarget('./sink.mjs')).toBeUndefined()
    expect(refusedTarget('some-package')).toBeUndefined()
  })

  it("'pino-sluice/file' resolves to this package's file whatever the bases hold", () => {
    const { root } = plantedTree()
    const own = resolveTarget('pino-sluice/file', [join(root, 'app') + '/'])
    expect(own).toMatch(/\/sinks\/file\/file-sink\.(js|ts)$/)
    expect(own).not.toContain(root)
    expect(INDEX_URL).toContain('/dist/src/index.js')
  })
})
