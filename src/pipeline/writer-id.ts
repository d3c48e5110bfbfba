import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'

/** Identifies this process's writer in every row: host, pid and a random part. */
export function newWriterId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`
}
