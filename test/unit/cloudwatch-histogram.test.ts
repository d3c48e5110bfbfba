import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ValueHistogram } from '../../sinks/cloudwatch/value-histogram.js'

/** Nearest-rank percentile over an expanded Values/Counts pair. */
function percentileOf(values: number[], counts: number[], p: number): number {
  const total = counts.reduce((a, b) => a + b, 0)
  const rank = Math.max(1, Math.ceil((p / 100) * total))
  let seen = 0
  for (let i = 0; i < values.length; i++) {
    seen += counts[i] as number
    if (seen >= rank) return values[i] as number
  }
  throw new Error('empty')
}

function histogramOf(values: readonly number[]): ValueHistogram {
  const h = new ValueHistogram()
  for (const v of values) h.add(v)
  return h
}

function expectFaithful(h: ValueHistogram, raw: readonly number[]): void {
  const { values, counts } = h.valuesAndCounts()
  expect(values.length).toBeLessThanOrEqual(150)
  for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThan(values[i - 1] as number)
  const sorted = [...raw].sort((a, b) => a - b)
  const count = counts.reduce((a, b) => a + b, 0)
  const sum = values.reduce((acc, v, i) => acc + v * (counts[i] as number), 0)
  const scale = raw.reduce((acc, v) => acc + Math.abs(v), 0)
  expect(count).toBe(raw.length)
  expect(Math.abs(sum - raw.reduce((a, b) => a + b, 0))).toBeLessThanOrEqual(1e-6 * scale + 1e-9)
  // `+ 0`: a -0 datum is kept as 0 (the same value to CloudWatch); toBe would tell them apart.
  expect(values[0]).toBe((sorted[0] as number) + 0)
  expect(values[values.length - 1]).toBe((sorted[sorted.length - 1] as number) + 0)
  const ones = sorted.map(() => 1)
  for (const p of [1, 10, 25, 50, 75, 90, 95, 99, 99.9]) {
    const truth = percentileOf(sorted, ones, p)
    const sent = percentileOf(values, counts, p)
    expect(Math.abs(sent - truth)).toBeLessThanOrEqual(h.relativeError * Math.abs(truth) + 1e-12)
  }
}

const value = fc.oneof(
  fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }),
  fc.double({ min: 0.001, max: 100, noNaN: true }),
  fc.integer({ min: 0, max: 20 }),
)

describe('ValueHistogram (Values + Counts for one datum)', () => {
  it('sends up to 150 distinct values exactly', () => {
    const raw = Array.from({ length: 1500 }, (_, i) => (i % 150) * 1.5)
    const h = histogramOf(raw)
    const { values, counts } = h.valuesAndCounts()
    expect(values).toEqual(Array.from({ length: 150 }, (_, i) => i * 1.5))
    expect(counts).toEqual(Array.from({ length: 150 }, () => 10))
    expect(h.relativeError).toBe(0)
  })

  it('keeps count, sum, min, max exact and percentiles within the stated error, whatever arrives', () => {
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 1500, size: 'max' }), (raw) => expectFaithful(histogramOf(raw), raw)),
      { numRuns: 150 },
    )
  })

  it('merges a returned aggregate into newer data without losing fidelity', () => {
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 800, size: 'max' }), fc.array(value, { minLength: 1, maxLength: 800, size: 'max' }), (a, b) => {
        const h = histogramOf(a)
        h.absorb(histogramOf(b))
        expectFaithful(h, [...a, ...b])
      }),
      { numRuns: 100 },
    )
  })

  it('documents its error: about 2.2 % within a factor 10, 9.1 % within a factor 1000', () => {
    const narrow = histogramOf(Array.from({ length: 5000 }, (_, i) => 10 + (90 * i) / 5000))
    expect(narrow.relativeError).toBeLessThan(0.022)
    const wide = histogramOf(Array.from({ length: 5000 }, (_, i) => 1 + (999 * i) / 5000))
    expect(wide.relativeError).toBeLessThan(0.091)
  })

  it('stays within 150 entries for 100k distinct values spanning 600 octaves', () => {
    const raw = Array.from({ length: 100_000 }, (_, i) => (i % 2 ? -1 : 1) * 2 ** (-300 + (600 * i) / 100_000))
    const h = histogramOf(raw)
    expect(h.valuesAndCounts().values.length).toBeLessThanOrEqual(150)
    expect(h.count).toBe(100_000)
  })
})
