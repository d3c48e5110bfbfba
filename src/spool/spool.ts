import { appendFileSync, close, closeSync, fsync, fsyncSync, ftruncateSync, open, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, unlinkSync, writevSync } from 'node:fs'
import { basename, join } from 'node:path'
import { decodeFrame, frameHead, NDJSON_FORMAT, type FrameFormat } from './frame.js'
import { scanSegment, type FrameRef } from './segment-scan.js'
import { INHERITED_PREFIX, safeReaddir, SpoolClaim } from './spool-claim.js'
import { syncPath } from './sync-path.js'

/**
 * A bounded, append-only disk spool of raw NDJSON lines (docs/spool.md).
 *
 * Invariants: a frame never spans two segments; this process appends only to
 * its own claim directory; a segment is deleted only when every frame in it
 * is settled (handed back as committed or counted); the bytes of the live
 * segments never exceed `maxBytes` (an append that would is refused as full).
 *
 * Durability: every append is one write(2) before append() returns, so a
 * process crash loses nothing appended. fsync happens at segment roll, at
 * flush() and at close(): a power loss can lose what was appended since the
 * last of those, and leaves at worst a torn tail, which the next process skips.
 *
 * Progress: each settled frame's offset is appended to `<segment>.acked`, so
 * a later process does not replay what was settled before a crash (except a
 * frame settled in the instant before it). Replayed records keep their writer
 * id and seqs, so the Postgres commit ledger catches even that one.
 */
export interface SpoolConfig {
  readonly dir: string
  readonly maxBytes: number
  /** A segment is rolled (fsynced, closed, a new one started) before it would pass this. Default: maxBytes / 16, 64 KiB to 16 MiB. */
  readonly segmentBytes?: number | undefined
}

export type AppendResult = 'spooled' | 'full' | 'failed'

/** One frame handed out for replay; give it back with `settle`. */
export interface SpooledBatch {
  readonly writerId: string
  /** 0: the lines were spilled raw and get seqs when they are parsed. */
  readonly firstSeq: number
  readonly lines: readonly string[]
  readonly appendedAt: number
  /** The stages saw these lines before they were spooled. */
  readonly stagesRan: boolean
  /** Written by an earlier process. */
  readonly recovered: boolean
  readonly segment: Segment
  readonly frame: FrameRef
}

export interface SpoolStats {
  /** Records appended by this process. */
  spooled: number
  /** Records handed out for replay and settled. */
  replayed: number
  /** Records found at start in segments of earlier processes. */
  recovered: number
  /** Records and frame bytes waiting now (appended or recovered, not yet settled). */
  records: number
  bytes: number
  /** appendedAt of the oldest record waiting (epoch ms), 0 when none. */
  oldestAt: number
  /** Damaged stretches skipped (torn tails, garbage, checksum failures). */
  corruptFrames: number
  /** Records this process had counted as spooled whose frame could not be read back. */
  lost: number
}

export interface Segment {
  readonly path: string
  readonly recovered: boolean
  fd: number | undefined
  size: number
  readonly frames: FrameRef[]
  /** Index of the next frame to hand out. */
  next: number
  settled: number
  sealed: boolean
}

const KiB = 1024
const MiB = 1024 * KiB
/** After a failed write, appends are refused without touching the disk for this long. */
const RETRY_AFTER_FAILURE_MS = 1000

export class Spool {
  private readonly segments: Segment[] = []
  private active: Segment | undefined
  private segmentCounter = 0
  private diskBytes = 0
  private failedUntil = 0
  private closed = false
  private readonly reported = new Set<string>()
  /** Rolled segments whose background fsync has not finished. */
  private readonly unsynced = new Set<string>()
  private readonly counts: SpoolStats = { spooled: 0, replayed: 0, recovered: 0, records: 0, bytes: 0, oldestAt: 0, corruptFrames: 0, lost: 0 }
  private readonly segmentBytes: number

  private constructor(
    private readonly config: SpoolConfig,
    private readonly claim: SpoolClaim,
    private readonly report: (message: string) => void,
  ) {
    this.segmentBytes = config.segmentBytes ?? Math.min(16 * MiB, Math.max(64 * KiB, Math.floor(config.maxBytes / 16)))
  }

