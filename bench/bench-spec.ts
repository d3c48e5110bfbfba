/** What the parent (run.ts) asks one child process (app.ts) to do, and what the child reports back. */
export const SYSTEMS = ['pino-sync', 'pino-file', 'pino-sluice', 'pino-sluice-sync', 'pino-sluice-big', 'pino-postgres', 'raw-copy'] as const
export type SystemName = (typeof SYSTEMS)[number]

export const SCENARIOS = ['burst', 'sustained', 'slow-db'] as const
export type ScenarioName = (typeof SCENARIOS)[number]

export const SYSTEM_LABELS: Record<SystemName, string> = {
  'pino-sync': 'pino sync → /dev/null',
  'pino-file': 'pino/file transport → /dev/null',
  'pino-sluice': 'pino-sluice → Postgres',
  'pino-sluice-sync': 'pino-sluice, transport sync: true',
  'pino-sluice-big': 'pino-sluice, channel 2M records / 1 GiB',
  'pino-postgres': 'pino-postgres (stdin) → Postgres',
  'raw-copy': 'raw postgres.js COPY',
}

export interface Emission {
  records: number
  /** Records per second; undefined: a tight loop. */
  rate: number | undefined
}

export interface AppSpec {
  system: SystemName
  scenario: ScenarioName
  emission: Emission
  databaseUrl: string
  table: string
  resultFile: string
  /** Merged into the pino-sluice transport options (e.g. a bigger channel). */
  sluiceOptions: Record<string, unknown>
}

export interface AppResult {
  emitted: number
  /** Nanoseconds spent inside log calls on the main thread. */
  callNs: number
  /** Epoch ms (performance.timeOrigin based, comparable across processes). */
  firstCallMs: number
  lastCallMs: number
  /** When every record was committed / written out; undefined when only the parent can tell (pino-postgres). */
  doneMs: number | undefined
  rssBeforeBytes: number
  maxRssBytes: number
  /** pino-sluice's own counters after close. */
  counters?: Record<string, number>
}

/** Wall clock in ms with sub-ms precision, comparable between processes. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now()
}
