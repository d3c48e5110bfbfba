/**
 * Resolves `options.sinks` (custom sinks: `[{ target, options, role, name }]`,
 * the shape of pino's `targets`) and chooses the store of record, so the
 * worker only builds combinations that make sense:
 *
 * - store of record: at most one of `postgres: {…}`, `file: {…}`, a sink with `role: 'store'`;
 *   none named and `postgres` not `false`: Postgres (the default).
 * - `postgres: false` and no other store: records count as written once the stages had them;
 *   allowed only with `cloudwatch` or a fan-out sink (else nothing would receive them),
 *   and `s3` then needs a fan-out sink to keep the pointers it writes into records.
 */
import { OptionsError, describe, readInt, rejectUnknownKeys } from '../../sinks/shared/option-reader.js'
import type { SinkRole } from '../../sinks/sink.js'

export interface SinkEntry {
  /** Position in options.sinks, for messages. */
  readonly index: number
  /** What the worker imports: as the user gave it (package name, absolute path or file:// URL), or the file:// URL createSluice() resolved it to. */
  readonly target: string
  /** The target as the user wrote it, for messages (createSluice() resolves `target` on the app thread). */
  readonly asWritten: string
  readonly options: Readonly<Record<string, unknown>>
  readonly role: SinkRole
  readonly name: string
  readonly timeoutMs: number
  readonly maxQueued: number
  /**
   * Stages only: when the stage throws, times out, answers nonsense or leaves records unprocessed,
   * the records it did not process are not stored but count as `failed_stage` (true, the default:
   * a redacting stage must not let through what it did not redact), or go on to the store as
   * they are (false).
   */
  readonly failClosed: boolean
}

export type StoreChoice = { kind: 'postgres' } | { kind: 'file' } | { kind: 'sink'; index: number } | { kind: 'none' }

const ENTRY_KEYS = ['target', 'options', 'role', 'name', 'timeoutMs', 'maxQueued', 'failClosed', 'targetAsWritten'] as const
const ROLES: readonly SinkRole[] = ['store', 'stage', 'fanout']
const NAME_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/

/** A counter-friendly name from the target: `@acme/pino-webhook` → `pino-webhook`, `/x/my_sink.mjs` → `my_sink`. */
export function nameFromTarget(target: string): string {
  const last = target.replace(/\/+$/, '').split(/[\\/]/).pop() ?? ''
  const base = last.replace(/\.(m|c)?(j|t)s$/, '').toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^[^a-z]+/, '')
  return base.slice(0, 32) || 'sink'
}

function readEntry(value: unknown, index: number): SinkEntry {
  const where = `sinks[${index}]`
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new OptionsError(`options.${where} must be an object such as { target: 'my-sink-package', options: {} }, got ${describe(value)}.`)
  }
  const entry = value as Record<string, unknown>
  rejectUnknownKeys(entry, ENTRY_KEYS, where)
  const target = entry.target
  if (typeof target !== 'string' || target.length === 0) {
    throw new OptionsError(`options.${where}.target must be a package name, an absolute path or a file:// URL of a sink module, got ${describe(target)}.`)
  }
  const options = entry.options ?? {}
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new OptionsError(`options.${where}.options must be an object (handed to the sink's factory), got ${describe(options)}. Omit it to pass {}.`)
  }
  const role = entry.role ?? 'fanout'
  if (typeof role !== 'string' || !ROLES.includes(role as SinkRole)) {
    throw new OptionsError(
      `options.${where}.role must be 'fanout' (gets every batch, keeps its own counts; the default), 'store' (the store of record, instead of Postgres) or 'stage' (sees every batch first), got ${describe(role)}.`,
    )
  }
  const name = entry.name ?? nameFromTarget(target)
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new OptionsError(`options.${where}.name must be 1 to 32 lower-case letters, digits, _ or -, starting with a letter (it names the sink's counters), got ${describe(name)}.`)
  }
  const failClosed = entry.failClosed ?? role === 'stage'
  if (typeof failClosed !== 'boolean') throw new OptionsError(`options.${where}.failClosed must be true or false, got ${describe(failClosed)}.`)
  if (entry.failClosed !== undefined && role !== 'stage') {
    throw new OptionsError(`options.${where}.failClosed applies to stages only (role: 'stage'); remove it, or set role: 'stage'.`)
  }
  const asWritten = typeof entry.targetAsWritten === 'string' ? entry.targetAsWritten : target
  return Object.freeze({
    index,
    failClosed,
    target,
    asWritten,
    options: options as Record<string, unknown>,
    role: role as SinkRole,
    name,
    timeoutMs: readInt(entry, 'timeoutMs', where, 10_000, { min: 1, max: 600_000, unit: 'ms, how long one call may take' }),
    maxQueued: readInt(entry, 'maxQueued', where, 4, { min: 1, max: 1000, unit: 'batches waiting for this sink before new ones fail as overflow' }),
  })
}

