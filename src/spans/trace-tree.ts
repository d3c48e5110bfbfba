import type { TokenTotals, Trace, TraceLog, TraceModelUsage, TraceSpan } from './load-trace.js'
import { jsonTerminalSafe, terminalSafe } from '../cli/terminal-safe.js'
import { cacheHitRatio } from './usage-totals.js'

export interface RenderOptions {
  /** ANSI colors (red errors, dim logs); the CLI turns them on for a terminal without NO_COLOR. */
  color?: boolean
  /** Longest `data` JSON shown after a log message. */
  maxDataChars?: number
}

/** A span with its children and the log lines written inside it, ordered by time. */
export interface TraceNode {
  span: TraceSpan
  children: TraceNode[]
  logs: TraceLog[]
}

export interface TraceTree {
  traceId: string
  roots: TraceNode[]
  /** Log lines of the trace whose span_id names no stored span (e.g. a span still running or dropped). */
  looseLogs: TraceLog[]
  totals: TokenTotals & {
    costUsd: number | null
    spans: number
    errors: number
    durationMs: number
    /** Model usages (one per span and model) stored without a cost: `costUsd` leaves them out (counted over the loaded spans). */
    unpriced: number
    /** Their models, sorted. */
    unpricedModels: string[]
  }
  /** Spans and log lines stored for the trace but not loaded (the reader's limit). */
  omitted: { spans: number; logs: number }
}

/** Spans whose parent is not in the trace (the root, or children of a remote parent) become roots. */
export function buildTraceTree(trace: Trace): TraceTree {
  const nodes = new Map<string, TraceNode>()
  for (const span of trace.spans) nodes.set(span.spanId, { span, children: [], logs: [] })
  const roots: TraceNode[] = []
  for (const node of nodes.values()) {
    const parent = node.span.parentSpanId === null ? undefined : nodes.get(node.span.parentSpanId)
    if (parent && parent !== node) parent.children.push(node)
    else roots.push(node)
  }
  const looseLogs: TraceLog[] = []
  for (const log of trace.logs) {
    const node = log.spanId === null ? undefined : nodes.get(log.spanId)
    if (node) node.logs.push(log)
    else looseLogs.push(log)
  }
  const totals = { input: 0n, output: 0n, cacheRead: 0n, cacheCreation: 0n, costUsd: null as number | null, spans: 0, errors: 0, durationMs: 0, unpriced: 0, unpricedModels: [] as string[] }
  const unpricedModels = new Set<string>()
  let start = Number.POSITIVE_INFINITY
  let end = Number.NEGATIVE_INFINITY
  for (const span of trace.spans) {
    totals.input += span.tokens.input
    totals.output += span.tokens.output
    totals.cacheRead += span.tokens.cacheRead
    totals.cacheCreation += span.tokens.cacheCreation
    if (span.costUsd !== null) totals.costUsd = (totals.costUsd ?? 0) + span.costUsd
    totals.spans++
    if (span.status === 'error') totals.errors++
    for (const m of span.models) {
      if (m.costUsd !== null) continue
      totals.unpriced++
      unpricedModels.add(m.model)
    }
    start = Math.min(start, span.startMs)
    end = Math.max(end, span.endMs)
  }
  totals.durationMs = trace.spans.length > 0 ? end - start : 0
  totals.unpricedModels = [...unpricedModels].sort()
  // Some spans were not loaded: the database counted the totals over all of them.
  const unpriced = { unpriced: totals.unpriced, unpricedModels: totals.unpricedModels }
  return { traceId: trace.traceId, roots, looseLogs, totals: trace.spanTotals ? { ...trace.spanTotals, ...unpriced } : totals, omitted: trace.omitted }
}

const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' }

export function formatDuration(ms: number): string {
  if (ms < 1) return `${ms.toFixed(3)} ms`
  if (ms < 1000) return `${ms.toFixed(1)} ms`
  return `${(ms / 1000).toFixed(2)} s`
}

