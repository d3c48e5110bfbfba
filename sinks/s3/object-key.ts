/**
 * `<prefix>YYYY/MM/DD/<sha256>.json.gz`: content-addressed, so a retried or
 * repeated payload lands on the same key (idempotent, duplicates are free),
 * and partitioned by the record's UTC day so lifecycle rules can expire old
 * days. The prefix is validated with the options; the date comes from the
 * record's time, which a record controls, so it is clamped to four-digit
 * years (the upload day otherwise) and cannot add path segments.
 */
export function objectKey(prefix: string, recordTime: number, sha256: string, now = Date.now()): string {
  let date = new Date(recordTime)
  const year = date.getUTCFullYear()
  if (!Number.isFinite(date.getTime()) || year < 1970 || year > 9999) date = new Date(now)
  const pad = (n: number, width: number): string => String(n).padStart(width, '0')
  const day = `${pad(date.getUTCFullYear(), 4)}/${pad(date.getUTCMonth() + 1, 2)}/${pad(date.getUTCDate(), 2)}`
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`object keys need a sha256 hex digest, got ${sha256.slice(0, 80)}`)
  return `${prefix}${day}/${sha256}.json.gz`
}
