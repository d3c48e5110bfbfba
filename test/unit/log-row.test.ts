import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseLine } from '../../src/records/parse-line.js'
import { toLogRow } from '../../sinks/postgres/log-row.js'

const PROMOTED = ['time', 'level', 'msg', 'hostname', 'pid', 'trace_id', 'span_id']

describe('toLogRow data (property)', () => {
  it('keeps every field that is not a column, in order, as an own property (even __proto__)', () => {
    const key = fc.oneof(fc.constantFrom(...PROMOTED, '__proto__', 'constructor', 'data', 'i'), fc.string({ maxLength: 6 }))
    fc.assert(
      fc.property(fc.dictionary(key, fc.jsonValue({ maxDepth: 2 })), (object) => {
        const line = JSON.stringify(object)
        const parsed = parseLine(line, Buffer.byteLength(line), 1, 0)
        if (!parsed.ok) return
        const value = parsed.record.value
        const row = toLogRow(parsed.record, 'w')
        const data = row.data as Record<string, unknown>
        expect(Object.getPrototypeOf(data)).toBe(Object.prototype)
        const kept = Object.keys(value).filter((k) => !PROMOTED.includes(k))
        expect(Object.keys(data).filter((k) => !PROMOTED.includes(k))).toEqual(kept)
        for (const k of kept) expect(Object.getOwnPropertyDescriptor(data, k)?.value).toEqual(value[k])
      }),
      { numRuns: 500 },
    )
  })
})
