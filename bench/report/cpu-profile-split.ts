import { readFileSync } from 'node:fs'

interface CallFrame {
  functionName: string
  url: string
}

interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame; children?: number[] }[]
  samples: number[]
  timeDeltas: number[]
}

/** A named share of a thread's samples: a sample counts for it when any frame of its stack matches. */
export interface Part {
  name: string
  matches(frame: CallFrame): boolean
}

const inFile = (file: string, fn?: string) => (frame: CallFrame) => frame.url.endsWith(file) && (fn === undefined || frame.functionName === fn)
const named = (name: string) => (frame: CallFrame) => frame.functionName === name

/** Where the app thread of a createSluice service spends its samples (issue 25: the doorbell). */
export const APP_PARTS: readonly Part[] = [
  { name: 'doorbell (Doorbell, RingWriter.wake)', matches: (f) => inFile('ring/doorbell.js')(f) || inFile('ring/ring-writer.js', 'wake')(f) },
  { name: 'ring write (RingWriter.write)', matches: inFile('ring/ring-writer.js', 'write') },
  { name: 'destination write, all of it', matches: inFile('transport/sluice-destination.js', 'write') },
  { name: 'GC', matches: named('(garbage collector)') },
]

/** Where the worker spends its samples: the sleep/wake cycle against the work. */
export const WORKER_PARTS: readonly Part[] = [
  { name: 'sleep/wake (RingReader.waitForLines)', matches: inFile('ring/ring-reader.js', 'waitForLines') },
  { name: 'ring read (RingPump.moveWhatFits)', matches: inFile('transport/ring-pump.js', 'moveWhatFits') },
  { name: 'native, outside JS ((program))', matches: named('(program)') },
  { name: 'GC', matches: named('(garbage collector)') },
]

/**
 * ms on CPU the profile sampled (idle left out) and each part's share of it.
 * Parts may overlap (a sample counts for every part on its stack), unless
 * `exclusive`: then a sample counts once, for the part of its innermost
 * matching frame, so the shares add up and what none takes is truly the rest
 * (a batch parsed inside the call that queued its last line counts as parse,
 * not as both).
 */
export function profileSplit(file: string, parts: readonly Part[], exclusive = false): { busyMs: number; shares: Record<string, number> } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const parent = new Map<number, number>()
  const frames = new Map<number, CallFrame>()
  for (const node of profile.nodes) {
    frames.set(node.id, node.callFrame)
    for (const child of node.children ?? []) parent.set(child, node.id)
  }
  // Which parts each node's stack belongs to, worked out once per node.
  const partsOf = new Map<number, boolean[]>()
  const belongs = (id: number): boolean[] => {
    const known = partsOf.get(id)
    if (known) return known
    const frame = frames.get(id) as CallFrame
    const up = parent.get(id)
    const above = up === undefined ? parts.map(() => false) : belongs(up)
    const own = exclusive ? parts.findIndex((part) => part.matches(frame)) : -1
    const mine = exclusive ? (own >= 0 ? parts.map((_, i) => i === own) : above) : parts.map((part, i) => (above[i] as boolean) || part.matches(frame))
    partsOf.set(id, mine)
    return mine
  }
  let busy = 0
  const totals = parts.map(() => 0)
  profile.samples.forEach((id, i) => {
    if (frames.get(id)?.functionName === '(idle)') return
    const dt = (profile.timeDeltas[i] ?? 0) / 1000
    busy += dt
    belongs(id).forEach((hit, p) => {
      if (hit) totals[p] = (totals[p] as number) + dt
    })
  })
  return { busyMs: busy, shares: Object.fromEntries(parts.map((part, i) => [part.name, busy === 0 ? 0 : (totals[i] as number) / busy])) }
}
