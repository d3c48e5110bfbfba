import { median } from './median.js'

const PAGE_BYTES = 4096
const PROBE_BYTES = 64 * 1024 * 1024

/**
 * What touching a fresh page of memory costs on this machine, in µs (median
 * of 3): one byte written per 4 KiB page of a new 64 MiB buffer. Bare metal
 * takes well under 1 µs; a virtual machine whose host backs guest memory
 * lazily can take tens, and then the pages a burst touches for the first
 * time (the ring's first lap, the worker's heap growth) cost more than the
 * records' own processing.
 */
export function freshPageCostUs(): number {
  const samples: number[] = []
  for (let round = 0; round < 3; round++) {
    const bytes = new Uint8Array(new ArrayBuffer(PROBE_BYTES))
    const started = process.hrtime.bigint()
    for (let at = 0; at < bytes.length; at += PAGE_BYTES) bytes[at] = 1
    samples.push(Number(process.hrtime.bigint() - started) / 1000 / (PROBE_BYTES / PAGE_BYTES))
  }
  return median(samples)
}
