import { closeSync, fsyncSync, openSync } from 'node:fs'

/**
 * fsync a file or directory through a descriptor of its own: Linux syncs the
 * file whichever descriptor asks, and a directory's fsync makes its new or
 * renamed entries durable. Best effort: a path deleted meanwhile (a settled
 * segment) or a file system that cannot open directories has nothing to sync.
 */
export function syncPath(path: string): void {
  let fd: number | undefined
  try {
    fd = openSync(path, 'r')
    fsyncSync(fd)
  } catch {
    // Gone, or not supported here: nothing left to make durable.
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}
