import { describe, expect, it } from 'vitest'
import { threadMinorFaults } from '../../sinks/shared/worker-profile.js'

describe('threadMinorFaults', () => {
  it.runIf(process.platform === 'linux')('counts the pages this thread touches for the first time', () => {
    const before = threadMinorFaults()
    const bytes = new Uint8Array(new ArrayBuffer(8 * 1024 * 1024))
    for (let at = 0; at < bytes.length; at += 4096) bytes[at] = 1
    const after = threadMinorFaults()
    expect(before).toBeTypeOf('number')
    // 2048 fresh pages; some may already be mapped by the allocator, none counted twice.
    expect((after as number) - (before as number)).toBeGreaterThan(1000)
  })

  it.runIf(process.platform !== 'linux')('is undefined where /proc/thread-self is missing', () => {
    expect(threadMinorFaults()).toBeUndefined()
  })
})
