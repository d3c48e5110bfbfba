/** What the parent (run.ts) asks one child process (app.ts) to do, and what the child reports back. */
export const SYSTEMS = [
  'pino-noop',
  'pino-sync',
  'pino-file',
  'create-sluice',
  'create-sluice-big',
  'pino-sluice',
  'pino-sluice-sync',
  'pino-sluice-big',
  'pino-sluice-sync-big',
  'pino-postgres',
  'raw-copy',
  'copy-5000',
] as const
export type SystemName = (typeof SYSTEMS)[number]

export const SCENARIOS = ['burst', 'sustained', 'slow-db', 'startup-exit', 'startup-natural'] as const
export type ScenarioName = (typeof SCENARIOS)[number]

/** Startup scenarios: lines logged before the worker has connected, then the app leaves; only pino-sluice's two entry points. */
const STARTUP_SYSTEMS: readonly SystemName[] = ['create-sluice', 'pino-sluice']

export function isStartup(scenario: ScenarioName): boolean {
  return scenario === 'startup-exit' || scenario === 'startup-natural'
}

/** Whether `system` takes part in `scenario`. */
export function runsIn(scenario: ScenarioName, system: SystemName): boolean {
  return !isStartup(scenario) || STARTUP_SYSTEMS.includes(system)
}

export const SYSTEM_LABELS: Record<SystemName, string> = {
  'pino-noop': 'pino → no-op destination (floor)',
  'create-sluice': 'createSluice → Postgres',
  'create-sluice-big': 'createSluice, ring 256 MiB, channel 2M / 1 GiB',
  'pino-sync': 'pino sync → /dev/null',
  'pino-file': 'pino/file transport → /dev/null',
  'pino-sluice': 'pino.transport(pino-sluice) → Postgres',
  'pino-sluice-sync': 'pino-sluice, transport sync: true',
  'pino-sluice-big': 'pino-sluice, channel 2M records / 1 GiB',
  'pino-sluice-sync-big': 'pino-sluice, sync: true, channel 2M / 1 GiB',
  'pino-postgres': 'pino-postgres (stdin) → Postgres',
  'raw-copy': 'raw postgres.js COPY, one tx',
  'copy-5000': 'COPY, 5000-row txs, unindexed (ceiling)',
}

/** Systems that write nowhere (their floor is the logger itself). */
const NO_DATABASE: readonly SystemName[] = ['pino-noop', 'pino-sync', 'pino-file']
/** Systems without a logger: rows are encoded straight into COPY. */
const NO_LOGGER: readonly SystemName[] = ['raw-copy', 'copy-5000']

export function usesDatabase(system: SystemName): boolean {
  return !NO_DATABASE.includes(system)
}

export function usesLogger(system: SystemName): boolean {
  return !NO_LOGGER.includes(system)
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
  /** CPU ms of the whole process (app thread + worker) from the first call until done. */
  cpuMs?: number
  /** CPU ms of the main (app) thread alone over the same span; the rest is the worker's and helper threads'. */
  mainThreadCpuMs?: number
  /** Page faults of the main thread over the same span (Linux only). */
  mainThreadMinorFaults?: number
  /** pino-sluice's own counters after close. */
  counters?: Record<string, number>
}

/** Wall clock in ms with sub-ms precision, comparable between processes. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now()
}
