import { setTimeout as sleep } from 'node:timers/promises'
import { nowMs, type Emission } from '../bench-spec.js'

export interface EmitTiming {
  emitted: number
  callNs: number
  firstCallMs: number
  lastCallMs: number
}

/**
 * Calls `log(i)` `records` times: in one tight loop (burst), or paced to
 * `rate` per second in 5 ms slices (sustained). Only time inside the calls
 * counts as main-thread cost.
 */
export async function emit(emission: Emission, log: (i: number) => void): Promise<EmitTiming> {
  const { records, rate } = emission
  const firstCallMs = nowMs()
  let callNs = 0n
  let i = 0
  if (rate === undefined) {
    const start = process.hrtime.bigint()
    for (; i < records; i++) log(i)
    callNs = process.hrtime.bigint() - start
  } else {
    while (i < records) {
      const due = Math.min(records, Math.floor(((nowMs() - firstCallMs) / 1000) * rate))
      const start = process.hrtime.bigint()
      for (; i < due; i++) log(i)
      callNs += process.hrtime.bigint() - start
      if (i < records) await sleep(5)
    }
  }
  return { emitted: records, callNs: Number(callNs), firstCallMs, lastCallMs: nowMs() }
}
