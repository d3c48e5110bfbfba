import { workerProfile } from '../shared/worker-profile.js'
import { withinAttempt } from './attempt-limit.js'
import { committedRanges, inRanges, recordCommit } from './commit-ledger.js'
import type { Connections, Sql } from './connect.js'
import { copyLogRows } from './copy-log-rows.js'
import type { EncodedBatch } from './encoded-batch.js'
import { insertSpanRows } from './spans-schema.js'
import type { TableMaintenance } from './table-maintenance.js'
import type { TableNames } from './table-names.js'
import type { AttemptDatabase } from './write-batch.js'

/** The batch transaction and the commit-ledger check on a real server, each bounded by its attempt's end (attempt-limit.ts). */
export class BatchDatabase implements AttemptDatabase {
  constructor(
    private readonly connections: Connections,
    private readonly names: TableNames,
    private readonly maintenance: Pick<TableMaintenance, 'beforeInsert'>,
  ) {}

  insert(batch: EncodedBatch, end: number, tighten: boolean): Promise<void> {
    return withinAttempt(this.connections, end, (limitMs) => {
      // Until its transaction has ended, even after withinAttempt gave up on it: its COPY may still be sending the text.
      batch.hold()
      return this.transaction(batch, tighten ? limitMs : undefined).finally(() => batch.release())
    })
  }

  /**
   * A row counts as committed iff its seq lies in a committed range of the ledger. That is exact:
   * a writer's committed transactions have disjoint seq ranges, since a batch's records are in seq
   * order and a rejected batch is split into halves at a seq (EncodedBatch.halves), so every record
   * inside a committed range was in that transaction (logs and spans alike: the ledger row covers both tables).
   */
  async uncommitted(batch: EncodedBatch, end: number): Promise<EncodedBatch> {
    const range = batch.seqRange()
    if (!range) return batch
    const ranges = await withinAttempt(this.connections, end, () => committedRanges(this.connections.sql, this.names, batch.writerId, range))
    return ranges.length === 0 ? batch : batch.keep((seq) => !inRanges(seq, ranges))
  }

  /**
   * One transaction. Its statements are bounded by the connection's
   * statement_timeout and lock_timeout (the retry budget, connect.ts); a retry
   * tightens both to what is left of its window (`limitMs`), which costs a
   * round trip only then.
   */
  private async transaction(batch: EncodedBatch, limitMs: number | undefined): Promise<void> {
    const range = batch.seqRange()
    if (!range) return
    let mark = workerProfile?.now() ?? 0
    await this.maintenance.beforeInsert(batch)
    // synchronous_commit is set per connection (connect.ts), not per transaction: one round trip less per batch.
    // (A lone COPY outside a transaction would save BEGIN/COMMIT too, but postgres.js pipelines pooled
    // queries onto a connection mid-COPY, and its reserve() does not recover from a server crash.)
    let opened = false
    const limit = limitMs === undefined ? undefined : String(limitMs)
    await this.connections.sql
      .begin(async (tx) => {
        opened = true
        workerProfile?.txStarted()
        if (limit !== undefined) await tx`select set_config('statement_timeout', ${limit}, true), set_config('lock_timeout', ${limit}, true)`
        if (workerProfile) mark = workerProfile.add('waitBeforeCopyMs', mark)
        if (batch.logSeqs.length > 0) await copyLogRows(tx as unknown as Sql, this.names, batch.copyData)
        if (batch.spans.length > 0) await insertSpanRows(tx as unknown as Sql, this.names, batch.spans)
        // In the same transaction: the ledger row commits iff the rows do.
        await recordCommit(tx as unknown as Sql, this.names, batch.writerId, range, batch.size)
        if (workerProfile) mark = workerProfile.now()
      })
      .finally(() => {
        if (!opened || !workerProfile) return
        workerProfile.add('commitMs', mark)
        workerProfile.txEnded()
      })
  }
}
