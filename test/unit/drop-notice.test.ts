/**
 * The drop notice (src/pipeline/drop-notice.ts): the warn row that tells
 * readers of the table how many records were lost since the last notice, per
 * reason, counting the app thread's drops too. Plain counters, no database.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { AppCounters } from '../../src/counters/app-counters.js'
import { SHARED_COUNTER_SLOTS } from '../../src/counters/counter-names.js'
import { Counters } from '../../src/counters/counters.js'
import { dropNotice, NOTICE_FIELD } from '../../src/pipeline/drop-notice.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('dropNotice', () => {
  it('is nothing while nothing was dropped or failed (written, received and gauges do not count)', () => {
    const counters = new Counters()
    counters.add('received', 10)
    counters.add('written', 10)
    counters.set('queued_records', 5)
    expect(dropNotice(counters, undefined, 1)).toBeUndefined()
  })

  it('is a warn row with the losses since the last notice, by reason, and the totals', () => {
    vi.useFakeTimers({ now: new Date('2026-12-02T10:00:00Z') })
    const counters = new Counters()
    counters.drop('overflow', 7)
    counters.fail('db_unavailable', 3)
    const notice = dropNotice(counters, undefined, 42)
    expect(notice?.record).toMatchObject({ seq: 42, level: 40, time: Date.parse('2026-12-02T10:00:00Z'), bytes: 0 })
    expect(notice?.record.value).toMatchObject({
      level: 40,
      msg: 'pino-sluice dropped 7 records and failed to write 3',
      [NOTICE_FIELD]: { notice: 'losses', since_last_notice: { dropped_overflow: 7, failed_db_unavailable: 3 } },
    })
    const totals = (notice?.record.value as Record<string, { totals: Record<string, number> }>)[NOTICE_FIELD]?.totals
    expect(totals).toMatchObject({ dropped_overflow: 7, failed_db_unavailable: 3, dropped_too_large: 0 })
    expect(notice?.tally).toEqual(totals)
  })

  it('says only "dropped" when nothing failed', () => {
    const counters = new Counters()
    counters.drop('too_large', 1)
    expect(dropNotice(counters, undefined, 1)?.record.value.msg).toBe('pino-sluice dropped 1 records')
  })

  it('after a notice, the next one tells only what is new; with nothing new, there is none', () => {
    const counters = new Counters()
    counters.drop('overflow', 5)
    const first = dropNotice(counters, undefined, 1)
    expect(dropNotice(counters, first?.tally, 2)).toBeUndefined()
    counters.drop('overflow', 2)
    counters.drop('exit_timeout', 1)
    const second = dropNotice(counters, first?.tally, 2)
    expect(second?.record.value[NOTICE_FIELD]).toMatchObject({ since_last_notice: { dropped_overflow: 2, dropped_exit_timeout: 1 }, totals: { dropped_overflow: 7, dropped_exit_timeout: 1 } })
    expect(Object.keys((second?.record.value[NOTICE_FIELD] as { since_last_notice: object }).since_last_notice)).toEqual(['dropped_overflow', 'dropped_exit_timeout'])
  })

  it('a notice that was not written leaves its losses for the next one (the caller keeps the last tally written)', () => {
    const counters = new Counters()
    counters.drop('overflow', 5)
    const lost = dropNotice(counters, undefined, 1)
    expect(lost).toBeDefined()
    counters.drop('overflow', 1)
    // The previous notice's write failed: the pipeline passes the tally before it, here none.
    expect(dropNotice(counters, undefined, 2)?.record.value.msg).toBe('pino-sluice dropped 6 records')
  })

  it("counts the app thread's drops (createSluice's ring) as well as the worker's", () => {
    const buffer = new SharedArrayBuffer(SHARED_COUNTER_SLOTS * BigInt64Array.BYTES_PER_ELEMENT)
    const app = new AppCounters(buffer)
    const counters = new Counters(buffer)
    app.drop('overflow')
    app.drop('overflow')
    app.publish()
    counters.drop('overflow', 3)
    expect(dropNotice(counters, undefined, 1)?.record.value[NOTICE_FIELD]).toMatchObject({ since_last_notice: { dropped_overflow: 5 } })
  })
})
