import type { S3Client } from '@aws-sdk/client-s3'
import pLimit from 'p-limit'
import type postgres from 'postgres'
import { isKeyUnderPrefix, isPointer, pointerTarget } from '../../sinks/s3/pointer.js'
import { createS3Client } from '../../sinks/s3/s3-client.js'
import { readPrefix, resolveS3ClientOptions, S3_KEYS } from '../../sinks/s3/s3-options.js'
import { OptionsError, describe, readIdentifier, readInt, rejectUnknownKeys } from '../../sinks/shared/option-reader.js'
import type { SluiceOptions } from '../options/sluice-options.js'
import { fetchPayload } from './fetch-payload.js'

type TransportS3Options = NonNullable<SluiceOptions['s3']>

/**
 * An `S3Client` of `@aws-sdk/client-s3`, typed by shape so these declarations do not need the
 * SDK installed (it is an optional peer dependency).
 */
export interface S3ClientLike {
  send(command: object, options?: object): Promise<unknown>
}

/**
 * Where the payloads are: the transport's own `s3` options (the connection part and the prefix are used),
 * or a client of yours plus the bucket (and the prefix, default 'pino-sluice/' as the transport's).
 */
export type MaterializeS3Options = TransportS3Options | { bucket: string; client: S3ClientLike; prefix?: string }

export interface MaterializeOptions {
  /**
   * Only pointers into this bucket are followed (a record cannot make the reader fetch elsewhere), and
   * only to keys under its `prefix` (default 'pino-sluice/'): a pointer into the bucket outside it throws.
   */
  s3: MaterializeS3Options
  /** A postgres.js client; needed to look a row up by id. */
  sql?: postgres.Sql
  /** Logs table. Default 'logs'. */
  table?: string
  /** Schema. Default 'public'. */
  schema?: string
  /** Objects fetched at once. Default 8. */
  concurrency?: number
}

/** A row as `select *` returns it from the logs table (or the spans table); only `data` is required. */
export interface LogRow {
  time?: Date | string | number | null
  level?: number | null
  msg?: string | null
  hostname?: string | null
  pid?: number | null
  trace_id?: string | null
  span_id?: string | null
  data: Record<string, unknown> | string
  [column: string]: unknown
}

export type RowId = number | bigint | string

function isRowId(value: unknown): value is RowId {
  return (typeof value === 'number' && Number.isSafeInteger(value)) || typeof value === 'bigint' || (typeof value === 'string' && /^\d{1,19}$/.test(value))
}

/** Bookkeeping columns of ours, not part of what the app logged. */
const NOT_RECORD_FIELDS: ReadonlySet<string> = new Set(['data', 'id', 'writer_id', 'seq'])

/**
 * The record as pino emitted it: columns back in their fields, then
 * everything from `data`. Works for any of our tables' rows, so a spans-table
 * row gets its `payload` column fetched too.
 */
function recordFromRow(row: LogRow): Record<string, unknown> {
  const data = typeof row.data === 'string' ? (JSON.parse(row.data) as Record<string, unknown>) : row.data
  const record: Record<string, unknown> = {}
  const put = (field: string, value: unknown): void => {
    Object.defineProperty(record, field, { value, writable: true, enumerable: true, configurable: true })
  }
  for (const [column, value] of Object.entries(row)) {
    if (NOT_RECORD_FIELDS.has(column) || value === undefined || value === null) continue
    put(column, column === 'time' && value instanceof Date ? value.getTime() : value)
  }
  for (const [field, value] of Object.entries(data ?? {})) put(field, value)
  return record
}

async function loadRow(id: RowId, options: MaterializeOptions): Promise<LogRow | undefined> {
  const { sql } = options
  if (!sql) throw new OptionsError('materialize(id) needs options.sql, a postgres.js client, to read the row; or pass the row itself.')
  const holder = { table: options.table, schema: options.schema }
  const table = readIdentifier(holder, 'table', 'materialize', 'logs')
  const schema = readIdentifier(holder, 'schema', 'materialize', 'public')
  // No index on id by default: on a big table this scans; docs/s3.md ("Reading them back") shows one.
  const rows = await sql<LogRow[]>`select * from ${sql(schema)}.${sql(table)} where id = ${String(id)} limit 1`
  return rows[0]
}