  /**
   * Claims a directory of its own under `config.dir` and takes over the
   * segments of earlier processes that are gone. Throws when `dir` cannot be
   * created or written (a config mistake, reported at start).
   */
  static open(config: SpoolConfig, report: (message: string) => void): Spool {
    const spool = new Spool(config, SpoolClaim.create(config.dir), report)
    spool.claim.takeOverAbandoned()
    spool.recover()
    return spool
  }

  /** This process's directory (what the exit report names). */
  get path(): string {
    return this.claim.path
  }

  /**
   * Appends `lines` (raw NDJSON, no newlines) as one frame; `firstSeq` 0 when
   * they have no seq yet. Never throws: 'full' when the byte budget has no
   * room, 'failed' when the disk refused (reported once on stderr).
   */
  append(writerId: string, firstSeq: number, lines: readonly string[], stagesRan = false): AppendResult {
    if (lines.length === 0) return 'spooled'
    return this.appendRaw(writerId, firstSeq, lines.length, [Buffer.from(`${lines.join('\n')}\n`)], NDJSON_FORMAT, stagesRan)
  }

  /** Like `append`, for `records` lines already encoded as `format` says, in parts (a raw spill from the ring: its bytes as they are). */
  appendRaw(writerId: string, firstSeq: number, records: number, payload: readonly Buffer[], format: FrameFormat, stagesRan = false): AppendResult {
    if (records === 0) return 'spooled'
    if (this.closed) return 'failed'
    const now = Date.now()
    if (now < this.failedUntil) return 'failed'
    const head = frameHead(writerId, firstSeq, records, now, payload, format, stagesRan)
    const frame = { length: head.length + payload.reduce((sum, part) => sum + part.length, 0) }
    if (this.diskBytes + frame.length > this.config.maxBytes) return 'full'
    let segment: Segment
    try {
      segment = this.writableSegment(frame.length)
    } catch (error) {
      this.failed(error, now)
      return 'failed'
    }
    const offset = segment.size
    try {
      writeAll(segment.fd as number, [head, ...payload], offset)
    } catch (error) {
      // Cut any part written, so the segment ends at its last whole frame; then start a new one next time.
      try {
        ftruncateSync(segment.fd as number, offset)
      } catch {
        // The reader of this process never reads past the last whole frame anyway.
      }
      this.seal(segment, false)
      this.failed(error, now)
      return 'failed'
    }
    segment.size += frame.length
    this.diskBytes += frame.length
    segment.frames.push({ offset, length: frame.length, records, appendedAt: now, settled: false })
    this.counts.spooled += records
    this.counts.records += records
    this.counts.bytes += frame.length
    return 'spooled'
  }

  /** The oldest frame not yet handed out, or undefined. Damaged frames are skipped and counted. */
  next(): SpooledBatch | undefined {
    for (const segment of this.segments) {
      while (segment.next < segment.frames.length) {
        const frame = segment.frames[segment.next++] as FrameRef
        // Settled already by a later replay while an earlier one failed and was handed out again.
        if (frame.settled) continue
        const decoded = this.readFrame(segment, frame)
        if (decoded) return { ...decoded, recovered: segment.recovered, segment, frame }
        // Readable at append or at the scan, unreadable now: damaged since.
        this.counts.corruptFrames++
        this.counts.lost += frame.records
        this.reportOnce('lost', `spool frame at byte ${frame.offset} of ${segment.path} can no longer be read (${frame.records} records); counted as spool_corrupt_frames, replay goes on`)
        this.settleFrame(segment, frame, false)
      }
    }
    return undefined
  }

  /** True when frames wait to be handed out. */
  hasPending(): boolean {
    return this.segments.some((segment) => segment.next < segment.frames.length)
  }

  /** The batch's records are committed or counted: its frame is done with. */
  settle(batch: SpooledBatch): void {
    this.settleFrame(batch.segment, batch.frame, true)
  }

  /** Hands frames handed out but not settled back for another replay (the store went down again). */
  unhandAll(): void {
    for (const segment of this.segments) {
      const first = segment.frames.findIndex((frame) => !frame.settled)
      if (first !== -1 && first < segment.next) segment.next = first
    }
  }

  /** Makes everything appended so far durable (fsync). Never throws. */
  flush(): void {
    for (const path of this.unsynced) syncPath(path)
    this.unsynced.clear()
    const fd = this.active?.fd
    if (fd === undefined) return
    try {
      fsyncSync(fd)
    } catch (error) {
      this.failed(error, Date.now())
    }
  }

