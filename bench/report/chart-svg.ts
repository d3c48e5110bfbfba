import { SYSTEM_LABELS } from '../bench-spec.js'
import type { BenchReport } from './write-results.js'

const BAR_HEIGHT = 16
const GAP = 6
const LABEL_WIDTH = 270
const BAR_WIDTH = 330
const VALUE_WIDTH = 110
const WIDTH = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

interface Panel {
  title: string
  rows: { label: string; value: number; text: string; highlight: boolean }[]
}

/**
 * Horizontal bar charts of one bench run: committed rows/s per system for
 * each scenario, and main-thread ns per log call in the burst. Plain SVG
 * text, no dependency; the README embeds the latest one.
 */
export function chartSvg(report: BenchReport): string {
  const panels: Panel[] = []
  const ours = (system: string): boolean => system.startsWith('pino-sluice') || system.startsWith('create-sluice')
  for (const [scenario, title] of Object.entries(report.scenarioTitles)) {
    // At startup what matters is how much of the burst is kept, not how fast.
    const startup = scenario.startsWith('startup')
    const rows = report.summaries
      .filter((s) => s.scenario === scenario && s.runs > 0 && (startup || s.values.rowsPerSec > 0))
      .map((s) => ({
        label: SYSTEM_LABELS[s.system],
        value: startup ? s.values.written : s.values.rowsPerSec,
        text: startup ? `${Math.round(s.values.written).toLocaleString('en-US')} of ${Math.round(s.values.emitted).toLocaleString('en-US')} in the DB` : `${Math.round(s.values.rowsPerSec).toLocaleString('en-US')} rows/s`,
        highlight: ours(s.system),
      }))
    if (rows.length > 0) panels.push({ title: startup ? `${title}: rows in the database` : `${title}: rows committed per second`, rows })
  }
  if (report.maxRate && report.maxRate.steps.length > 0) {
    const rows = report.maxRate.steps.map((step) => ({
      label: `${step.rate.toLocaleString('en-US')} rec/s offered`,
      value: step.rowsPerSec,
      text: `${Math.round(step.rowsPerSec).toLocaleString('en-US')} rows/s, ${step.dropped.toLocaleString('en-US')} dropped`,
      highlight: step.rate <= report.maxRate!.highest,
    }))
    panels.push({ title: `Highest sustained rate with 0 drops (${SYSTEM_LABELS[report.maxRate.system]}, defaults): ${report.maxRate.highest.toLocaleString('en-US')} rec/s`, rows })
  }
  const calls = report.summaries
    .filter((s) => s.scenario === 'burst' && s.nsPerCall !== null)
    .map((s) => ({ label: SYSTEM_LABELS[s.system], value: s.nsPerCall as number, text: `${Math.round(s.nsPerCall as number).toLocaleString('en-US')} ns/call`, highlight: ours(s.system) }))
  if (calls.length > 0) panels.push({ title: 'Burst: app-thread cost per log call (lower is better)', rows: calls })

  const out: string[] = []
  let y = 28
  out.push(`<text x="0" y="16" font-size="13" font-weight="bold">pino-sluice bench, ${escape(report.machine.date.slice(0, 16).replace('T', ' '))} UTC, ${report.machine.cores} cores, Node ${escape(report.machine.node)}</text>`)
  for (const panel of panels) {
    y += 14
    out.push(`<text x="0" y="${y}" font-size="12" font-weight="bold">${escape(panel.title)}</text>`)
    y += 8
    const max = Math.max(...panel.rows.map((r) => r.value))
    for (const row of panel.rows) {
      const width = Math.max(1, Math.round((row.value / max) * BAR_WIDTH))
      out.push(`<text x="${LABEL_WIDTH - 6}" y="${y + BAR_HEIGHT - 4}" font-size="11" text-anchor="end">${escape(row.label)}</text>`)
      out.push(`<rect x="${LABEL_WIDTH}" y="${y}" width="${width}" height="${BAR_HEIGHT}" fill="${row.highlight ? '#2f6fb3' : '#a9b4c2'}"/>`)
      out.push(`<text x="${LABEL_WIDTH + width + 4}" y="${y + BAR_HEIGHT - 4}" font-size="11">${escape(row.text)}</text>`)
      y += BAR_HEIGHT + GAP
    }
  }
  const height = y + 8
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH + 60}" height="${height}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${out.join('\n')}\n</svg>\n`
}
