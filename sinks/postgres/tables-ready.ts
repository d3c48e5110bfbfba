import { Deadline } from '../shared/deadline.js'
import { attemptEnd, withinAttempt } from './attempt-limit.js'
import { sleep, type RetryWindow } from './backoff.js'
import { isTransient } from './classify-error.js'
import type { Connections } from './connect.js'
import { migrate, type Migration } from './migrations.js'
import type { Outage } from './outage.js'
import type { TableMaintenance } from './table-maintenance.js'
import type { TableNames } from './table-names.js'

export interface TablesReadyParts {
  readonly connections: Connections
  readonly names: TableNames
  readonly migrations: readonly Migration[]
  readonly maintenance: Pick<TableMaintenance, 'afterMigrate'>
  readonly outage: Pick<Outage, 'answered' | 'failed'>
  readonly onRetry: () => void
  /** Aborted on exit: backoff waits end and no attempt starts any more. */
  readonly stopping: AbortSignal
}

/**
 * The tables, migrated once before the first batch (and again after Postgres
 * refused our writes: a dropped table is re-created). A transient failure is
 * retried within the window of the batch that waits on it, then reported to
 * that batch; the next batch tries again.
 */
export class TablesReady {
  private ready: Promise<void> | undefined

  constructor(private readonly parts: TablesReadyParts) {}

  ensure(window: RetryWindow): Promise<void> {
    this.ready ??= this.migrateWithRetry(window).catch((error: unknown) => {
      this.ready = undefined
      throw error
    })
    return this.ready
  }

  /** The tables may be gone (Postgres refuses our writes): the migrations run again before the next batch. */
  forget(): void {
    this.ready = undefined
  }

  private async migrateWithRetry(window: RetryWindow): Promise<void> {
    const { connections, names, migrations, maintenance, outage, stopping } = this.parts
    for (;;) {
      try {
        await withinAttempt(connections, attemptEnd(window), () => migrate(connections.sql, names, migrations))
        outage.answered()
        // Partitions ahead and the first stats row: best effort, and never longer than this attempt may take.
        await Deadline.at(attemptEnd(window)).settles(maintenance.afterMigrate())
        return
      } catch (error) {
        if (!isTransient(error)) throw error
        outage.failed(error)
        const wait = window.next()
        if (wait === undefined || stopping.aborted) throw error
        this.parts.onRetry()
        await sleep(wait, stopping)
      }
    }
  }
}
