/** The one deadline type (sinks/shared/deadline.ts), with fake timers. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Deadline } from '../../sinks/shared/deadline.js'

beforeEach(() => void vi.useFakeTimers({ now: 1_000_000 }))
afterEach(() => void vi.useRealTimers())

describe('Deadline', () => {
  it('aborts its signal when it passes', async () => {
    const d = Deadline.in(100)
    expect(d.at).toBe(1_000_100)
    await vi.advanceTimersByTimeAsync(99)
    expect(d.signal.aborted).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(d.signal.aborted).toBe(true)
    expect(d.passed).toBe(true)
  })

  it('race: the value when work settles in time, settled: false when the deadline comes first', async () => {
    const d = Deadline.in(100)
    await expect(d.race(Promise.resolve(7))).resolves.toEqual({ settled: true, value: 7 })
    const late = d.race(new Promise((resolve) => setTimeout(resolve, 500, 'late')))
    await vi.advanceTimersByTimeAsync(100)
    await expect(late).resolves.toEqual({ settled: false })
  })

  it('race rejects when the work rejects in time; settles() counts either way', async () => {
    const d = Deadline.in(100)
    await expect(d.race(Promise.reject(new Error('no')))).rejects.toThrow('no')
    await expect(d.settles(Promise.reject(new Error('no')))).resolves.toBe(true)
    const never = d.settles(new Promise(() => {}))
    await vi.advanceTimersByTimeAsync(100)
    await expect(never).resolves.toBe(false)
  })

  it('a deadline already past still takes work that has settled', async () => {
    const d = Deadline.at(Date.now() - 1)
    await expect(d.race(Promise.resolve('done'))).resolves.toEqual({ settled: true, value: 'done' })
  })

  it('never passes until brought forward; never moves later', async () => {
    const d = Deadline.never()
    expect(d.at).toBe(Number.POSITIVE_INFINITY)
    d.bringForward(Date.now() + 50)
    d.bringForward(Date.now() + 500)
    expect(d.at).toBe(1_000_050)
    await vi.advanceTimersByTimeAsync(50)
    expect(d.signal.aborted).toBe(true)
  })

  it('a narrowed child ends at its own point or its parent, and follows the parent brought forward', async () => {
    const exit = Deadline.never()
    const call = exit.narrow(Date.now() + 10_000)
    const race = call.race(new Promise(() => {}))
    exit.bringForward(Date.now() + 20)
    expect(call.at).toBe(1_000_020)
    await vi.advanceTimersByTimeAsync(20)
    expect(call.signal.aborted).toBe(true)
    await expect(race).resolves.toEqual({ settled: false })
    // A child made after its parent passed is passed at once.
    expect(exit.narrow().signal.aborted).toBe(true)
  })

  it('context(): the public face reads the deadline live and shares the signal', () => {
    const d = Deadline.never()
    const context = d.context()
    expect(context.deadline).toBe(Number.POSITIVE_INFINITY)
    d.bringForward(Date.now() + 5)
    expect(context.deadline).toBe(1_000_005)
    expect(context.signal).toBe(d.signal)
    // And back: a sink gets a Deadline from its context.
    const again = Deadline.of(context)
    expect(again.at).toBe(1_000_005)
  })
})