  private syncInBackground(path: string): void {
    this.unsynced.add(path)
    open(path, 'r', (openError, fd) => {
      if (openError) return void this.unsynced.delete(path)
      fsync(fd, () => {
        close(fd, () => {})
        this.unsynced.delete(path)
      })
    })
  }

  /** fsyncs and closes; with nothing left the claim directory is removed, else it is released for the next process. */
  close(): void {
    if (this.closed) return
    this.closed = true
    for (const segment of [...this.segments]) {
      if (segment.settled === segment.frames.length) this.remove(segment)
      else this.seal(segment, true)
    }
    if (this.active && this.segments.includes(this.active)) this.seal(this.active, true)
    this.flush()
    this.removeEmptyInherited()
    this.claim.release(this.counts.records === 0)
  }

  stats(): SpoolStats {
    return { ...this.counts, oldestAt: this.oldestAt() }
  }

  private oldestAt(): number {
    for (const segment of this.segments) {
      for (const frame of segment.frames) if (!frame.settled) return frame.appendedAt
    }
    return 0
  }

  private settleFrame(segment: Segment, frame: FrameRef, replayed: boolean): void {
    if (frame.settled) return
    frame.settled = true
    segment.settled++
    if (replayed) this.counts.replayed += frame.records
    this.counts.records -= frame.records
    this.counts.bytes -= frame.length
    if (segment.sealed && segment.settled === segment.frames.length) this.remove(segment)
    else this.recordAck(segment, frame)
  }

  /** Notes a settled frame beside its segment; a failure only means the frame may be replayed again. */
  private recordAck(segment: Segment, frame: FrameRef): void {
    try {
      appendFileSync(ackPath(segment.path), `${frame.offset}\n`)
    } catch {
      // The commit ledger still keeps a second replay from writing rows twice.
    }
  }

  private writableSegment(frameBytes: number): Segment {
    const active = this.active
    if (active && !active.sealed && (active.size === 0 || active.size + frameBytes <= this.segmentBytes)) return active
    if (active && !active.sealed) this.seal(active, true)
    const name = `${String(Date.now()).padStart(15, '0')}-${String(++this.segmentCounter).padStart(6, '0')}.seg`
    const path = join(this.claim.path, name)
    let fd: number
    try {
      fd = openSync(path, 'wx+')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      // The directory vanished while running: make it again once.
      this.claim.restore()
      fd = openSync(path, 'wx+')
    }
    // The new file's directory entry: made durable in the background too (flush() and close() wait for it).
    this.syncInBackground(this.claim.path)
    const segment: Segment = { path, recovered: false, fd, size: 0, frames: [], next: 0, settled: 0, sealed: false }
    this.segments.push(segment)
    this.active = segment
    return segment
  }

  /** No more appends to `segment`; its fd is closed (after an fsync when `sync`). Deleted at once when nothing in it waits. */
  private seal(segment: Segment, sync: boolean): void {
    if (segment.fd !== undefined) {
      closeSync(segment.fd)
      segment.fd = undefined
      // At a roll the worker does not wait for the disk: the fsync runs in the background, and flush()/close() wait for it.
      if (sync) this.syncInBackground(segment.path)
    }
    segment.sealed = true
    if (segment === this.active) this.active = undefined
    if (!this.closed && segment.settled === segment.frames.length) this.remove(segment)
  }

  private remove(segment: Segment): void {
    const index = this.segments.indexOf(segment)
    if (index === -1) return
    this.segments.splice(index, 1)
    this.diskBytes -= segment.size
    if (segment.fd !== undefined) closeSync(segment.fd)
    segment.fd = undefined
    segment.sealed = true
    if (segment === this.active) this.active = undefined
    for (const path of [segment.path, ackPath(segment.path)]) {
      try {
        unlinkSync(path)
      } catch {
        // Gone already (the directory vanished, or nothing was acked): nothing to free.
      }
    }
  }

  private readFrame(segment: Segment, frame: FrameRef): Omit<SpooledBatch, 'recovered' | 'segment' | 'frame'> | undefined {
    const buffer = Buffer.allocUnsafe(frame.length)
    let fd = segment.fd
    try {
      fd ??= openSync(segment.path, 'r')
      let read = 0
      while (read < frame.length) {
        const n = readSync(fd, buffer, read, frame.length - read, frame.offset + read)
        if (n === 0) return undefined
        read += n
      }
    } catch {
      return undefined
    } finally {
      if (fd !== undefined && fd !== segment.fd) closeSync(fd)
    }
    return decodeFrame(buffer, 0)
  }

