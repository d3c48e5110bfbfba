/**
 * The disk spool's core (src/spool/): frames round-trip with their writer id
 * and seqs, segments roll and are deleted once settled, the byte budget
 * refuses past it, damage (torn tail, garbage, a corrupt middle frame) costs
 * only itself, claims are exclusive and dead ones taken over exactly once,
 * and a vanished or unwritable directory at run time is counted, not thrown.
 */
import { spawnSync } from 'node:child_process'
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { allocateRing } from '../../src/ring/ring-layout.js'
import { RingReader } from '../../src/ring/ring-reader.js'
import { RingWriter } from '../../src/ring/ring-writer.js'
import { decodeFrame, encodeFrame, RING_FORMAT } from '../../src/spool/frame.js'
import { Spool, spoolDiskBytes, type SpooledBatch } from '../../src/spool/spool.js'
import { INHERITED_PREFIX, isAbandoned, OWNER_FILE } from '../../src/spool/spool-claim.js'

const base = mkdtempSync(join(tmpdir(), 'sluice-spool-'))
afterAll(() => rmSync(base, { recursive: true, force: true }))
let counter = 0
const freshDir = (): string => join(base, `spool-${++counter}`)

const lines = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => JSON.stringify({ level: 30, i: from + i, msg: 'ünïcödé ✓' }))

function open(dir: string, extra: Partial<{ maxBytes: number; segmentBytes: number }> = {}): { spool: Spool; reports: string[] } {
  const reports: string[] = []
  const spool = Spool.open({ dir, maxBytes: extra.maxBytes ?? 1024 * 1024, segmentBytes: extra.segmentBytes }, (m) => reports.push(m))
  return { spool, reports }
}

function drain(spool: Spool): SpooledBatch[] {
  const out: SpooledBatch[] = []
  for (let batch = spool.next(); batch; batch = spool.next()) out.push(batch)
  return out
}

/** Every `.seg` file under `dir`, at any depth. */
function segmentFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.seg'))
    .map((f) => join(dir, f))
    .sort()
}

/** A pid that ran and is gone. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'])
  return Number(child.stdout.toString())
}

/** Leaves `dir` as a crashed process would: its claim still names a pid, now dead. */
function crash(spool: Spool): void {
  spool.flush()
  writeFileSync(join(spool.path, OWNER_FILE), JSON.stringify({ host: hostname(), pid: deadPid(), startedAt: Date.now() }))
}

describe('frames', () => {
  it('says whether the stages saw the lines, and hands out again only what is not settled after a failed replay', () => {
    expect(decodeFrame(encodeFrame('w', 1, ['{"a":1}'], 5, true), 0)?.stagesRan).toBe(true)
    const { spool } = open(freshDir())
    spool.append('w', 1, lines(0, 2))
    spool.append('w', 3, lines(2, 2), true)
    spool.append('w', 5, lines(4, 2))
    const [first, second, third] = drain(spool)
    expect([first?.stagesRan, second?.stagesRan, third?.stagesRan]).toEqual([false, true, false])
    // Replays in flight side by side: the second settles, the first and third fail and are handed out again.
    spool.settle(second as SpooledBatch)
    spool.unhandAll()
    expect(drain(spool).map((b) => b.firstSeq)).toEqual([1, 5])
    spool.close()
  })

  it('round-trip writer id, seqs, lines and time; any flipped byte is caught', () => {
    const frame = encodeFrame('host:1:ab', 42, ['{"a":1}', '{"b":"✓"}'], 1234)
    expect(decodeFrame(frame, 0)).toEqual({ writerId: 'host:1:ab', firstSeq: 42, lines: ['{"a":1}', '{"b":"✓"}'], appendedAt: 1234, stagesRan: false })
    for (let i = 0; i < frame.length; i++) {
      const damaged = Buffer.from(frame)
      damaged[i] = (damaged[i] as number) ^ 0x40
      expect(decodeFrame(damaged, 0)).toBeUndefined()
    }
    expect(decodeFrame(frame.subarray(0, frame.length - 1), 0)).toBeUndefined()
  })
})

