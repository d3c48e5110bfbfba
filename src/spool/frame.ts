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
 *  40  u16 writer id length
 *  42  u16 format       low byte: how the lines follow the writer id (UTF-8):
 *                       0: NDJSON, each line ending in '\n'
 *                       1: as the app's ring holds them (u32 length, the bytes, padding to 4),
 *                          so a spill from the ring is written straight from shared memory
 *                       bit 8 (STAGES_RAN): the stages saw these lines before they were spooled
 *  44  the writer id, then the lines
 *
 * The magic's bytes (F1 5C A7 0E) can never occur in UTF-8 text, so a scan
 * for it after a damaged frame cannot stop inside a line. Seqs are doubles:
 * exact for every integer a JS seq counter reaches.
 */
export const FRAME_MAGIC = 0x0ea75cf1
export const PREFIX_BYTES = 12
const FIXED_BODY_BYTES = 32
/** A frame larger than this is damage, not data (the largest batch is far smaller). */
export const MAX_FRAME_BODY_BYTES = 256 * 1024 * 1024

export interface Frame {
  readonly writerId: string
  /** 0 when the lines have no seq yet (spilled raw); else the first line's seq, the others follow one by one. */
  readonly firstSeq: number
  readonly lines: readonly string[]
  readonly appendedAt: number
  /** The stages saw these lines before they were spooled (a batch the store could not take). */
  readonly stagesRan: boolean
}

/** A frame's header, readable without decoding its lines. */
/** How a frame's lines are laid out (see the layout above). */
export const NDJSON_FORMAT = 0
export const RING_FORMAT = 1
export type FrameFormat = typeof NDJSON_FORMAT | typeof RING_FORMAT
const STAGES_RAN = 0x100

export interface FrameHeader {
  readonly bodyBytes: number
  readonly records: number
  readonly appendedAt: number
}

/** Encodes `lines` (without newlines) as one frame. */
export function encodeFrame(writerId: string, firstSeq: number, lines: readonly string[], appendedAt: number, stagesRan = false): Buffer {
  const payload = Buffer.from(lines.length === 0 ? '' : `${lines.join('\n')}\n`)
  const header = frameHead(writerId, firstSeq, lines.length, appendedAt, [payload], NDJSON_FORMAT, stagesRan)
  return Buffer.concat([header, payload])
}

/**
 * The part of a frame before its lines, for `payload` (in parts): `records`
 * lines laid out as `format` says, written right after it with one writev,
 * so a spill from the ring is never copied in JS.
 */
export function frameHead(writerId: string, firstSeq: number, records: number, appendedAt: number, payload: readonly Buffer[], format: FrameFormat, stagesRan = false): Buffer {
  const idBytes = Buffer.byteLength(writerId)
  const head = Buffer.allocUnsafe(PREFIX_BYTES + FIXED_BODY_BYTES + idBytes)
  let payloadBytes = 0
  for (const part of payload) payloadBytes += part.length
  head.writeUInt32LE(FRAME_MAGIC, 0)
  head.writeUInt32LE(FIXED_BODY_BYTES + idBytes + payloadBytes, 4)
  head.writeDoubleLE(appendedAt, 12)
  head.writeDoubleLE(firstSeq, 20)
  head.writeDoubleLE(firstSeq === 0 ? 0 : firstSeq + records - 1, 28)
  head.writeUInt32LE(records, 36)
  head.writeUInt16LE(idBytes, 40)
  head.writeUInt16LE(format | (stagesRan ? STAGES_RAN : 0), 42)
  head.write(writerId, 44, 'utf8')
  let crc = crc32(head.subarray(PREFIX_BYTES))
  for (const part of payload) crc = crc32(part, crc)
  head.writeUInt32LE(crc, 8)
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
  const flags = body.readUInt16LE(30)
  const format = flags & 0xff
  if (FIXED_BODY_BYTES + idBytes > bodyBytes) return undefined
  const lines = format === RING_FORMAT ? ringLines(body, FIXED_BODY_BYTES + idBytes) : format === NDJSON_FORMAT ? ndjsonLines(body, FIXED_BODY_BYTES + idBytes) : undefined
  if (lines?.length !== records) return undefined
  return {
    appendedAt: body.readDoubleLE(0),
    firstSeq: body.readDoubleLE(8),
    writerId: body.toString('utf8', FIXED_BODY_BYTES, FIXED_BODY_BYTES + idBytes),
    lines,
    stagesRan: (flags & STAGES_RAN) !== 0,
  }
}

function ndjsonLines(body: Buffer, from: number): string[] | undefined {
  const text = body.toString('utf8', from)
  if (text.length === 0) return []
  return text.endsWith('\n') ? text.slice(0, -1).split('\n') : undefined
}

/** Lines as the ring holds them: u32 length, the bytes (pino's newline last), padding to 4. */
function ringLines(body: Buffer, from: number): string[] | undefined {
  const lines: string[] = []
  let at = from
  while (at < body.length) {
    if (at + 4 > body.length) return undefined
    const length = body.readUInt32LE(at)
    const end = at + 4 + length
    if (end > body.length) return undefined
    const size = length > 0 && body[end - 1] === 0x0a ? length - 1 : length
    lines.push(body.toString('utf8', at + 4, at + 4 + size))
    at += 4 + ((length + 3) & ~3)
  }
  return at === body.length ? lines : undefined
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