/** 1234567 → "1,234,567", exact for any bigint. */
export function formatCount(value: bigint): string {
  return value.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

export function formatCost(usd: number): string {
  return usd > 0 && usd < 0.0001 ? `$${usd.toExponential(2)}` : `$${usd.toFixed(4)}`
}

function formatTokens(t: TokenTotals): string {
  if (t.input === 0n && t.output === 0n && t.cacheRead === 0n && t.cacheCreation === 0n) return ''
  const ratio = cacheHitRatio(t.input, t.cacheRead, t.cacheCreation)
  const hit = ratio === null ? '' : ` (hit ${(ratio * 100).toFixed(1)}%)`
  return `in ${formatCount(t.input)} out ${formatCount(t.output)} cache read ${formatCount(t.cacheRead)} write ${formatCount(t.cacheCreation)}${hit}`
}

function formatModel(m: TraceModelUsage): string {
  const cost = m.costUsd === null ? '  no price' : `  ${formatCost(m.costUsd)}`
  return `model ${terminalSafe(m.model)}: ${formatTokens(m) || 'no tokens'}${cost}`
}

function clock(time: Date): string {
  return time.toISOString().slice(11, 23)
}

/**
 * Renders the tree for a terminal: one line per span (status, duration, tokens, cost) with its logs and model lines under it.
 * Every text that came from the data is passed through terminalSafe: the only escape sequences are our own colors.
 */
export function renderTraceTree(tree: TraceTree, options: RenderOptions = {}): string {
  const paint = (code: string, text: string): string => (options.color ? `\x1b[${code}m${text}\x1b[0m` : text)
  const maxData = options.maxDataChars ?? 120
  const out: string[] = []
  const t = tree.totals
  const summary = [
    `trace ${tree.traceId}`,
    `${t.spans} span${t.spans === 1 ? '' : 's'}`,
    t.errors > 0 ? paint('31', `${t.errors} error${t.errors === 1 ? '' : 's'}`) : '',
    formatDuration(t.durationMs),
    formatTokens(t) ? `tokens ${formatTokens(t)}` : '',
    t.costUsd === null ? '' : formatCost(t.costUsd),
    // A total that leaves calls out must say so.
    t.unpriced === 0 ? '' : paint('33', `${t.unpriced} call${t.unpriced === 1 ? '' : 's'} unpriced (${t.unpricedModels.join(', ')})${t.costUsd === null ? '' : ', not in the cost'}`),
  ].filter((part) => part !== '')
  out.push(paint('1', summary.join('  ·  ')))

  const logLine = (log: TraceLog): string => {
    const level = LEVEL_NAMES[log.level] ?? String(log.level)
    let data = Object.keys(log.data).length > 0 ? ` ${JSON.stringify(log.data)}` : ''
    if (data.length > maxData) data = `${data.slice(0, maxData - 1)}…`
    return `${clock(log.time)} ${level.padEnd(5)} ${terminalSafe(log.msg ?? '')}${terminalSafe(data)}`
  }
  const spanLine = (span: TraceSpan): string => {
    const status = span.status === 'ok' ? paint('32', 'ok') : paint('31', terminalSafe(span.status.toUpperCase()))
    const parts = [paint('1', terminalSafe(span.name)), status, formatDuration(span.durationMs)]
    const tokens = formatTokens(span.tokens)
    if (tokens) parts.push(tokens)
    if (span.costUsd !== null) parts.push(formatCost(span.costUsd))
    if (span.errorType !== null || span.errorMessage !== null) parts.push(paint('31', terminalSafe(`${span.errorType ?? 'Error'}: ${span.errorMessage ?? ''}`)))
    return parts.join('  ')
  }

  type Item = { time: number; line: string; node?: TraceNode; log?: TraceLog }
  /**
   * Log times are whole milliseconds, span starts have microseconds. Within
   * one millisecond, a log the same writer emitted before the child span's
   * record (which is written when the child ends) is shown before the child.
   */
  const order = (a: Item, b: Item): number => {
    const log = a.log ?? b.log
    const span = a.node?.span ?? b.node?.span
    if (log && span && Math.floor(span.startMs) === log.time.getTime()) {
      const logFirst = log.writerId !== span.writerId || log.seq < span.seq
      return (a.log ? -1 : 1) * (logFirst ? 1 : -1)
    }
    return a.time - b.time
  }
  const walk = (node: TraceNode, prefix: string, connector: string, below: string): void => {
    out.push(`${prefix}${connector}${spanLine(node.span)}`)
    const items: Item[] = []
    // Per-model lines only add information when there is more than one model.
    const first = Number.NEGATIVE_INFINITY
    if (node.span.models.length > 1) for (const m of node.span.models) items.push({ time: first, line: paint('36', formatModel(m)) })
    else if (node.span.models.length === 1) {
      const only = node.span.models[0] as TraceModelUsage
      items.push({ time: first, line: paint('36', `model ${terminalSafe(only.model)}${only.costUsd === null ? '  no price' : ''}`) })
    }
    for (const log of node.logs) items.push({ time: log.time.getTime(), line: paint('2', logLine(log)), log })
    for (const child of node.children) items.push({ time: child.span.startMs, line: '', node: child })
    items.sort(order)
    items.forEach((item, i) => {
      const last = i === items.length - 1
      if (item.node) walk(item.node, prefix + below, last ? '└─ ' : '├─ ', last ? '   ' : '│  ')
      else out.push(`${prefix}${below}${last ? '└─ ' : '├─ '}${item.line}`)
    })
  }
  tree.roots.forEach((root, i) => {
    if (i > 0 || tree.roots.length > 1) out.push('')
    walk(root, '', '', '')
  })
  if (tree.looseLogs.length > 0) {
    out.push('', 'logs of this trace outside any stored span:')
    for (const log of tree.looseLogs) out.push(`  ${paint('2', logLine(log))}`)
  }
  if (tree.roots.length === 0 && tree.looseLogs.length === 0) out.push('(no spans or logs stored for this trace)')
  return `${out.join('\n')}\n`
}

/**
 * The tree as plain JSON: counts stay numbers while safe and become decimal
 * strings beyond 2^53. Exact (parsing gives back every string as stored) and
 * still safe to print on a terminal. `tables` names where the row ids point:
 * `{ logs: 'public.logs', spans: 'public.logs_spans' }`.
 */
export function traceTreeJson(tree: TraceTree, tables?: { logs: string; spans: string }): string {
  return jsonTerminalSafe(JSON.stringify(
    tables === undefined ? tree : { ...tree, tables },
    (_key, value: unknown) => (typeof value === 'bigint' ? (value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString()) : value),
    2,
  ))
}
