import { readFileSync } from 'node:fs'
import { threadMinorFaults } from '../../sinks/shared/worker-profile.js'

/**
 * CPU of this process's main thread (the app thread) in ms, from
 * /proc/self/task/<pid>/schedstat (Linux only; undefined elsewhere). The
 * whole process's CPU (process.cpuUsage) minus this is what the transport's
 * worker and V8's and libuv's helper threads cost.
 */
export function mainThreadCpuMs(): number | undefined {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6
  } catch {
    return undefined
  }
}

/** CPU ms the whole process (every thread) has used so far. */
export function processCpuMs(): number {
  const cpu = process.cpuUsage()
  return (cpu.user + cpu.system) / 1000
}

/** What a run spent, split by thread, from two readings. */
export interface CpuSplit {
  /** Every thread of the process. */
  cpuMs: number
  /** The main thread alone; undefined off Linux. */
  mainThreadCpuMs: number | undefined
  /** Page faults of the main thread (it calls measureCpu); undefined off Linux. */
  mainThreadMinorFaults: number | undefined
}

/** Starts the clock; call the result when the run is done. */
export function measureCpu(): () => CpuSplit {
  const processBefore = processCpuMs()
  const mainBefore = mainThreadCpuMs()
  const faultsBefore = threadMinorFaults()
  return () => {
    const mainAfter = mainThreadCpuMs()
    const faultsAfter = threadMinorFaults()
    return {
      cpuMs: processCpuMs() - processBefore,
      mainThreadCpuMs: mainBefore === undefined || mainAfter === undefined ? undefined : mainAfter - mainBefore,
      mainThreadMinorFaults: faultsBefore === undefined || faultsAfter === undefined ? undefined : faultsAfter - faultsBefore,
    }
  }
}
