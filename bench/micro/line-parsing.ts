/**
 * Worker-side cost per line: what pino-sluice does with a raw line when it
 * arrives (split, measure bytes, peek the level — JSON.parse only when the
 * line is written), against pino-abstract-transport's build(), which parses
 * every line as it arrives (even with `parse: 'lines'`, it runs JSON.parse
 * and hands back the string). Same chunks of the same pino lines for all.
 * (At write time, a plain log line that only the Postgres store sees is
 * scanned instead of parsed: line-to-row.ts measures that.)
 *
 * Standalone: `node dist/bench/micro/line-parsing.js [lines]`.
 */
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import build from 'pino-abstract-transport'
import pino from 'pino'
import { peekLevel } from '../../src/records/peek-level.js'
import { LineSplitter } from '../../src/transport/line-splitter.js'
import { logArgs } from '../bench-record.js'

export interface MicroResult {
  lines: number
  chunkBytes: number
  /** Nanoseconds per line, median of the repeats. */
  nsPerLine: Record<string, number>
}

/** pino's own output for the bench record, cut into chunks the size thread-stream hands a worker. */
function pinoChunks(lines: number, chunkBytes: number): string[] {
  let text = ''
  const logger = pino({}, { write: (line: string) => void (text += line) })
  for (let i = 0; i < lines; i++) logger.info(...logArgs(i))
  const chunks: string[] = []
  for (let at = 0; at < text.length; at += chunkBytes) chunks.push(text.slice(at, at + chunkBytes))
  return chunks
}

function timeSync(fn: () => number): [number, number] {
  const start = process.hrtime.bigint()
  const n = fn()
  return [Number(process.hrtime.bigint() - start), n]
}

async function timeAsync(fn: () => Promise<number>): Promise<[number, number]> {
  const start = process.hrtime.bigint()
  const n = await fn()
  return [Number(process.hrtime.bigint() - start), n]
}

function rawAccept(chunks: readonly string[], parse: boolean): number {
  const splitter = new LineSplitter()
  let n = 0
  let sink = 0
  for (const chunk of chunks) {
    for (const line of splitter.split(chunk)) {
      sink += Buffer.byteLength(line) + peekLevel(line)
      if (parse) sink += (JSON.parse(line) as { level: number }).level
      n++
    }
  }
  return sink > 0 ? n : n
}

async function abstractTransport(chunks: readonly string[], opts: { parse?: 'lines' }): Promise<number> {
  let n = 0
  const stream = build(async (source) => {
    for await (const _ of source) n++
  }, opts)
  for (const chunk of chunks) if (!stream.write(chunk)) await new Promise((resolve) => stream.once('drain', resolve))
  stream.end()
  await new Promise((resolve) => stream.once('close', resolve))
  return n
}

export async function runLineParsingBench(lines = 200_000, repeats = 5, chunkBytes = 64 * 1024): Promise<MicroResult> {
  const chunks = pinoChunks(lines, chunkBytes)
  const cases: Record<string, () => Promise<[number, number]>> = {
    'pino-sluice on arrival (split + byteLength + peekLevel)': async () => timeSync(() => rawAccept(chunks, false)),
    'pino-sluice total (on arrival + JSON.parse at write time)': async () => timeSync(() => rawAccept(chunks, true)),
    'pino-abstract-transport build() (objects)': () => timeAsync(() => abstractTransport(chunks, {})),
    "pino-abstract-transport build({ parse: 'lines' })": () => timeAsync(() => abstractTransport(chunks, { parse: 'lines' })),
  }
  const samples: Record<string, number[]> = {}
  // Interleaved repeats, first round discarded as warm-up.
  for (let r = 0; r <= repeats; r++) {
    for (const [name, run] of Object.entries(cases)) {
      const [ns, n] = await run()
      if (n !== lines) throw new Error(`${name} saw ${n} lines, expected ${lines}`)
      if (r > 0) (samples[name] ??= []).push(ns / lines)
    }
  }
  const nsPerLine = Object.fromEntries(Object.entries(samples).map(([name, v]) => [name, [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] as number]))
  return { lines, chunkBytes, nsPerLine }
}

const invokedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)
if (invokedDirectly) {
  const result = await runLineParsingBench(Number(process.argv[2] ?? 200_000))
  for (const [name, ns] of Object.entries(result.nsPerLine)) process.stdout.write(`${name.padEnd(60)} ${ns.toFixed(0).padStart(6)} ns/line\n`)
}
