import { DROP_REASONS, FAIL_REASONS } from '../../counters/counter-names.js'
import { SINK_FAIL_REASONS } from '../../counters/sink-counters.js'
import { jsonTerminalSafe, terminalSafe } from '../terminal-safe.js'
import type { TailUpdate } from './tail-update.js'

const RED = '\x1b[1;41;97m'
const BOLD = '\x1b[1m'
const DIM = '\x1b[2m'
const RESET = '\x1b[0m'

function rate(update: TailUpdate, name: keyof NonNullable<TailUpdate['rates']>): string {
  const value = update.rates?.[name]
  return value === undefined ? '-' : `${Math.round(value)}/s`
}

function movedText(update: TailUpdate): string {
  return Object.entries(update.droppedNow)
    .map(([reason, n]) => `${reason}+${n}`)
    .join(' ')
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

/** A count from a snapshot: a stats file or endpoint may hold anything where a number belongs. */
function count(value: unknown): string {
  return Number(value).toLocaleString('en-US')
}

/**
 * Piped mode: one greppable `key=value` line per update; `DROPPING` marks lines where the drop counter moved.
 * The snapshot comes from a file or an endpoint: the line is made terminal-safe as a whole (it has no colors).
 */
export function renderLine(update: TailUpdate): string {
  const c = update.snapshot.counters
  const parts = [
    update.snapshot.time,
    `received=${c.received} (${rate(update, 'received')})`,
    `written=${c.written} (${rate(update, 'written')})`,
    `dropped=${update.dropped}`,
    `failed=${update.failed}`,
    `queued_records=${c.queued_records}`,
    `queued_bytes=${c.queued_bytes}`,
    `batches=${c.batches}`,
    `retries=${c.retries}`,
  ]
  if (c.offloaded > 0) parts.push(`offloaded=${c.offloaded}`)
  // The disk spool, once it has been used (docs/spool.md).
  if (c.spooled > 0 || c.recovered > 0) {
    parts.push(`spool_records=${c.spool_records}`, `spool_bytes=${c.spool_bytes}`, `spool_oldest_age_ms=${c.spool_oldest_age_ms}`, `spooled=${c.spooled}`, `replayed=${c.replayed}`, `recovered=${c.recovered}`)
  }
  for (const [name, s] of Object.entries(update.snapshot.sinks ?? {})) parts.push(`sinks.${name}.delivered=${s.delivered} sinks.${name}.failed=${s.failed}`)
  if (update.snapshot.final) parts.push('FINAL')
  const moved = movedText(update)
  if (moved) parts.push(`DROPPING ${moved}`)
  return `${terminalSafe(parts.join(' '))}\n`
}

/** --json: one object per update, for other tools. */
export function renderJson(update: TailUpdate): string {
  const { snapshot } = update
  return `${jsonTerminalSafe(JSON.stringify({ time: snapshot.time, writer: snapshot.writer, final: snapshot.final, counters: snapshot.counters, sinks: snapshot.sinks ?? {}, rates: update.rates ?? null, dropped_now: update.droppedNow }))}\n`
}

/** TTY mode: a small screen redrawn in place; the dropped row turns red while it moves. Text from the snapshot is made terminal-safe piece by piece: the colors are ours. */
export function renderScreen(update: TailUpdate, where: string, status: string | undefined, color: boolean): string[] {
  const { snapshot } = update
  const c = snapshot.counters
  const paint = (style: string, text: string): string => (color ? `${style}${text}${RESET}` : text)
  const row = (label: string, total: number, perSecond: string, note = ''): string =>
    `  ${label.padEnd(16)}${total.toLocaleString('en-US').padStart(15)}  ${perSecond.padStart(12)}${note}`
  const moved = movedText(update)
  const lines = [
    `${paint(BOLD, 'sluice tail')}  ${terminalSafe(where)}  ${terminalSafe(snapshot.writer.hostname)}:${terminalSafe(snapshot.writer.pid)}  ${terminalSafe(snapshot.time)}${snapshot.final ? '  (final)' : ''}`,
    paint(DIM, `  ${''.padEnd(16)}${'total'.padStart(15)}  ${'per second'.padStart(12)}`),
    row('received', c.received, rate(update, 'received')),
    row('written', c.written, rate(update, 'written')),
    moved ? paint(RED, `${row('dropped', update.dropped, `${Math.round(sumRates(update, 'dropped_'))}/s`)}  ▲ DROPPING ${moved}`) : row('dropped', update.dropped, update.rates ? '0/s' : '-'),
  ]
  for (const reason of DROP_REASONS) if (c[`dropped_${reason}`] > 0) lines.push(row(`  ${reason}`, c[`dropped_${reason}`], ''))
  lines.push(row('failed', update.failed, update.rates ? `${Math.round(sumRates(update, 'failed_'))}/s` : '-'))
  for (const reason of FAIL_REASONS) if (c[`failed_${reason}`] > 0) lines.push(row(`  ${reason}`, c[`failed_${reason}`], ''))
  lines.push(`  ${'queue depth'.padEnd(16)}${c.queued_records.toLocaleString('en-US').padStart(15)}  ${mb(c.queued_bytes).padStart(12)}`)
  lines.push(row('batches', c.batches, rate(update, 'batches')), row('retries', c.retries, rate(update, 'retries')))
  if (c.offloaded > 0) lines.push(row('offloaded', c.offloaded, rate(update, 'offloaded')))
  if (c.spooled > 0 || c.recovered > 0) {
    lines.push(`  ${'in spool'.padEnd(16)}${c.spool_records.toLocaleString('en-US').padStart(15)}  ${mb(c.spool_bytes).padStart(12)}  oldest ${Math.round(c.spool_oldest_age_ms / 1000)} s`)
    lines.push(row('spooled', c.spooled, rate(update, 'spooled')), row('replayed', c.replayed, rate(update, 'replayed')))
    if (c.recovered > 0) lines.push(row('recovered', c.recovered, ''))
  }
  const sinks = Object.entries(snapshot.sinks ?? {})
  if (sinks.length > 0) lines.push(paint(DIM, `  ${'sink'.padEnd(16)}${'delivered'.padStart(15)}  ${'failed'.padStart(12)}`))
  for (const [name, s] of sinks) {
    const why = SINK_FAIL_REASONS.filter((reason) => (s[`failed_${reason}`] ?? 0) > 0)
      .map((reason) => `failed_${reason}=${count(s[`failed_${reason}`])}`)
      .join(' ')
    lines.push(`  ${terminalSafe(name).padEnd(16)}${count(s.delivered).padStart(15)}  ${count(s.failed).padStart(12)}${why ? `  ${why}` : ''}`)
  }
  lines.push('', status ? paint(BOLD, terminalSafe(status)) : paint(DIM, 'Ctrl-C to quit'))
  return lines
}

function sumRates(update: TailUpdate, prefix: string): number {
  return Object.entries(update.rates ?? {}).reduce((sum, [name, value]) => (name.startsWith(prefix) ? sum + (value ?? 0) : sum), 0)
}
