import { crc32 } from 'node:zlib'

/**
 * One spool frame: a run of raw NDJSON lines from one writer, with their seq
 * range, checksummed as a whole. Little-endian layout:
 *
 *   0  u32 MAGIC        resync point after a torn or corrupt frame
 *   4  u32 body length  bytes after this 12-byte prefix
 *   8  u32 crc32        of the body
 *  12  f64 appendedAt   epoch ms (the age of the oldest record waiting)
 *  20  f64 firstSeq     0: lines not yet sequenced (spilled raw, before parsing)
 *  28  f64 lastSeq      firstSeq + records - 1 (0 when unsequenced)
 *  36  u32 records
 *  40  u16 writer id length, then the writer id (UTF-8), then the lines, each ending in '\n'
 *
 * The magic's bytes (F1 5C A7 0E) can never occur in UTF-8 text, so a scan
 * for it after a damaged frame cannot stop inside a line. Seqs are doubles:
 * exact for every integer a JS seq counter reaches.
 */
export const FRAME_MAGIC = 0x0ea75cf1
export const PREFIX_BYTES = 12
const FIXED_BODY_BYTES = 30
/** A frame larger than this is damage, not data (the largest batch is far smaller). */
export const MAX_FRAME_BODY_BYTES = 256 * 1024 * 1024

export interface Frame {
  readonly writerId: string
  /** 0 when the lines have no seq yet (spilled raw); else the first line's seq, the others follow one by one. */
  readonly firstSeq: number
  readonly lines: readonly string[]
  readonly appendedAt: number
}

/** A frame's header, readable without decoding its lines. */
export interface FrameHeader {
  readonly bodyBytes: number
  readonly records: number
  readonly appendedAt: number
}

/** Encodes `lines` (without newlines) as one frame. */
export function encodeFrame(writerId: string, firstSeq: number, lines: readonly string[], appendedAt: number): Buffer {
  const payload = Buffer.from(lines.length === 0 ? '' : `${lines.join('\n')}\n`)
  const header = frameHead(writerId, firstSeq, lines.length, appendedAt, payload)
  return Buffer.concat([header, payload])
}

/**
 * The part of a frame before its lines, for `payload`: `records` lines of
 * UTF-8 NDJSON, each ending in a newline, written right after it (two
 * buffers, one writev: a raw spill copies the ring's bytes only once).
 */
export function frameHead(writerId: string, firstSeq: number, records: number, appendedAt: number, payload: Buffer): Buffer {
  const idBytes = Buffer.byteLength(writerId)
  const head = Buffer.allocUnsafe(PREFIX_BYTES + FIXED_BODY_BYTES + idBytes)
  head.writeUInt32LE(FRAME_MAGIC, 0)
  head.writeUInt32LE(FIXED_BODY_BYTES + idBytes + payload.length, 4)
  head.writeDoubleLE(appendedAt, 12)
  head.writeDoubleLE(firstSeq, 20)
  head.writeDoubleLE(firstSeq === 0 ? 0 : firstSeq + records - 1, 28)
  head.writeUInt32LE(records, 36)
  head.writeUInt16LE(idBytes, 40)
  head.write(writerId, 42, 'utf8')
  head.writeUInt32LE(crc32(payload, crc32(head.subarray(PREFIX_BYTES))), 8)
  return head
}

/** The body length the prefix at `offset` claims, or undefined when there is no plausible prefix there. */
export function readPrefix(buffer: Buffer, offset: number): number | undefined {
  if (offset + PREFIX_BYTES > buffer.length) return undefined
  if (buffer.readUInt32LE(offset) !== FRAME_MAGIC) return undefined
  const bodyBytes = buffer.readUInt32LE(offset + 4)
  if (bodyBytes < FIXED_BODY_BYTES || bodyBytes > MAX_FRAME_BODY_BYTES) return undefined
  return bodyBytes
}

/**
 * Decodes the frame at `offset` of `buffer` (which must hold it whole), or
 * undefined when it is damaged: wrong magic, a length past the end, a
 * checksum or a line count that does not match.
 */
export function decodeFrame(buffer: Buffer, offset: number): Frame | undefined {
  const bodyBytes = readPrefix(buffer, offset)
  if (bodyBytes === undefined || offset + PREFIX_BYTES + bodyBytes > buffer.length) return undefined
  const body = buffer.subarray(offset + PREFIX_BYTES, offset + PREFIX_BYTES + bodyBytes)
  if (crc32(body) !== buffer.readUInt32LE(offset + 8)) return undefined
  const records = body.readUInt32LE(24)
  const idBytes = body.readUInt16LE(28)
  if (FIXED_BODY_BYTES + idBytes > bodyBytes) return undefined
  const text = body.toString('utf8', FIXED_BODY_BYTES + idBytes)
  const lines = text.length === 0 ? [] : text.slice(0, -1).split('\n')
  if (lines.length !== records || (records > 0 && !text.endsWith('\n'))) return undefined
  return {
    appendedAt: body.readDoubleLE(0),
    firstSeq: body.readDoubleLE(8),
    writerId: body.toString('utf8', FIXED_BODY_BYTES, FIXED_BODY_BYTES + idBytes),
    lines,
  }
}

/** The header of a frame already checked by `decodeFrame` or `checkFrame`. */
export function frameHeader(buffer: Buffer, offset: number): FrameHeader {
  return {
    bodyBytes: buffer.readUInt32LE(offset + 4),
    appendedAt: buffer.readDoubleLE(offset + PREFIX_BYTES),
    records: buffer.readUInt32LE(offset + PREFIX_BYTES + 24),
  }
}

/** The offset of the next magic at or after `from`, or -1. */
export function findMagic(buffer: Buffer, from: number): number {
  const magic = Buffer.from([0xf1, 0x5c, 0xa7, 0x0e])
  return buffer.indexOf(magic, from)
}