describe('Spool', () => {
  it('takes lines straight from the ring (wrapping its end included) and gives them back as strings', () => {
    const { spool } = open(freshDir())
    const memory = allocateRing(64 * 1024)
    const writer = new RingWriter(memory, 8 * 1024)
    const reader = new RingReader(memory)
    const expected: string[] = []
    let seq = 1
    for (let round = 0; round < 5; round++) {
      // Odd sizes and multi-byte characters, enough to wrap the 64 KiB ring's end every round.
      for (let i = 0; i < 300; i++) {
        const line = JSON.stringify({ round, i, s: 'é✓'.repeat(i % 7), pad: 'x'.repeat(i % 13) })
        expect(writer.write(`${line}\n`)).toBe(0)
        expected.push(line)
      }
      const take = (n: number, parts: Buffer[]): void => {
        expect(spool.appendRaw('w', seq, n, parts, RING_FORMAT)).toBe('spooled')
        seq += n
      }
      while (reader.takeRaw(128, 16 * 1024, take) > 0);
    }
    const batches = drain(spool)
    expect(batches.flatMap((b) => b.lines)).toEqual(expected)
    expect(batches.map((b) => b.firstSeq)).toEqual(batches.map((_, k) => 1 + batches.slice(0, k).reduce((sum, b) => sum + b.lines.length, 0)))
    spool.close()
  })

  it('hands frames back oldest first with their writer id and seqs, and deletes segments once settled', () => {
    const dir = freshDir()
    const { spool } = open(dir, { segmentBytes: 4096 })
    for (let k = 0; k < 20; k++) expect(spool.append('w1', 1 + k * 10, lines(k * 10, 10))).toBe('spooled')
    expect(spool.stats()).toMatchObject({ spooled: 200, records: 200, recovered: 0 })
    expect(spool.stats().oldestAt).toBeGreaterThan(0)
    expect(segmentFiles(dir).length).toBeGreaterThan(2)
    const batches = drain(spool)
    expect(batches.map((b) => b.firstSeq)).toEqual(Array.from({ length: 20 }, (_, k) => 1 + k * 10))
    expect(batches.flatMap((b) => b.lines)).toEqual(lines(0, 200))
    expect(batches.every((b) => b.writerId === 'w1' && !b.recovered)).toBe(true)
    for (const batch of batches) spool.settle(batch)
    expect(spool.stats()).toMatchObject({ replayed: 200, records: 0, bytes: 0, oldestAt: 0 })
    // Only the segment still being appended to is left.
    expect(segmentFiles(dir).length).toBeLessThanOrEqual(1)
    spool.close()
    expect(readdirSync(dir)).toEqual([])
  })

  it('reads frames appended while replaying, and hands back unsettled frames after unhandAll', () => {
    const { spool } = open(freshDir())
    spool.append('w', 1, lines(0, 3))
    const first = spool.next() as SpooledBatch
    spool.append('w', 4, lines(3, 3))
    expect(spool.next()?.firstSeq).toBe(4)
    expect(spool.next()).toBeUndefined()
    spool.settle(first)
    spool.unhandAll()
    expect(spool.next()?.firstSeq).toBe(4)
    spool.close()
  })

  it('refuses appends past maxBytes as full, and takes them again once settled segments are deleted', () => {
    const { spool } = open(freshDir(), { maxBytes: 64 * 1024, segmentBytes: 8 * 1024 })
    const results = Array.from({ length: 400 }, (_, k) => spool.append('w', 1 + k * 5, lines(k * 5, 5)))
    const spooled = results.filter((r) => r === 'spooled').length
    expect(results.filter((r) => r === 'full').length).toBe(400 - spooled)
    expect(spooled).toBeGreaterThan(100)
    expect(spooled).toBeLessThan(400)
    expect(spoolDiskBytes(spool.path)).toBeLessThanOrEqual(64 * 1024)
    expect(spool.append('w', 9999, lines(0, 5))).toBe('full')
    for (const batch of drain(spool)) spool.settle(batch)
    expect(spool.append('w', 9999, lines(0, 5))).toBe('spooled')
    spool.close()
  })

  it('keeps everything across a crash: the next process recovers it, oldest first, and replays nothing settled before', () => {
    const dir = freshDir()
    const first = open(dir, { segmentBytes: 2048 }).spool
    for (let k = 0; k < 10; k++) first.append('w1', 1 + k * 10, lines(k * 10, 10))
    const settledEarly = first.next() as SpooledBatch
    first.settle(settledEarly)
    crash(first)

    const second = open(dir).spool
    expect(second.stats()).toMatchObject({ recovered: 90, records: 90, corruptFrames: 0 })
    second.append('w2', 1, lines(1000, 1))
    const batches = drain(second)
    expect(batches.map((b) => [b.writerId, b.firstSeq, b.recovered])).toEqual([
      ...Array.from({ length: 9 }, (_, k) => ['w1', 11 + k * 10, true]),
      ['w2', 1, false],
    ])
    for (const batch of batches) second.settle(batch)
    second.close()
    expect(readdirSync(dir)).toEqual([])
  })

  it('releases a claim closed with records left, for the next process at once', () => {
    const dir = freshDir()
    const first = open(dir).spool
    first.append('w1', 1, lines(0, 5))
    first.close()
    const second = open(dir).spool
    expect(second.stats().recovered).toBe(5)
    expect(drain(second).flatMap((b) => b.lines)).toEqual(lines(0, 5))
    second.close()
  })

  it('skips a torn tail, counts it and reports it once', () => {
    const dir = freshDir()
    const first = open(dir).spool
    for (let k = 0; k < 3; k++) first.append('w', 1 + k * 4, lines(k * 4, 4))
    crash(first)
    const [segment] = segmentFiles(dir) as [string]
    truncateSync(segment, statSync(segment).size - 7)
    const { spool, reports } = open(dir)
    expect(spool.stats()).toMatchObject({ recovered: 8, corruptFrames: 1 })
    expect(drain(spool).flatMap((b) => b.lines)).toEqual(lines(0, 8))
    expect(reports).toHaveLength(1)
    expect(reports[0]).toMatch(/torn or corrupt.*spool_corrupt_frames/)
    spool.close()
  })

  it('skips garbage appended to a segment, and a corrupt middle frame, and goes on to the frames and segments after', () => {
    const dir = freshDir()
    const first = open(dir, { segmentBytes: 1024 }).spool
    for (let k = 0; k < 12; k++) first.append('w', 1 + k * 4, lines(k * 4, 4))
    crash(first)
    const segments = segmentFiles(dir)
    expect(segments.length).toBeGreaterThan(2)
    // Garbage after the last frame of the first segment; one byte flipped inside the second segment's first frame.
    appendFileSync(segments[0] as string, Buffer.from('\u0000\u0001 not a frame {"level":30}\n'))
    const second = readFileSync(segments[1] as string)
    second[40] = (second[40] as number) ^ 0xff
    writeFileSync(segments[1] as string, second)
    const { spool, reports } = open(dir)
    expect(spool.stats().corruptFrames).toBe(2)
    const got = drain(spool)
    const seqs = got.map((b) => b.firstSeq)
    // Every frame but the damaged one, in order.
    expect(seqs.length).toBe(11)
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    expect(spool.stats().recovered).toBe(44)
    expect(reports).toHaveLength(1)
    spool.close()
  })

  it('gives two live processes a directory each; neither takes the other', () => {
    const dir = freshDir()
    const a = open(dir).spool
    const b = open(dir).spool
    a.append('a', 1, lines(0, 2))
    b.append('b', 1, lines(0, 2))
    expect(a.path).not.toBe(b.path)
    const c = open(dir).spool
    expect(c.stats().recovered).toBe(0)
    expect(isAbandoned(a.path)).toBe(false)
    for (const s of [a, b, c]) {
      for (const batch of drain(s)) s.settle(batch)
      s.close()
    }
  })

  it('gives a dead claim to exactly one of the processes starting after it', () => {
    const dir = freshDir()
    const dead = open(dir).spool
    dead.append('w', 1, lines(0, 7))
    crash(dead)
    expect(isAbandoned(dead.path)).toBe(true)
    const takers = [open(dir).spool, open(dir).spool, open(dir).spool]
    expect(takers.map((s) => s.stats().recovered).sort()).toEqual([0, 0, 7])
    const holder = takers.find((s) => s.stats().recovered === 7) as Spool
    expect(readdirSync(holder.path).some((name) => name.startsWith(INHERITED_PREFIX))).toBe(true)
    expect(existsSync(dead.path)).toBe(false)
    for (const s of takers) {
      for (const batch of drain(s)) s.settle(batch)
      s.close()
    }
    expect(readdirSync(dir)).toEqual([])
  })

  it('recovers claims taken over by a process that then died too', () => {
    const dir = freshDir()
    const one = open(dir).spool
    one.append('one', 1, lines(0, 3))
    crash(one)
    const two = open(dir).spool
    two.append('two', 1, lines(3, 3))
    crash(two)
    const three = open(dir).spool
    expect(drain(three).map((b) => b.writerId)).toEqual(['one', 'two'])
    three.close()
  })

  it('counts appends to a vanished directory as spooled when it can be made again, and as failed (once reported) when not', () => {
    const dir = freshDir()
    const { spool, reports } = open(dir, { segmentBytes: 1024 })
    spool.append('w', 1, lines(0, 4))
    rmSync(dir, { recursive: true, force: true })
    // The next roll finds the directory gone and makes it again.
    let results = Array.from({ length: 10 }, (_, k) => spool.append('w', 10 + k * 4, lines(0, 4)))
    expect(results.every((r) => r === 'spooled')).toBe(true)
    // Now the claim's path is a file: nothing can be made there.
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir)
    writeFileSync(spool.path, 'in the way')
    results = Array.from({ length: 40 }, (_, k) => spool.append('w', 100 + k * 4, lines(0, 4)))
    expect(results).toContain('failed')
    expect(reports.filter((r) => r.includes('cannot write the spool'))).toHaveLength(1)
    expect(() => spool.flush()).not.toThrow()
    expect(() => spool.close()).not.toThrow()
  })

  it('fails at open when the directory cannot be created', () => {
    const file = join(base, `a-file-${++counter}`)
    writeFileSync(file, '')
    expect(() => open(join(file, 'spool'))).toThrow(/ENOTDIR|EEXIST/)
  })
})
