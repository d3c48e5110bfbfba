/** What service.ts asks one service-app.ts process to run, and what that process reports back. */
export const SERVICE_SYSTEMS = ['pino-noop', 'pino-file', 'create-sluice', 'pino-sluice'] as const
export type ServiceSystem = (typeof SERVICE_SYSTEMS)[number]

/** How the tables and the goals name each system. */
export const SERVICE_LABELS: Readonly<Record<ServiceSystem, string>> = {
  'pino-noop': 'pino → no-op destination',
  'pino-file': 'pino.transport pino/file → /dev/null',
  'create-sluice': 'createSluice → Postgres',
  'pino-sluice': 'pino.transport pino-sluice → Postgres',
}

export interface ServiceAppSpec {
  system: ServiceSystem
  databaseUrl: string
  table: string
  /** The pino-sluice build to load (this one, or an older one to compare with). */
  sluiceModule: string
  /** createSluice only: lines logged one every `latencyGapMs` after the load, timed from write to the worker's read. */
  latencyLines: number
  latencyGapMs: number
}

export type ServiceFromParent = { type: 'start' } | { type: 'stop' }

export interface ServiceAppResult {
  /** Requests served in the measured window. */
  requests: number
  linesInWindow: number
  /** Lines logged over the whole life of the process (warm-up included): what the table must hold. */
  logged: number
  /** ns on CPU in the window: the main thread, the transport's threads, the whole process. */
  appCpuNs: number
  workerCpuNs: number
  processCpuNs: number
  /** Voluntary context switches of the transport's worker thread in the window: how often it slept and was woken. */
  workerSleeps: number | null
  /** createSluice: doorbells the app rang, and the worker's own count of wakes (null for a build without it). */
  doorbells: number | null
  ownWorkerWakes: number | null
  /** createSluice: write-to-read times at a low rate, sorted. */
  deliveryLatencyMs: number[]
  counters: Record<string, number> | null
}

export type ServiceToParent = { type: 'listening'; port: number } | { type: 'result'; result: ServiceAppResult }