export function resolveSinks(root: Record<string, unknown>): readonly SinkEntry[] {
  const value = root.sinks
  if (value === undefined) return Object.freeze([])
  if (!Array.isArray(value)) throw new OptionsError(`options.sinks must be an array such as [{ target: 'my-sink-package', options: {} }], got ${describe(value)}.`)
  const entries = value.map(readEntry)
  const seen = new Set<string>()
  // The built-in sinks this configuration runs: a custom sink may not share their counters.
  const builtIns = [root.postgres !== false && root.file === undefined && !entries.some((e) => e.role === 'store') ? 'postgres' : '', root.file !== undefined ? 'file' : '', root.s3 !== undefined ? 's3' : '', root.cloudwatch !== undefined ? 'cloudwatch' : '']
  for (const entry of entries) {
    if (builtIns.includes(entry.name)) {
      throw new OptionsError(`options.sinks[${entry.index}] is named "${entry.name}" like the built-in ${entry.name} sink of this configuration (their counters would mix). Give it another name (options.sinks[${entry.index}].name).`)
    }
    if (seen.has(entry.name)) {
      throw new OptionsError(`options.sinks[${entry.index}] is named "${entry.name}" like an earlier sink. Give each sink its own name (options.sinks[${entry.index}].name).`)
    }
    seen.add(entry.name)
  }
  return Object.freeze(entries)
}

/** Which sink is the store of record; throws when the combination makes no sense (see the header). */
export function chooseStore(root: Record<string, unknown>, sinks: readonly SinkEntry[]): StoreChoice {
  const named: { label: string; choice: StoreChoice }[] = []
  if (root.postgres !== undefined && root.postgres !== false) named.push({ label: 'postgres', choice: { kind: 'postgres' } })
  if (root.file !== undefined) named.push({ label: 'file', choice: { kind: 'file' } })
  for (const entry of sinks) if (entry.role === 'store') named.push({ label: `sinks[${entry.index}] (role: 'store')`, choice: { kind: 'sink', index: entry.index } })
  if (named.length > 1) {
    throw new OptionsError(
      `options names ${named.length} stores of record (${named.map((n) => n.label).join(', ')}); there can be one. Keep one, and give the others role: 'fanout' (they get every batch too, with their own counts)${root.postgres !== undefined && root.postgres !== false ? ", or drop the postgres section (and set postgres: false if DATABASE_URL is set)" : ''}.`,
    )
  }
  if (root.postgres !== undefined && root.postgres !== false && (root.postgres === null || typeof root.postgres !== 'object')) {
    throw new OptionsError(`options.postgres must be an object such as { url, table }, or false for no Postgres, got ${describe(root.postgres)}.`)
  }
  const first = named[0]
  if (first) return first.choice
  if (root.postgres !== false) return { kind: 'postgres' }
  const fanouts = sinks.filter((entry) => entry.role === 'fanout').length
  if (root.cloudwatch === undefined && fanouts === 0) {
    throw new OptionsError(
      "options.postgres is false and nothing else would receive the records. Add a store of record (file: { path }, or a sink with role: 'store'), a fan-out sink (sinks: [{ target }]), or cloudwatch: { namespace }.",
    )
  }
  if (root.s3 !== undefined && fanouts === 0) {
    throw new OptionsError(
      "options.s3 offloads payloads and leaves a pointer in the record, but with postgres: false and no other store of record the pointers would be kept nowhere. Add a store of record (file: { path }, or a sink with role: 'store') or a fan-out sink, or remove options.s3.",
    )
  }
  return { kind: 'none' }
}
