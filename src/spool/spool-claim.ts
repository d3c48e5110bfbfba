import { randomBytes } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { syncPath } from './sync-path.js'

/**
 * Each process writes only to a directory of its own under the spool `dir`,
 * named for it and holding `owner.json` (host, pid, the pid's start time).
 * A claim whose owner is gone (dead pid, or a released claim) is taken over
 * by moving the whole directory into the taker's own with one rename: of
 * several processes racing for it exactly one rename succeeds, so no segment
 * is ever replayed by two processes.
 */
export const OWNER_FILE = 'owner.json'
/** Where a taken-over claim lives inside the taker's directory. */
export const INHERITED_PREFIX = 'inherited-'
/** Another host's claim counts as abandoned once its heartbeat is this old (pids mean nothing across hosts). */
export const STALE_CLAIM_MS = 5 * 60_000
/** How often the owner file's mtime is refreshed, for claims seen from another host. */
export const HEARTBEAT_MS = 30_000

interface Owner {
  host: string
  pid: number
  /** Start time of the pid from /proc (Linux), telling a reused pid from the original. */
  pidStart?: string | undefined
  startedAt: number
  /** Closed with records left: any process may take the claim at once. */
  released?: boolean
}

export class SpoolClaim {
  private heartbeat: NodeJS.Timeout | undefined

  private constructor(
    readonly root: string,
    readonly path: string,
    private readonly owner: Owner,
  ) {}

  /** Creates this process's directory under `root` (created if missing); throws when that fails. */
  static create(root: string): SpoolClaim {
    mkdirSync(root, { recursive: true })
    const owner: Owner = { host: hostname(), pid: process.pid, pidStart: pidStart(process.pid), startedAt: Date.now() }
    const name = `${owner.startedAt}-${process.pid}-${randomBytes(3).toString('hex')}`
    // Built under a dot name and renamed in whole: a claim is never seen without its owner file.
    const building = join(root, `.${name}`)
    mkdirSync(building)
    writeOwner(building, owner)
    const path = join(root, name)
    renameSync(building, path)
    syncPath(root)
    const claim = new SpoolClaim(root, path, owner)
    claim.heartbeat = setInterval(() => claim.touch(), HEARTBEAT_MS)
    claim.heartbeat.unref()
    return claim
  }

  /** Moves every abandoned claim under `root` into this one; returns how many were taken. */
  takeOverAbandoned(): number {
    let taken = 0
    for (const name of safeReaddir(this.root)) {
      const path = join(this.root, name)
      if (name.startsWith('.') || path === this.path || !isAbandoned(path)) continue
      try {
        renameSync(path, join(this.path, `${INHERITED_PREFIX}${name}`))
        taken++
      } catch {
        // Another process took it first (ENOENT), or it is not a directory: not ours.
      }
    }
    if (taken > 0) syncPath(this.path)
    return taken
  }

  /** Recreates the directory if it vanished while running; throws when that fails. */
  restore(): void {
    mkdirSync(this.path, { recursive: true })
    writeOwner(this.path, this.owner)
  }

  /** Stops the heartbeat. With records left the claim is marked released for the next process; else removed. */
  release(empty: boolean): void {
    clearInterval(this.heartbeat)
    try {
      if (empty) rmSync(this.path, { recursive: true, force: true })
      else writeOwner(this.path, { ...this.owner, released: true })
    } catch {
      // A vanished or unwritable directory: the next process judges the claim by its pid.
    }
  }

  private touch(): void {
    try {
      const now = new Date()
      utimesSync(join(this.path, OWNER_FILE), now, now)
    } catch {
      // Reported by the spool when it next writes; the heartbeat only matters to other hosts.
    }
  }
}

function writeOwner(dir: string, owner: Owner): void {
  const path = join(dir, OWNER_FILE)
  writeFileSync(`${path}.tmp`, JSON.stringify(owner))
  renameSync(`${path}.tmp`, path)
}

/** Whether the claim at `path` may be taken: released, or its owner no longer runs. */
export function isAbandoned(path: string): boolean {
  let owner: Owner
  let ownerAge: number
  try {
    const ownerPath = join(path, OWNER_FILE)
    ownerAge = Date.now() - statSync(ownerPath).mtimeMs
    owner = JSON.parse(readFileSync(ownerPath, 'utf8')) as Owner
  } catch {
    // A damaged or missing owner file: abandoned once nothing has touched the directory for a while.
    try {
      return statSync(path).isDirectory() && Date.now() - statSync(path).mtimeMs > STALE_CLAIM_MS
    } catch {
      return false
    }
  }
  if (owner.released) return true
  if (owner.host !== hostname()) return ownerAge > STALE_CLAIM_MS
  if (!isRunning(owner.pid)) return true
  const start = pidStart(owner.pid)
  return owner.pidStart !== undefined && start !== undefined && start !== owner.pidStart
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); undefined off Linux. */
function pidStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}

export function safeReaddir(path: string): string[] {
  try {
    return readdirSync(path)
  } catch {
    return []
  }
}

