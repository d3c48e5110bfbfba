import type { Counters } from '../counters/counters.js'
import type { Deadline } from '../../sinks/shared/deadline.js'
import { dropNotice, type DropTally } from './drop-notice.js'
import type { RecordSeqs } from './record-seqs.js'
import type { SinkRunner } from './sink-runner.js'

/**
 * Writes the drop notices (drop-notice.ts) to the store of record: after a
 * successful batch, and once more on close while the store answers. Remembers
 * what the last notice that reached the store said, so each loss is
 * announced once.
 */
export class DropAnnouncer {
  private announced: DropTally | undefined
  private announcing = false

  constructor(
    private readonly counters: Counters,
    private readonly store: SinkRunner,
    private readonly seqs: RecordSeqs,
  ) {}

  /** One row telling readers of the table how many records were dropped or failed since the last notice. */
  async announce(deadline: Deadline): Promise<void> {
    // Batches run side by side; one notice at a time keeps each loss announced once.
    if (this.announcing) return
    const notice = dropNotice(this.counters, this.announced, this.seqs.next)
    if (!notice) return
    this.seqs.next++
    this.announcing = true
    try {
      // Not counted as the store's delivered: the notice is not an app record.
      const tally = await this.store.write([notice.record], deadline, false)
      if (tally.delivered === 1) this.announced = notice.tally
    } finally {
      this.announcing = false
    }
  }
}
