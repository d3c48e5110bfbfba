/**
 * The disk spool's spill rate against the physical limit: a plain sequential
 * write(2) of the same bytes, in 1 MiB chunks, to a file in the same
 * directory (issue 24 goal: spill >= 0.5x). All end with one fsync; the
 * `Cached` figures leave it out on both sides (page-cache speed).
 *
 * - ring spill: what the ring pump does when the channel is full: up to 1 MiB
 *   of lines at a time written straight from the shared-memory ring as it
 *   holds them (checksum, writev; no copy, no decoding), while an app thread
 *   writes them into the ring; timed end to end, from the first line to the
 *   last one appended (and fsynced).
 * - batch spill: frames of 2048 strings (join, encode, checksum, write), what
 *   a batch the store could not take costs.
 * - read back: reading, checking and settling every frame (the replay's disk side).
 *
 * Standalone, run alone: `node dist/bench/spool-spill.js [lines] [dir]`.
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, realpathSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { once } from 'node:events'
import { Worker } from 'node:worker_threads'
import pino from 'pino'
import { allocateRing } from '../src/ring/ring-layout.js'
import { RingReader } from '../src/ring/ring-reader.js'
import { RING_FORMAT } from '../src/spool/frame.js'
import { Spool } from '../src/spool/spool.js'
import { RAW_SPILL_BYTES, RAW_SPILL_RECORDS } from '../src/transport/ring-pump.js'
import { logArgs } from './bench-record.js'

const LINES_PER_FRAME = 2048
const APP_THREAD = fileURLToPath(new URL('./spool-spill-app.js', import.meta.url))

/** pino's own lines for the bench record, without their newlines. */
function pinoLines(count: number): string[] {
  const lines: string[] = []
  const logger = pino({}, { write: (line: string) => void lines.push(line.slice(0, -1)) })
  for (let i = 0; i < count; i++) logger.info(...logArgs(i))
  return lines
}

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9
}

/** The same bytes written with write(2) in 1 MiB chunks, then one fsync when `durable`. */
function plainWrite(dir: string, lines: readonly string[], durable = true): number {
  const text = Buffer.from(`${lines.join('\n')}\n`)
  const path = join(dir, 'plain.ndjson')
  const start = process.hrtime.bigint()
  const fd = openSync(path, 'w')
  for (let at = 0; at < text.length; at += 1024 * 1024) writeSync(fd, text, at, Math.min(1024 * 1024, text.length - at))
  if (durable) fsyncSync(fd)
  closeSync(fd)
  const elapsed = seconds(start)
  rmSync(path)
  return elapsed
}

function openSpool(dir: string): Spool {
  rmSync(join(dir, 'spool'), { recursive: true, force: true })
  return Spool.open({ dir: join(dir, 'spool'), maxBytes: 8 * 1024 ** 3 }, (m) => process.stderr.write(`${m}\n`))
}

/**
 * Seconds a raw spill of `lines` takes end to end, through a 4 MiB ring: an
 * app thread (spool-spill-app.ts) writes the lines into the ring while this
 * thread does what the ring pump does when the channel is full, until the
 * last line is appended (and fsynced when `durable`). The disk works through
 * the whole time, as it does for the plain write: nothing is left out.
 */
async function ringSpill(dir: string, lines: readonly string[], durable = true): Promise<number> {
  const spool = openSpool(dir)
  const memory = allocateRing(4 * 1024 * 1024)
  const reader = new RingReader(memory)
  const app = new Worker(APP_THREAD, { workerData: { memory, lines } })
  await once(app, 'message')
  let seq = 1
  const append = (taken: number, parts: Buffer[]): void => {
    if (spool.appendRaw('bench:1:00', seq, taken, parts, RING_FORMAT) !== 'spooled') throw new Error('spool refused an append')
    seq += taken
  }
  const idle = new Int32Array(new SharedArrayBuffer(4))
  const start = process.hrtime.bigint()
  app.postMessage('go')
  for (let taken = 0; taken < lines.length; ) {
    const n = reader.takeRaw(RAW_SPILL_RECORDS, RAW_SPILL_BYTES, append)
    if (n === 0) Atomics.wait(idle, 0, 0, 0.05)
    taken += n
  }
  if (durable) spool.flush()
  const elapsed = seconds(start)
  spool.close()
  await app.terminate()
  return elapsed
}

function batchSpill(dir: string, lines: readonly string[]): { spill: number; replay: number } {
  const spool = openSpool(dir)
  const start = process.hrtime.bigint()
  for (let at = 0; at < lines.length; at += LINES_PER_FRAME) {
    if (spool.append('bench:1:00', at + 1, lines.slice(at, at + LINES_PER_FRAME)) !== 'spooled') throw new Error('spool refused an append')
  }
  spool.flush()
  const spillSeconds = seconds(start)
  const replayStart = process.hrtime.bigint()
  for (let batch = spool.next(); batch; batch = spool.next()) spool.settle(batch)
  const replaySeconds = seconds(replayStart)
  spool.close()
  return { spill: spillSeconds, replay: replaySeconds }
}

export async function runSpoolSpill(count: number, dir: string): Promise<Record<string, number>> {
  const lines = pinoLines(count)
  const bytes = lines.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0)
  // One warm-up round of each, then the median of three, interleaved so that a noisy neighbour hits all alike.
  plainWrite(dir, lines.slice(0, 50_000))
  await ringSpill(dir, lines.slice(0, 50_000))
  batchSpill(dir, lines.slice(0, 50_000))
  const plain: number[] = []
  const ring: number[] = []
  const batch: number[] = []
  const readBack: number[] = []
  const plainCached: number[] = []
  const ringCached: number[] = []
  for (let round = 0; round < 3; round++) {
    plain.push(plainWrite(dir, lines))
    ring.push(await ringSpill(dir, lines))
    plainCached.push(plainWrite(dir, lines, false))
    ringCached.push(await ringSpill(dir, lines, false))
    const { spill, replay } = batchSpill(dir, lines)
    batch.push(spill)
    readBack.push(replay)
  }
  const median = (values: number[]): number => values.sort((a, b) => a - b)[1] as number
  const mbps = (s: number): number => Math.round(bytes / s / 1e5) / 10
  const ratio = (s: number): number => Math.round((median(plain) / s) * 100) / 100
  return {
    lines: count,
    mb: Math.round(bytes / 1e5) / 10,
    plainMBps: mbps(median(plain)),
    ringSpillMBps: mbps(median(ring)),
    ringSpillVsPlain: ratio(median(ring)),
    ringSpillLinesPerSec: Math.round(count / median(ring)),
    // Without the final fsync on either side: page-cache speed (the background fsyncs at segment rolls still run).
    plainCachedMBps: mbps(median(plainCached)),
    ringSpillCachedMBps: mbps(median(ringCached)),
    ringSpillCachedVsPlainCached: Math.round((median(plainCached) / median(ringCached)) * 100) / 100,
    batchSpillMBps: mbps(median(batch)),
    batchSpillVsPlain: ratio(median(batch)),
    readBackLinesPerSec: Math.round(count / median(readBack)),
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const count = Number(process.argv[2] ?? 1_000_000)
  const dir = mkdtempSync(join(process.argv[3] ?? tmpdir(), 'sluice-spill-bench-'))
  try {
    process.stdout.write(`${JSON.stringify(await runSpoolSpill(count, dir))}\n`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
