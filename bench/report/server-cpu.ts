import { readFileSync, readdirSync } from 'node:fs'

const TICKS_PER_SECOND = 100

interface ProcStat {
  ppid: number
  own: number
  reaped: number
}

function readStat(pid: string): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name, which may hold spaces: state ppid ... utime(14) stime(15) cutime(16) cstime(17).
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
    const n = (i: number): number => Number(fields[i - 3])
    return { ppid: n(4), own: n(14) + n(15), reaped: n(16) + n(17) }
  } catch {
    return undefined
  }
}

/**
 * CPU ms used so far by the Postgres server listening on `port` (Linux only):
 * the postmaster, its live backends, and the backends it already reaped
 * (counted in its cutime/cstime). Differences of two readings tell how much
 * CPU the server spent on a run; other servers on the machine are left out.
 */
export function serverCpuMs(port: number): number | undefined {
  let pids: string[]
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name))
  } catch {
    return undefined
  }
  const postmaster = pids.find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(` -p ${port} `)
    } catch {
      return false
    }
  })
  const root = postmaster === undefined ? undefined : readStat(postmaster)
  if (postmaster === undefined || root === undefined) return undefined
  let ticks = root.own + root.reaped
  for (const pid of pids) {
    const stat = readStat(pid)
    if (stat?.ppid === Number(postmaster)) ticks += stat.own
  }
  return (ticks * 1000) / TICKS_PER_SECOND
}
