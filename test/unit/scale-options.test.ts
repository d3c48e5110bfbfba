import { describe, expect, it } from 'vitest'
import { parseDuration } from '../../sinks/postgres/partition-options.js'
import { missingPeriods, partitionName, periodStart } from '../../sinks/postgres/partition-periods.js'
import { resolveOptions } from '../../src/options/resolve-options.js'

const URL_OPTION = { url: 'postgres://u@localhost/db' }
const resolve = (postgres: Record<string, unknown>) => resolveOptions({ postgres: { ...URL_OPTION, ...postgres } }).postgres!

describe('partition and retention options', () => {
  it('defaults to daily partitions, no retention, stats rows every 10 s', () => {
    expect(resolve({})).toMatchObject({ partition: 'day', retentionMs: undefined, statsIntervalMs: 10_000 })
  })

  it('reads durations', () => {
    expect(resolve({ partition: 'hour', retention: '48h' }).retentionMs).toBe(48 * 3_600_000)
    expect(resolve({ retention: '14d' }).retentionMs).toBe(14 * 86_400_000)
    expect(parseDuration('90m')).toBe(90 * 60_000)
    expect(parseDuration('0d')).toBeUndefined()
    expect(parseDuration('2w')).toBeUndefined()
  })

  it('names the option, the value and the fix when wrong', () => {
    expect(() => resolve({ partition: 'week' })).toThrow(/options\.postgres\.partition must be 'day', 'hour' or false, got "week"/)
    expect(() => resolve({ retention: '14x' })).toThrow(/options\.postgres\.retention must be a duration such as '14d'.*got "14x"/)
    expect(() => resolve({ partition: false, retention: '14d' })).toThrow(/needs options\.postgres\.partition 'day' or 'hour', not false/)
    expect(() => resolve({ retention: '12h' })).toThrow(/shorter than one day partition/)
    expect(() => resolve({ statsIntervalMs: -1 })).toThrow(/options\.postgres\.statsIntervalMs must be an integer between 0 and/)
  })
})

describe('partition periods', () => {
  const midnight = Date.UTC(2026, 10, 23)

  it('align on UTC midnight and hours', () => {
    expect(periodStart(midnight - 1, 'day')).toBe(midnight - 86_400_000)
    expect(periodStart(midnight, 'day')).toBe(midnight)
    expect(periodStart(midnight + 3_600_000 + 5, 'hour')).toBe(midnight + 3_600_000)
    expect(partitionName('logs', midnight, 'day')).toBe('logs_p20261123')
    expect(partitionName('logs', midnight + 13 * 3_600_000, 'hour')).toBe('logs_p2026112313')
  })

  it('keep long names unique within 63 characters', () => {
    const parent = `${'a'.repeat(48)}_spans`
    const a = partitionName(parent, midnight, 'hour')
    const b = partitionName(parent, midnight + 3_600_000, 'hour')
    expect(a.length).toBeLessThanOrEqual(63)
    expect(a).not.toBe(b)
  })

  it('ask for partitions only inside the window and only once', () => {
    const window = { period: 'day' as const, pastMs: 7 * 86_400_000, futureMs: 86_400_000 }
    const now = midnight + 1000
    const missing = missingPeriods([now, now + 5, midnight - 1, now + 3 * 86_400_000, 0, Number.NaN, now - 30 * 86_400_000], new Set([midnight]), window, now)
    expect(missing).toEqual([midnight - 86_400_000])
  })
})