/** Validated at once, whether or not the row turns out to have pointers; the client is made only when needed. */
function resolveSource(s3: MaterializeS3Options): { bucket: string; prefix: string; client: () => Promise<S3Client>; owned: boolean } {
  const section = s3 as unknown as Record<string, unknown>
  if ('client' in s3) {
    rejectUnknownKeys(section, ['bucket', 'client', 'prefix'], 'materialize.s3')
    const { bucket } = resolveS3ClientOptions({ bucket: s3.bucket }, 'materialize.s3')
    return { bucket, prefix: readPrefix(section, 'materialize.s3'), client: async () => s3.client as S3Client, owned: false }
  }
  rejectUnknownKeys(section, S3_KEYS, 'materialize.s3')
  const options = resolveS3ClientOptions(section, 'materialize.s3')
  return { bucket: options.bucket, prefix: readPrefix(section, 'materialize.s3'), client: () => createS3Client(options), owned: true }
}

/** A pointer into the bucket but outside the prefix: the wrong prefix given, or a record pointing at someone else's objects. */
export class PointerOutsidePrefixError extends Error {
  override readonly name = 'PointerOutsidePrefixError'
}

/**
 * Returns the full record of a row, its offloaded payloads fetched from S3
 * (at most `concurrency` at once) and put back in place. A payload whose
 * object is gone becomes `{ "$missing": "s3://…" }`; S3 being unreachable
 * throws. Given an id, reads the row first and returns undefined when there
 * is none.
 *
 * ```js
 * const record = await materialize(42, { sql, table: 'app_logs', s3: { bucket: 'my-logs' } })
 * ```
 */
export async function materialize(rowOrId: LogRow | RowId, options: MaterializeOptions): Promise<Record<string, unknown> | undefined> {
  if (options === null || typeof options !== 'object' || !options.s3) {
    throw new OptionsError('materialize needs options.s3 with at least the bucket the payloads are in, e.g. { s3: { bucket: "my-logs" } }')
  }
  const concurrency = readInt({ concurrency: options.concurrency }, 'concurrency', 'materialize', 8, { min: 1, max: 256 })
  const source = resolveSource(options.s3)
  let row: LogRow | undefined
  if (isRowId(rowOrId)) row = await loadRow(rowOrId, options)
  else if (rowOrId !== null && typeof rowOrId === 'object' && 'data' in rowOrId) row = rowOrId
  else throw new OptionsError(`materialize takes a row (an object with data) or a row id, got ${describe(rowOrId)}`)
  if (!row) return undefined

  const record = recordFromRow(row)
  const pointers = Object.entries(record).filter(([, value]) => isPointer(value))
  if (pointers.length === 0) return record
  // Checked before any fetch: the other objects in the bucket are not this reader's to follow.
  for (const [field, pointer] of pointers) {
    const target = isPointer(pointer) ? pointerTarget(pointer, source.bucket) : undefined
    if (target && !isKeyUnderPrefix(target.key, source.prefix)) {
      throw new PointerOutsidePrefixError(
        `field ${JSON.stringify(field)} points to s3://${target.bucket}/${target.key}, outside the key prefix ${JSON.stringify(source.prefix)}; ` +
          `only payloads under the prefix are fetched. Pass the s3.prefix the writer used (sluice materialize --prefix; '' for none).`,
      )
    }
  }
  const client = await source.client()
  try {
    const limit = pLimit(concurrency)
    await Promise.all(
      pointers.map(([field, pointer]) =>
        limit(async () => {
          if (!isPointer(pointer)) return
          const target = pointerTarget(pointer, source.bucket)
          if (!target) return // not ours: left as it is
          const value = await fetchPayload(client, target, pointer)
          Object.defineProperty(record, field, { value, writable: true, enumerable: true, configurable: true })
        }),
      ),
    )
  } finally {
    if (source.owned) client.destroy()
  }
  return record
}
