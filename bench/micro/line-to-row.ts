/**
 * Worker-side cost per record from a line to its COPY row (issue 25): the
 * parse path (parseLine: JSON.parse, then the row from the parsed value with
 * `data` cut from the line) against the byte path (readLine: the scanner,
 * then the row from what it found), on the same pino lines in batches of
 * the worker's size. CPU time of this thread, so GC is counted where it
 * falls; interleaved repeats, median.
 *
 * Standalone: `node dist/bench/micro/line-to-row.js [lines]`.
 */
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { EncodedBatch } from '../../sinks/postgres/encoded-batch.js'
import type { LogRecord } from '../../sinks/shared/log-record.js'
import { parseLine, type ParseResult } from '../../src/records/parse-line.js'
import { readLine } from '../../src/records/read-line.js'
import { logArgs } from '../bench-record.js'

const BATCH = 5000
const WRITER = 'bench-host:1:abcd'

export interface LineToRowResult {
  lines: number
  /** CPU nanoseconds per record, median of the repeats, by stage and in all. */
  nsPerRecord: Record<string, { read: number; encode: number; total: number }>
}

/** pino's own lines for the bench record. */
function pinoLines(count: number): string[] {
  const lines: string[] = []
  const logger = pino({}, { write: (line: string) => void lines.push(line.slice(0, -1)) })
  for (let i = 0; i < count; i++) logger.info(...logArgs(i))
  return lines
}

function cpuNs(): number {
  const { user, system } = process.cpuUsage()
  return (user + system) * 1000
}

function run(lines: readonly string[], read: (line: string, bytes: number, seq: number, now: number) => ParseResult): { read: number; encode: number; bytes: number } {
  let readNs = 0
  let encodeNs = 0
  let bytes = 0
  for (let at = 0; at < lines.length; at += BATCH) {
    const now = Date.now()
    let mark = cpuNs()
    const records: LogRecord[] = []
    for (let i = at; i < Math.min(at + BATCH, lines.length); i++) {
      const line = lines[i] as string
      const parsed = read(line, line.length, i + 1, now)
      if (parsed.ok) records.push(parsed.record)
    }
    readNs += cpuNs() - mark
    mark = cpuNs()
    bytes += EncodedBatch.encode(records, WRITER).copyData.length
    encodeNs += cpuNs() - mark
  }
  return { read: readNs, encode: encodeNs, bytes }
}

export function runLineToRowBench(count = 200_000, repeats = 5): LineToRowResult {
  const lines = pinoLines(count)
  const paths = { 'parse path (parseLine + encode)': parseLine, 'byte path (readLine: scanner + encode)': readLine }
  const samples: Record<string, { read: number[]; encode: number[]; total: number[] }> = {}
  let expectedBytes: number | undefined
  // Interleaved repeats, the first round discarded as warm-up.
  for (let r = 0; r <= repeats; r++) {
    for (const [name, read] of Object.entries(paths)) {
      const result = run(lines, read)
      if (expectedBytes !== undefined && result.bytes !== expectedBytes) throw new Error(`${name} wrote ${result.bytes} bytes of COPY text, the other path ${expectedBytes}`)
      expectedBytes = result.bytes
      if (r === 0) continue
      const s = (samples[name] ??= { read: [], encode: [], total: [] })
      s.read.push(result.read / count)
      s.encode.push(result.encode / count)
      s.total.push((result.read + result.encode) / count)
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number
  const nsPerRecord = Object.fromEntries(Object.entries(samples).map(([name, s]) => [name, { read: median(s.read), encode: median(s.encode), total: median(s.total) }]))
  return { lines: count, nsPerRecord }
}

const invokedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)
if (invokedDirectly) {
  const result = runLineToRowBench(Number(process.argv[2] ?? 200_000))
  const entries = Object.entries(result.nsPerRecord)
  const base = entries[0]?.[1].total ?? 1
  for (const [name, ns] of entries) {
    process.stdout.write(`${name.padEnd(42)} read ${ns.read.toFixed(0).padStart(5)}  encode ${ns.encode.toFixed(0).padStart(5)}  total ${ns.total.toFixed(0).padStart(5)} ns/record  (${(ns.total / base).toFixed(2)}× the parse path)\n`)
  }
}
