/**
 * The Postgres sink's RetryWindow and sleep (sinks/postgres/backoff.ts) on a
 * fake clock: one budget per outage, shared by every batch of it; backoff
 * delays that double to a cap and never pass the window or the pipeline's
 * deadline; how long an attempt may take; a fresh budget once the database
 * has answered. Jitter is pinned with Math.random.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { RetryWindow, sleep, type BackoffPolicy } from '../../sinks/postgres/backoff.js'

const policy: BackoffPolicy = { initialDelayMs: 100, maxDelayMs: 800, budgetMs: 10_000 }
const CONNECT_TIMEOUT_MS = 2000
/** The pipeline's deadline while it runs; an exit moves it in. */
const running = (): { at: number } => ({ at: Number.POSITIVE_INFINITY })
/** RetryWindow reads the deadline live, as the Postgres sink hands it over. */
const live = (deadline: { at: number }) => (): number => deadline.at

/** Every backoff wait the window allows from now on, the clock moving on by each. */
function waitsUntilExhausted(window: RetryWindow): number[] {
  const waits: number[] = []
  for (let wait = window.next(); wait !== undefined; wait = window.next()) {
    waits.push(wait)
    vi.advanceTimersByTime(wait)
  }
  return waits
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 })
})

afterEach(() => {
  vi.restoreAllMocks()
  vi.useRealTimers()
})

describe('RetryWindow: backoff', () => {
  it('waits between half and all of a delay that doubles up to maxDelayMs (full jitter)', () => {
    const window = new RetryWindow(policy, live(running()), CONNECT_TIMEOUT_MS)
    vi.spyOn(Math, 'random').mockReturnValue(0.999999)
    const longest = [window.next(), window.next(), window.next(), window.next(), window.next()].map((ms) => Math.round(ms ?? -1))
    expect(longest).toEqual([100, 200, 400, 800, 800])
    vi.spyOn(Math, 'random').mockReturnValue(0)
    expect(window.next()).toBe(400)
  })

  it('stops when the next wait would pass the end of the budget, and marks the window exhausted', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999999)
    const window = new RetryWindow(policy, live(running()), CONNECT_TIMEOUT_MS)
    const waits = waitsUntilExhausted(window)
    const spent = waits.reduce((sum, ms) => sum + ms, 0)
    expect(spent).toBeLessThanOrEqual(policy.budgetMs)
    expect(spent + 800).toBeGreaterThan(policy.budgetMs)
    expect(window.exhausted).toBe(true)
    expect(window.attemptLimitMs()).toBe(0)
  })

  it("stops at the pipeline's deadline when that comes first, also when it moves in later (an exit)", () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999999)
    const deadline = running()
    const window = new RetryWindow(policy, live(deadline), CONNECT_TIMEOUT_MS)
    expect(window.next()).toBeCloseTo(100)
    deadline.at = Date.now() + 150
    expect(window.next()).toBeUndefined()
    expect(window.exhausted).toBe(true)
  })
})

describe('RetryWindow: how long one attempt may take', () => {
  it('the rest of the window, but never less than the connect timeout: a healthy server always gets one try', () => {
    const window = new RetryWindow(policy, live(running()), CONNECT_TIMEOUT_MS)
    expect(window.attemptLimitMs()).toBe(10_000)
    vi.advanceTimersByTime(9000)
    expect(window.attemptLimitMs()).toBe(CONNECT_TIMEOUT_MS)
    vi.advanceTimersByTime(5000)
    expect(window.attemptLimitMs()).toBe(CONNECT_TIMEOUT_MS)
  })

  it("never past the pipeline's deadline, even below the connect timeout; nothing once it has passed", () => {
    const deadline = running()
    const window = new RetryWindow(policy, live(deadline), CONNECT_TIMEOUT_MS)
    deadline.at = Date.now() + 500
    expect(window.attemptLimitMs()).toBe(500)
    vi.advanceTimersByTime(600)
    expect(window.attemptLimitMs()).toBeLessThanOrEqual(0)
  })
})

describe('RetryWindow: one budget per outage', () => {
  it('a batch that starts during an outage gets what is left of the budget, not a fresh one', () => {
    const outageStart = Date.now()
    const first = new RetryWindow(policy, live(running()), CONNECT_TIMEOUT_MS, outageStart)
    vi.advanceTimersByTime(7000)
    // The next batch of the same outage: the sink passes the outage's start, not now.
    const second = new RetryWindow(policy, live(running()), CONNECT_TIMEOUT_MS, outageStart)
    expect(second.endsAt).toBe(first.endsAt)
    expect(second.endsAt - Date.now()).toBe(3000)
    vi.spyOn(Math, 'random').mockReturnValue(0.999999)
    const spent = waitsUntilExhausted(second).reduce((sum, ms) => sum + ms, 0)
    expect(spent).toBeLessThanOrEqual(3000)
    expect(Date.now()).toBeLessThanOrEqual(outageStart + policy.budgetMs)
  })

  it('a batch formed after the outage has spent its budget gets one attempt (the connect timeout) and no wait', () => {
    const outageStart = Date.now()
    vi.advanceTimersByTime(policy.budgetMs + 5000)
    const late = new RetryWindow(policy, live(running()), CONNECT_TIMEOUT_MS, outageStart)
    expect(late.attemptLimitMs()).toBe(CONNECT_TIMEOUT_MS)
    expect(late.next()).toBeUndefined()
    expect(late.attemptLimitMs()).toBe(0)
  })

  it('once the database has answered, the next failure starts a fresh budget and the first delay again', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999999)
    const during = new RetryWindow(policy, live(running()), CONNECT_TIMEOUT_MS, Date.now())
    waitsUntilExhausted(during)
    // The sink forgets the outage when a write succeeds; the next window starts now.
    vi.advanceTimersByTime(60_000)
    const after = new RetryWindow(policy, live(running()), CONNECT_TIMEOUT_MS)
    expect(after.endsAt).toBe(Date.now() + policy.budgetMs)
    expect(after.exhausted).toBe(false)
    expect(Math.round(after.next() ?? -1)).toBe(100)
  })
})

describe('sleep', () => {
  it('waits the given time', async () => {
    let woke = false
    void sleep(500).then(() => (woke = true))
    await vi.advanceTimersByTimeAsync(499)
    expect(woke).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(woke).toBe(true)
  })

  it('ends early when its signal aborts (the sink is cut off on exit), and at once when already aborted', async () => {
    const controller = new AbortController()
    let woke = false
    void sleep(60_000, controller.signal).then(() => (woke = true))
    await vi.advanceTimersByTimeAsync(10)
    controller.abort()
    await Promise.resolve()
    expect(woke).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
    await expect(sleep(60_000, controller.signal)).resolves.toBeUndefined()
  })
})
