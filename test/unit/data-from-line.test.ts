/**
 * dataCutter cuts the data column's JSON out of the raw line. Whatever the
 * line looks like, the text it returns must parse to the object minus the
 * dropped members: that is all jsonb keeps.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { dataCutter } from '../../sinks/postgres/data-from-line.js'

const COLUMN_KEYS = ['time', 'level', 'msg', 'hostname', 'pid', 'trace_id', 'span_id']
const key = fc.oneof(fc.constantFrom(...COLUMN_KEYS, '__proto__', 'a"b', 'back\\slash', 'é', ''), fc.string({ maxLength: 6 }))
const objects = fc.dictionary(key, fc.jsonValue({ maxDepth: 3 }))
/** The same object written the ways JSON allows: compact, indented, with tabs and CRs between tokens. */
const spacing = fc.constantFrom<string | number>(0, 2, '\t', ' \r ')

function without(object: Record<string, unknown>, dropped: (key: string) => boolean): Record<string, unknown> {
  const kept: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(object)) if (!dropped(k)) Object.defineProperty(kept, k, { value: v, enumerable: true, writable: true, configurable: true })
  return kept
}

const cut = dataCutter(COLUMN_KEYS)

describe('dataCutter', () => {
  it('parses to the object minus the dropped members, however the line is spaced (property)', () => {
    fc.assert(
      fc.property(objects, spacing, fc.subarray(COLUMN_KEYS), (object, space, droppedKeys) => {
        const line = JSON.stringify(object, null, space)
        const dropped = (k: string) => droppedKeys.includes(k)
        const data = cut(line, dropped)
        // Only a number beyond jsonb's reach as written is left to the caller (doubles print 1e+300).
        if (data === undefined) {
          expect(line).toMatch(/\d[eE][+-]?\d{3}/)
          return
        }
        expect(JSON.parse(data)).toEqual(without(JSON.parse(line) as Record<string, unknown>, dropped))
      }),
      { numRuns: 1000 },
    )
  })

  it('is the JSON.stringify text of what is kept when the line came from JSON.stringify (as pino writes it)', () => {
    fc.assert(
      fc.property(objects, fc.subarray(COLUMN_KEYS), (object, droppedKeys) => {
        const dropped = (k: string) => droppedKeys.includes(k)
        const line = JSON.stringify(object)
        const parsed = JSON.parse(line) as Record<string, unknown>
        const data = cut(line, dropped)
        if (data === undefined) {
          expect(line).toMatch(/\d[eE][+-]?\d{3}/)
          return
        }
        expect(data).toBe(JSON.stringify(without(parsed, dropped)))
      }),
      { numRuns: 1000 },
    )
  })

  it('reads keys written with escapes as the keys they spell', () => {
    expect(cut('{"\\u006dsg":"hi","m\\"x":1,"a\\\\":[{"msg":"nested stays"}]}', (k) => k === 'msg')).toBe('{"m\\"x":1,"a\\\\":[{"msg":"nested stays"}]}')
  })

  it('keeps duplicate keys (jsonb then keeps the last, as JSON.parse does) and big integers as written', () => {
    expect(cut('{"a":1,"msg":"x","a":2,"n":12345678901234567890}', (k) => k === 'msg')).toBe('{"a":1,"a":2,"n":12345678901234567890}')
  })

  it('leaves to the caller a line with a number jsonb refuses as written: a three-digit exponent or a run of digits near 16,383', () => {
    expect(cut('{"n":1e131072}', () => false)).toBeUndefined()
    expect(cut('{"a":{"b":[1.5E-400]}}', () => false)).toBeUndefined()
    expect(cut(`{"n":0.${'0'.repeat(16_400)}1}`, () => false)).toBeUndefined()
    // Fraction digits and a negative exponent count together against jsonb's 16,383.
    expect(cut(`{"n":0.${'1'.repeat(16_300)}e-99}`, () => false)).toBeUndefined()
    // Two-digit exponents, long strings of digits in strings, and the e of true/false are fine.
    expect(cut(`{"n":1e99,"s":"1e999 ${'9'.repeat(20_000)}","t":true,"f":false}`, () => false)).toBe(`{"n":1e99,"s":"1e999 ${'9'.repeat(20_000)}","t":true,"f":false}`)
  })

  it('gives {} for an empty object or one with nothing kept', () => {
    expect(cut('{}', () => false)).toBe('{}')
    expect(cut(' { } ', () => false)).toBe('{}')
    expect(cut('{"msg":"a","time":1,"other":2}', () => true)).toBe('{"other":2}')
  })
})
