import { readFileSync } from 'node:fs'
import { decodeFrame, findMagic, frameHeader, PREFIX_BYTES } from './frame.js'

/** Where one valid frame sits in its segment file. */
export interface FrameRef {
  readonly offset: number
  readonly length: number
  readonly records: number
  readonly appendedAt: number
  settled: boolean
}

export interface SegmentScan {
  readonly frames: FrameRef[]
  /** Damaged stretches skipped (a torn tail, garbage, a frame whose checksum fails), by file offset. */
  readonly damaged: number[]
  readonly size: number
}

/**
 * Reads a segment written by an earlier process and lists its valid frames.
 * A damaged stretch is skipped to the next frame boundary (the next magic
 * that starts a valid frame), so one bad frame costs only itself.
 */
export function scanSegment(path: string): SegmentScan {
  const buffer = readFileSync(path)
  const frames: FrameRef[] = []
  const damaged: number[] = []
  let offset = 0
  while (offset < buffer.length) {
    if (decodeFrame(buffer, offset)) {
      const header = frameHeader(buffer, offset)
      const length = PREFIX_BYTES + header.bodyBytes
      frames.push({ offset, length, records: header.records, appendedAt: header.appendedAt, settled: false })
      offset += length
      continue
    }
    damaged.push(offset)
    offset = nextValidFrame(buffer, offset + 1)
  }
  return { frames, damaged, size: buffer.length }
}

function nextValidFrame(buffer: Buffer, from: number): number {
  for (let at = findMagic(buffer, from); at !== -1; at = findMagic(buffer, at + 1)) {
    if (decodeFrame(buffer, at)) return at
  }
  return buffer.length
}
