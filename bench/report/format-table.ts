import { SYSTEM_LABELS, usesDatabase } from '../bench-spec.js'
import type { Summary } from './median.js'

/** Columns shared by the console and Markdown tables; ratios are within one scenario of one run. */
export const HEADERS = ['system', 'ns/call', '× no-op', '× pino/file', 'rows/s', '× 1-tx COPY', '× ceiling', 'written', 'dropped', 'failed', 'unaccounted', 'drain s', 'RSS +MB', 'RSS × no-op', 'peak RSS MB', 'CPU µs/rec app thread', 'other threads', 'Postgres µs/row']

const times = (a: number | null | undefined, b: number | null | undefined): string => (a == null || !b ? '—' : `${(a / b).toFixed(2)}×`)

const micros = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '—')

const int = (v: number): string => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : 'n/a')

export function tableRows(summaries: readonly Summary[]): string[][] {
  const file = summaries.find((s) => s.system === 'pino-file' && s.runs > 0)
  const copy = summaries.find((s) => s.system === 'raw-copy' && s.runs > 0)
  const ceiling = summaries.find((s) => s.system === 'copy-5000' && s.runs > 0)
  const noop = summaries.find((s) => s.system === 'pino-noop' && s.runs > 0)
  return summaries.map((s) => {
    if (s.runs === 0) return [SYSTEM_LABELS[s.system], `failed: ${(s.errors[0] ?? 'no run').replace(/\s+/g, ' ')}`.slice(0, 40), ...HEADERS.slice(2).map(() => '')]
    const v = s.values
    const dbSystem = usesDatabase(s.system)
    return [
      SYSTEM_LABELS[s.system] + (s.failedRuns > 0 ? ` (${s.failedRuns} failed)` : ''),
      s.nsPerCall === null ? '—' : int(s.nsPerCall),
      times(s.nsPerCall, noop?.nsPerCall),
      times(s.nsPerCall, file?.nsPerCall),
      int(v.rowsPerSec),
      dbSystem ? times(v.rowsPerSec, copy?.values.rowsPerSec) : '—',
      dbSystem ? times(v.rowsPerSec, ceiling?.values.rowsPerSec) : '—',
      int(v.written),
      dbSystem ? int(v.dropped) : '—',
      dbSystem ? int(v.failed) : '—',
      s.unaccountedMax === null ? '—' : int(s.unaccountedMax),
      (v.drainMs / 1000).toFixed(2),
      v.rssGrowthMB.toFixed(1),
      s.nsPerCall === null ? '—' : times(v.rssGrowthMB, noop?.values.rssGrowthMB),
      v.peakRssMB.toFixed(1),
      micros(v.appThreadUsPerRecord),
      micros(v.otherThreadsUsPerRecord),
      dbSystem ? micros(v.serverUsPerRow) : '—',
    ]
  })
}

export function consoleTable(rows: readonly string[][]): string {
  const all = [HEADERS, ...rows]
  const widths = HEADERS.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)))
  const line = (r: readonly string[]): string => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ')
  return [line(HEADERS), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

export function markdownTable(rows: readonly string[][]): string {
  const line = (r: readonly string[]): string => `| ${r.join(' | ')} |`
  return [line(HEADERS), `| --- |${' ---: |'.repeat(HEADERS.length - 1)}`, ...rows.map(line)].join('\n')
}
