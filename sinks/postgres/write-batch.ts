import { sleep } from './backoff.js'
import type { EncodedBatch } from './encoded-batch.js'
import { WriteAttempts, type AttemptContext, type BatchOutcome, type Step, type StepResult } from './write-attempts.js'

/** The two things an attempt does on the database (batch-database.ts; a fake in the unit tests). */
export interface AttemptDatabase {
  /** One transaction writing `batch` and its ledger row, ended by `end` (epoch ms). `tighten`: set the server's statement/lock timeout to what is left. */
  insert(batch: EncodedBatch, end: number, tighten: boolean): Promise<void>
  /** The rows of `batch` that no committed transaction holds (by the commit ledger), asked by `end`. */
  uncommitted(batch: EncodedBatch, end: number): Promise<EncodedBatch>
}

/** Writes one batch: performs the steps WriteAttempts decides on until it settles. */
export async function writeBatch(batch: EncodedBatch, uncertain: boolean, database: AttemptDatabase, context: AttemptContext): Promise<BatchOutcome> {
  const attempts = new WriteAttempts(batch, uncertain, context)
  let step = attempts.first()
  while (step.do !== 'settle') step = attempts.next(await perform(step, database, context.stopping))
  return step.outcome
}

const INSERTED: StepResult = { kind: 'inserted' }
const WAITED: StepResult = { kind: 'waited' }

async function perform(step: Exclude<Step, { do: 'settle' }>, database: AttemptDatabase, stopping: AbortSignal): Promise<StepResult> {
  try {
    switch (step.do) {
      case 'wait':
        await sleep(step.ms, stopping)
        return WAITED
      case 'insert':
        await database.insert(step.batch, step.end, step.tighten)
        return INSERTED
      case 'check':
        return { kind: 'checked', uncommitted: await database.uncommitted(step.batch, step.end) }
    }
  } catch (error) {
    return { kind: 'failed', error }
  }
}
