import { POINTER_BYTES, type Payload } from './pick-payloads.js'

/** Characters of a truncated payload's JSON kept in the row, so a reader sees what it was. */
export const TRUNCATED_HEAD_CHARS = 1024

/** What replaces a payload that could neither be uploaded nor kept inline. */
export interface TruncatedMarker {
  /** Why the payload is not here, e.g. "offload failed: ECONNREFUSED". */
  $truncated: string
  /** UTF-8 size of the payload's JSON. */
  bytes: number
  sha256: string
  /** The start of the payload's JSON. */
  head: string
}

export function truncatedMarker(payload: Payload, sha256: string, reason: string): TruncatedMarker {
  let head = payload.json.toString('utf8', 0, Math.min(payload.json.length, TRUNCATED_HEAD_CHARS * 4)).slice(0, TRUNCATED_HEAD_CHARS)
  // Never end on half a surrogate pair: Postgres refuses lone surrogates in jsonb.
  const last = head.charCodeAt(head.length - 1)
  if (last >= 0xd800 && last <= 0xdbff) head = head.slice(0, -1)
  // A multi-byte character cut at the byte limit decodes as U+FFFD; drop it rather than show garbage.
  if (head.endsWith('\uFFFD')) head = head.slice(0, -1)
  return { $truncated: `offload failed: ${reason}`, bytes: payload.json.length, sha256, head }
}

/**
 * Of the payloads whose upload failed, decides which stay inline: smallest
 * first, as long as the row stays within `maxInlineBytes`; the others are
 * truncated. `rowBytes` is the estimated row size with every failed payload
 * still inline.
 */
export function keepInline(failed: readonly Payload[], rowBytes: number, maxInlineBytes: number): Set<Payload> {
  let size = rowBytes
  for (const payload of failed) size -= payload.json.length
  const inline = new Set<Payload>()
  for (const payload of [...failed].sort((a, b) => a.json.length - b.json.length)) {
    if (size + payload.json.length <= maxInlineBytes) {
      inline.add(payload)
      size += payload.json.length
    } else {
      size += TRUNCATED_HEAD_CHARS + POINTER_BYTES
    }
  }
  return inline
}
