/**
 * How long tail may go without an update before it gives up (`--timeout`):
 * a script running `sluice tail --count 1` against the wrong file or table
 * must end with a reason, not wait forever.
 */
export class WaitLimit {
  private since = Date.now()

  constructor(private readonly timeoutMs: number | undefined) {}

  /** An update was shown: the clock starts again. */
  updated(): void {
    this.since = Date.now()
  }

  /** How long is left before the limit passes (0 once it has), or undefined without a limit: bounds each read and wait. */
  remainingMs(): number | undefined {
    return this.timeoutMs === undefined ? undefined : Math.max(0, this.timeoutMs - (Date.now() - this.since))
  }

  /** The sentence to exit with once the limit has passed, else undefined. */
  expired(lastStatus: string | undefined): string | undefined {
    if (this.timeoutMs === undefined || Date.now() - this.since < this.timeoutMs) return undefined
    const seconds = Math.round(this.timeoutMs / 100) / 10
    return `gave up after ${seconds} s without an update (--timeout; 0 waits as long as it takes)${lastStatus ? `: ${lastStatus}` : ''}`
  }
}
