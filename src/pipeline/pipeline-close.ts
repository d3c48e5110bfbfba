import type { Batcher } from '../batcher/batcher.js'
import type { BoundedChannel } from '../channel/bounded-channel.js'
import type { Counters } from '../counters/counters.js'
import { Deadline } from '../../sinks/shared/deadline.js'
import { workerProfile } from '../../sinks/shared/worker-profile.js'
import type { BatchWriter } from './batch-writer.js'
import type { DropAnnouncer } from './drop-announcer.js'
import { exitBudget } from './exit-budget.js'
import type { FanOut } from './fan-out.js'
import type { PipelineIntake } from './pipeline-intake.js'
import type { QueueGauges } from './queue-gauges.js'
import type { SinkRunner } from './sink-runner.js'
import type { StageStep } from './stage-step.js'

/** The parts of a pipeline its close goes through, in the order of the exit budget's phases. */
export interface ClosingPipeline {
  /** Every batch's deadline: brought forward to the drain's end here. */
  readonly exit: Deadline
  readonly counters: Counters
  readonly channel: BoundedChannel
  readonly batcher: Batcher
  readonly intake: PipelineIntake
  readonly writer: BatchWriter
  readonly gauges: QueueGauges
  readonly announcer: DropAnnouncer
  readonly store: SinkRunner
  readonly stages: readonly StageStep[]
  readonly fanout: FanOut | undefined
  readonly report: (message: string) => void
  /** Writes out what is queued and flushes the stages and the fan-out (the drain). */
  flushStages(): Promise<void>
}

/**
 * Drains and commits within `budgetMs`, everything included, phase by
 * phase as exit-budget.ts names them. Lines still queued when the drain
 * ends are dropped `exit_timeout` (or spooled), and batches still in flight
 * are cut off (the store's cutOff: Postgres destroys its connections) and
 * counted as the store's unavailable. The reserve covers a last drop notice
 * (only while the store answers), the fan-out sinks' and stages' close and
 * the store's close (final stats row, connections). Resolves at once if the
 * pipeline is closed already.
 */
export async function closePipeline(p: ClosingPipeline, budgetMs: number): Promise<void> {
  if (!p.intake.shut()) return
  const phases = exitBudget(budgetMs)
  p.exit.bringForward(phases.drainEnd)
  if (!(await p.exit.settles(p.flushStages()))) {
    const left = p.channel.take(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER).lines
    if (!p.intake.spill(left, 'exit_timeout') && left.length > 0) p.counters.drop('exit_timeout', left.length)
    p.store.cutOff()
    await Deadline.at(phases.cutOffEnd).settles(p.batcher.drain())
    p.writer.abandonOpenBatches()
  }
  p.batcher.stop()
  p.gauges.publish()
  if (p.writer.storeAnswers) {
    const notice = Deadline.at(phases.noticeEnd)
    await notice.settles(p.announcer.announce(notice))
  }
  const stagesEnd = Deadline.at(phases.stagesCloseEnd)
  await Promise.all([
    stagesEnd.settles(Promise.all(p.stages.map((stage) => stage.runner.close(stagesEnd)))),
    // Not cut short: the fan-out bounds itself by the deadline it is given and counts what it could not deliver as it gets there.
    p.fanout?.close(Deadline.at(phases.fanoutCloseEnd)),
    closeStore(p, Deadline.at(phases.storeCloseEnd)),
  ])
  p.store.cutOff()
  p.gauges.publish()
  workerProfile?.write()
}

/** The store's close, bounded by the end of the budget; says so when it did not end in time. */
async function closeStore(p: ClosingPipeline, end: Deadline): Promise<void> {
  if (!(await end.settles(p.store.close(end)))) p.report(`store ${p.store.name}: close timed out (exit.budgetMs ran out)`)
}
