/**
 * CopyTextPool and its leases: a batch's COPY text buffer is used again only
 * once every holder (the batch until it settles, each database attempt until
 * its transaction ends) has let it go.
 */
import { describe, expect, it } from 'vitest'
import { CopyTextPool } from '../../sinks/postgres/copy-text-pool.js'
import { EncodedBatch } from '../../sinks/postgres/encoded-batch.js'
import type { LogRecord } from '../../sinks/shared/log-record.js'
import { parseLine } from '../../src/records/parse-line.js'

const WRITER = 'host:1:abcd'

function records(count: number, firstSeq = 1): LogRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const line = JSON.stringify({ level: 30, time: 1_700_000_000_000 + i, msg: `line ${firstSeq + i}` })
    const parsed = parseLine(line, Buffer.byteLength(line), firstSeq + i, 1_700_000_000_000)
    if (!parsed.ok) throw new Error('test record must parse')
    return parsed.record
  })
}

describe('CopyTextPool', () => {
  it('hands out a kept buffer that fits, the smallest such', () => {
    const pool = new CopyTextPool()
    const small = pool.take(100_000)
    const large = pool.take(1_000_000)
    pool.give(large)
    pool.give(small)
    expect(pool.take(90_000)).toBe(small)
    expect(pool.take(90_000)).toBe(large)
    expect(pool.size).toBe(0)
  })

  it('rounds new buffers up to a power of two, at least 64 KiB', () => {
    const pool = new CopyTextPool()
    expect(pool.take(10).length).toBe(64 * 1024)
    expect(pool.take(100_000).length).toBe(128 * 1024)
  })

  it('keeps four at most, the larger ones, and 16 MiB in all', () => {
    const pool = new CopyTextPool()
    const MiB = 1024 * 1024
    const kept = [1, 1, 2, 2].map((mb) => pool.take(mb * MiB))
    for (const buffer of kept) pool.give(buffer)
    expect(pool.size).toBe(4)
    // A fifth takes the smallest one's place when larger (6 MiB kept in all, then 9).
    const four = pool.take(4 * MiB)
    pool.give(Buffer.allocUnsafe(1 * MiB))
    pool.give(four)
    expect(pool.size).toBe(4)
    expect(pool.take(3 * MiB)).toBe(four)
    // Past 16 MiB in all nothing more is kept; a single buffer above it never is.
    pool.give(Buffer.allocUnsafe(16 * MiB))
    expect(pool.size).toBe(3)
    const emptied = new CopyTextPool()
    emptied.give(Buffer.allocUnsafe(32 * MiB))
    expect(emptied.size).toBe(0)
  })
})

describe('EncodedBatch with a pool', () => {
  it('gives its text back when the last holder releases it, halves included', () => {
    const pool = new CopyTextPool()
    const batch = EncodedBatch.encode(records(10), WRITER, pool)
    const [first, second] = batch.halves()
    first.hold()
    second.hold()
    batch.release()
    first.release()
    expect(pool.size).toBe(0)
    second.release()
    expect(pool.size).toBe(1)
    // Released once more by mistake: counted once, never handed out twice.
    batch.release()
    expect(pool.size).toBe(1)
  })

  it('never hands a held buffer to the next batch', () => {
    const pool = new CopyTextPool()
    const first = EncodedBatch.encode(records(100), WRITER, pool)
    const text = first.copyData.toString('utf8')
    first.hold() // an attempt still running after the batch settled (given up on at its deadline)
    first.release()
    const second = EncodedBatch.encode(records(100, 1000), WRITER, pool)
    expect(first.copyData.toString('utf8')).toBe(text)
    first.release()
    second.release()
    const third = EncodedBatch.encode(records(100, 2000), WRITER, pool)
    expect(third.copyData.toString('utf8')).toContain('line 2000')
    expect(third.copyData.toString('utf8')).not.toContain('line 1000')
  })

  it('writes the same COPY text into a reused buffer as into a new one', () => {
    const pool = new CopyTextPool()
    EncodedBatch.encode(records(500, 5000), WRITER, pool).release()
    const reused = EncodedBatch.encode(records(50), WRITER, pool)
    expect(reused.copyData.toString('utf8')).toBe(EncodedBatch.encode(records(50), WRITER).copyData.toString('utf8'))
  })

  it('gives the smaller buffer back when a batch outgrows its first guess', () => {
    const pool = new CopyTextPool()
    const line = JSON.stringify({ level: 30, time: 1_700_000_000_000, msg: 'é'.repeat(40_000) })
    const parsed = parseLine(line, 10, 1, 1_700_000_000_000) // a size far below the line's: the first guess is too small
    if (!parsed.ok) throw new Error('test record must parse')
    const batch = EncodedBatch.encode([parsed.record], WRITER, pool)
    expect(pool.size).toBe(1)
    expect(batch.copyData.toString('utf8')).toContain('é'.repeat(40_000))
  })
})