  /** Lists the segments of taken-over claims (oldest first) and counts what they hold. */
  private recover(): void {
    const paths = inheritedSegments(this.claim.path).sort((a, b) => basename(a).localeCompare(basename(b)))
    for (const path of paths) {
      let scan
      try {
        scan = scanSegment(path)
      } catch (error) {
        this.reportOnce('unreadable', `cannot read spool segment ${path} (${(error as Error).message}); it is left in place`)
        continue
      }
      if (scan.damaged.length > 0) {
        this.counts.corruptFrames += scan.damaged.length
        this.reportOnce(
          'damaged',
          `skipped a torn or corrupt stretch at byte ${scan.damaged[0]} of spool segment ${path} (a crash mid-write or damage); counted as spool_corrupt_frames, the frames after it are replayed`,
        )
      }
      const acked = readAcks(path)
      const frames = scan.frames.filter((frame) => !acked.has(frame.offset))
      const records = frames.reduce((sum, frame) => sum + frame.records, 0)
      const segment: Segment = { path, recovered: true, fd: undefined, size: scan.size, frames, next: 0, settled: 0, sealed: true }
      this.counts.recovered += records
      this.counts.records += records
      this.counts.bytes += frames.reduce((sum, frame) => sum + frame.length, 0)
      this.diskBytes += scan.size
      this.segments.push(segment)
      if (frames.length === 0) this.remove(segment)
    }
    this.removeEmptyInherited()
  }

  private removeEmptyInherited(): void {
    for (const name of safeReaddir(this.claim.path)) {
      if (!name.startsWith(INHERITED_PREFIX)) continue
      const path = join(this.claim.path, name)
      if (inheritedSegments(path).length === 0 && !this.segments.some((segment) => segment.path.startsWith(path))) {
        rmSync(path, { recursive: true, force: true })
      }
    }
  }

  private failed(error: unknown, now: number): void {
    this.failedUntil = now + RETRY_AFTER_FAILURE_MS
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message
    this.reportOnce(
      `failed:${code}`,
      `cannot write the spool at ${this.claim.path} (${code}); records that cannot be spooled are counted as they would be without a spool, and appends are retried`,
    )
  }

  private reportOnce(key: string, message: string): void {
    if (this.reported.has(key)) return
    this.reported.add(key)
    this.report(message)
  }
}


function ackPath(segmentPath: string): string {
  return `${segmentPath}.acked`
}

/** Offsets of the frames of a segment settled by an earlier process. */
function readAcks(segmentPath: string): Set<number> {
  try {
    return new Set(readFileSync(ackPath(segmentPath), 'utf8').split('\n').filter(Boolean).map(Number))
  } catch {
    return new Set()
  }
}

function writeAll(fd: number, buffers: Buffer[], position: number): void {
  let written = writevSync(fd, buffers, position)
  const total = buffers.reduce((sum, buffer) => sum + buffer.length, 0)
  // A short write (rare: a signal, a full disk) goes on from where it stopped.
  if (written < total) {
    const rest = Buffer.concat(buffers).subarray(written)
    while (written < total) {
      const n = writevSync(fd, [rest.subarray(written - (total - rest.length))], position + written)
      if (n === 0) throw Object.assign(new Error('write(2) wrote nothing'), { code: 'EIO' })
      written += n
    }
  }
}

/** Segment files of the claims taken over into `dir`, at any depth (a taken claim may hold claims it took). */
function inheritedSegments(dir: string, inside = false): string[] {
  const found: string[] = []
  let entries
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return found
  }
  for (const entry of entries) {
    const path = join(dir, entry.name)
    if (entry.isDirectory() && entry.name.startsWith(INHERITED_PREFIX)) found.push(...inheritedSegments(path, true))
    else if (inside && entry.isFile() && entry.name.endsWith('.seg')) found.push(path)
  }
  return found
}

/** Bytes of the segments under a spool directory (for tests and the CLI). */
export function spoolDiskBytes(dir: string): number {
  let total = 0
  for (const entry of safeReaddir(dir)) {
    const path = join(dir, entry)
    try {
      const stat = statSync(path)
      total += stat.isDirectory() ? spoolDiskBytes(path) : entry.endsWith('.seg') ? stat.size : 0
    } catch {
      // Removed while listing.
    }
  }
  return total
}
