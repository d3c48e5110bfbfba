/**
 * The file sink's permissions and links (issue 27 item 10): files created
 * with exactly `mode` (default 0o600), directories readable by the same
 * people, rotations alike, and a symlink at `path` refused, never followed.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { OptionsError, resolveOptions } from '../../src/index.js'
import { expectBalanced, startTransport } from '../support/transport.js'

const root = mkdtempSync(join(tmpdir(), 'sluice-file-modes-'))
let counter = 0
/** A path two directories below a fresh one, so the sink creates both. */
function freshPath(): { base: string; dirs: string[]; path: string } {
  const base = join(root, `run-${++counter}`)
  mkdirSync(base)
  const dirs = [join(base, 'logs'), join(base, 'logs', 'app')]
  return { base, dirs, path: join(base, 'logs', 'app', 'app.ndjson') }
}
const permissions = (path: string): string => (statSync(path).mode & 0o777).toString(8)

/** The message a start failed with, or 'started' (closed again): a clean failure, not a Harness for the matcher to print. */
async function startError(options: Parameters<typeof startTransport>[0]): Promise<string> {
  return startTransport(options).then(
    async (h) => {
      await h.close()
      return 'started'
    },
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  )
}

async function logRotating(options: { path: string; mode?: number | string }): Promise<void> {
  const h = await startTransport({ file: { ...options, maxBytes: 2048, maxFiles: 3 }, batch: { maxRecords: 10 } })
  for (let i = 0; i < 120; i++) h.logger.info({ i, password: 'hunter2', pad: 'x'.repeat(40) }, 'secret-bearing')
  await h.close()
  expect(h.stats.read()).toMatchObject({ received: 120, written: 120, failed: 0 })
  expectBalanced(h.stats, expect)
}

describe('file sink permissions (umask 022 or not)', () => {
  it('creates the file 0600 and its directories 0700 by default, and every rotation keeps 0600', async () => {
    const { dirs, path } = freshPath()
    await logRotating({ path })
    const files = readdirSync(dirs[1] as string).sort()
    expect(files).toEqual(['app.ndjson', 'app.ndjson.1', 'app.ndjson.2', 'app.ndjson.3'])
    for (const f of files) expect(permissions(join(dirs[1] as string, f))).toBe('600')
    for (const d of dirs) expect(permissions(d)).toBe('700')
  })

  it('mode 0o640: files 0640, directories 0750', async () => {
    const { dirs, path } = freshPath()
    await logRotating({ path, mode: 0o640 })
    for (const f of readdirSync(dirs[1] as string)) expect(permissions(join(dirs[1] as string, f))).toBe('640')
    for (const d of dirs) expect(permissions(d)).toBe('750')
  })

  it('applies the mode exactly, whatever the umask (0o660 keeps group write that umask 022 would remove), and takes an octal string', async () => {
    const { dirs, path } = freshPath()
    await logRotating({ path, mode: '0660' })
    for (const f of readdirSync(dirs[1] as string)) expect(permissions(join(dirs[1] as string, f))).toBe('660')
  })

  it('leaves the mode of a file that already exists alone (only files it creates get the mode)', async () => {
    const { base } = freshPath()
    const path = join(base, 'existing.ndjson')
    writeFileSync(path, '')
    chmodSync(path, 0o644)
    const h = await startTransport({ file: { path } })
    h.logger.info('appended')
    await h.close()
    expect(permissions(path)).toBe('644')
    expect(readFileSync(path, 'utf8')).toContain('"appended"')
  })
})

describe('a symlink at the file path', () => {
  it('is refused at start with an error naming the path; the file it points to is untouched', async () => {
    const { base } = freshPath()
    const victim = join(base, 'victim.txt')
    writeFileSync(victim, '')
    chmodSync(victim, 0o666)
    const path = join(base, 'app.ndjson')
    symlinkSync(victim, path)
    expect(await startError({ file: { path } })).toBe(
      `options.file.path ${path} cannot be opened for appending (${path} is a symbolic link; the file sink never follows one (a link planted there would send the logs into another file). Point the path at the real file, or remove the link). Choose a path in a directory the app can write to.`,
    )
    expect(readFileSync(victim, 'utf8')).toBe('')
  })

  it('a dangling link (the attacker creates the target later) is refused too, and nothing is created through it', async () => {
    const { base } = freshPath()
    const victim = join(base, 'not-yet.txt')
    const path = join(base, 'app.ndjson')
    symlinkSync(victim, path)
    expect(await startError({ file: { path } })).toMatch(/is a symbolic link; the file sink never follows one/)
    expect(readdirSync(base)).toEqual(['app.ndjson'])
  })

  it('as a fan-out sink: the start failure is reported, the batches counted failed for that sink, Postgres unaffected', async () => {
    const { base } = freshPath()
    const victim = join(base, 'victim.txt')
    writeFileSync(victim, '')
    const path = join(base, 'ship.ndjson')
    symlinkSync(victim, path)
    const h = await startTransport({ sinks: [{ target: 'pino-sluice/file', name: 'ship', options: { path } }] })
    for (let i = 0; i < 5; i++) h.logger.info({ i }, 'copy me')
    await h.close()
    expect(h.stats.read()).toMatchObject({ received: 5, written: 5, sinks: { ship: { delivered: 0, failed: 5 } } })
    expect(h.stderr()).toContain(`${path} is a symbolic link`)
    expect(readFileSync(victim, 'utf8')).toBe('')
    expectBalanced(h.stats, expect)
  })
})

describe('options.file.mode', () => {
  const resolveFile = (file: unknown) => resolveOptions({ file }).file

  it('defaults to 0o600 with directories 0o700; 0o640 gives 0o750; octal strings are read as octal', () => {
    expect(resolveFile({ path: '/var/log/app.ndjson' })).toMatchObject({ mode: 0o600, directoryMode: 0o700 })
    expect(resolveFile({ path: '/var/log/app.ndjson', mode: 0o640 })).toMatchObject({ mode: 0o640, directoryMode: 0o750 })
    expect(resolveFile({ path: '/var/log/app.ndjson', mode: '0644' })).toMatchObject({ mode: 0o644, directoryMode: 0o755 })
    expect(resolveFile({ path: '/var/log/app.ndjson', mode: '0o600' })).toMatchObject({ mode: 0o600 })
  })

  it.each([
    [640, /options\.file\.mode must be permission bits between 0o000 and 0o777, got 640\. 640 is decimal here \(0o1200\)\. Write it in octal: 0o600/],
    [0o400, /options\.file\.mode must let the owner read and write \(0o600 at least\), got 0o400/],
    ['rw-r-----', /options\.file\.mode must be permission bits .* got "rw-r-----"/],
    [-1, /options\.file\.mode must be permission bits/],
  ])('refuses %j naming the option and the fix', (mode, message) => {
    expect(() => resolveFile({ path: '/var/log/app.ndjson', mode })).toThrow(OptionsError)
    expect(() => resolveFile({ path: '/var/log/app.ndjson', mode })).toThrow(message)
  })
})
