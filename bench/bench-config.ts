import { parseArgs } from 'node:util'
import { SCENARIOS, SYSTEMS, type ScenarioName, type SystemName } from './bench-spec.js'

export interface BenchConfig {
  quick: boolean
  /** Records of the tight-loop burst. */
  records: number
  repeats: number
  /** Sustained scenario: records per second for `seconds`. */
  rate: number
  seconds: number
  /** Burst into the slow database. */
  slowRecords: number
  slowDelayMs: number
  scenarios: ScenarioName[]
  systems: SystemName[]
  sluiceOptions: Record<string, unknown>
  micro: boolean
  /** The service scenario (bench/service.ts): Fastify + autocannon, `seconds` per run. */
  service: boolean
  /** The disk spool's scenarios beside their baselines (bench/spool-section.ts). */
  spool: boolean
  /** Lines logged at startup, before the worker has connected, in the startup scenarios. */
  startupRecords: number
  /** Rates tried, in order, for the highest sustained rate with 0 drops (empty: skip), each for `stepSeconds`. */
  maxRateSteps: number[]
  stepSeconds: number
  /** Longest one run may take before it is killed and reported as failed. */
  runTimeoutMs: number
}

/** The parts of one run, in the order they run; `--sections` picks some. */
export const SECTIONS = ['scenarios', 'max-rate', 'micro', 'service', 'spool'] as const
export type SectionName = (typeof SECTIONS)[number]

export const BENCH_USAGE = `Usage: npm run bench -- [--quick] [--records n] [--repeats n] [--rate n] [--seconds n]
       [--slow-records n] [--slow-delay-ms n] [--startup-records n]
       [--scenarios ${SCENARIOS.join(',')}]
       [--systems ${SYSTEMS.join(',')}]
       [--max-rate-steps n,n,...|none] [--step-seconds n] [--sluice '<json options>']
       [--sections ${SECTIONS.join(',')}] [--no-micro] [--no-service] [--no-spool]

Defaults: 1,000,000-record burst, 50,000 rec/s for 10 s, 200,000-record burst into a database
that sleeps 50 ms per statement, 100,000 lines at startup then exit, 3 repeats (medians reported);
then the highest sustained rate with 0 drops (createSluice, defaults), stepping 50k..200k rec/s
for 5 s each; then the service scenario (Fastify, one line per request, autocannon -c 50 for
--seconds per run, at least 5 repeats; alone: node dist/bench/service.js --help); then the spool section (300,000- and
1,000,000-record bursts with the spool off and on, the latter in the first round only; 200,000 records
at 50,000/s off and on; a 200,000-record replay vs the COPY ceiling; the spill of 1M lines vs a plain
write). --quick: 100,000 records, 1 repeat, 3 s sustained, 50,000 into the slow database,
2 s steps; spool: 100,000- and 300,000-record bursts, 50,000 steady and replayed, 200,000 spilled.
--sections runs only the sections named (--sections spool: the spool section alone).
Every flag also reads BENCH_<NAME> from the environment (BENCH_RECORDS=200000).
`

function list<T extends string>(text: string | undefined, allowed: readonly T[], name: string): T[] {
  if (text === undefined) return [...allowed]
  const items = text.split(',').map((s) => s.trim()).filter(Boolean)
  for (const item of items) if (!(allowed as readonly string[]).includes(item)) throw new Error(`--${name}: unknown "${item}"; choose from ${allowed.join(', ')}`)
  return items as T[]
}

function int(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback
  const value = Number(text.replaceAll('_', ''))
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(text)}`)
  return value
}

const DEFAULT_RATE_STEPS = [50_000, 75_000, 100_000, 125_000, 150_000, 175_000, 200_000]

function rateSteps(text: string | undefined): number[] {
  if (text === undefined) return DEFAULT_RATE_STEPS
  if (text === 'none') return []
  return text.split(',').map((step) => int('max-rate-steps', step.trim(), 0))
}

export function readBenchConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const names = ['records', 'repeats', 'rate', 'seconds', 'slow-records', 'slow-delay-ms', 'startup-records', 'max-rate-steps', 'step-seconds', 'scenarios', 'systems', 'sluice', 'sections'] as const
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      'no-micro': { type: 'boolean', default: false },
      'no-service': { type: 'boolean', default: false },
      'no-spool': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
      ...Object.fromEntries(names.map((n) => [n, { type: 'string' as const }])),
    },
    strict: true,
  })
  if (values.help) {
    process.stdout.write(BENCH_USAGE)
    process.exit(0)
  }
  const read = (name: (typeof names)[number]): string | undefined =>
    (values as unknown as Record<string, string | undefined>)[name] ?? env[`BENCH_${name.toUpperCase().replaceAll('-', '_')}`]
  const quick = values.quick === true || env.BENCH_QUICK === '1'
  const sections = list(read('sections'), SECTIONS, 'sections')
  return {
    quick,
    records: int('records', read('records'), quick ? 100_000 : 1_000_000),
    repeats: int('repeats', read('repeats'), quick ? 1 : 3),
    rate: int('rate', read('rate'), 50_000),
    seconds: int('seconds', read('seconds'), quick ? 3 : 10),
    slowRecords: int('slow-records', read('slow-records'), quick ? 50_000 : 200_000),
    slowDelayMs: int('slow-delay-ms', read('slow-delay-ms'), 50),
    scenarios: sections.includes('scenarios') ? list(read('scenarios'), SCENARIOS, 'scenarios') : [],
    systems: list(read('systems'), SYSTEMS, 'systems'),
    sluiceOptions: JSON.parse(read('sluice') ?? '{}') as Record<string, unknown>,
    micro: sections.includes('micro') && values['no-micro'] !== true,
    service: sections.includes('service') && values['no-service'] !== true,
    spool: sections.includes('spool') && values['no-spool'] !== true,
    startupRecords: int('startup-records', read('startup-records'), 100_000),
    maxRateSteps: sections.includes('max-rate') ? rateSteps(read('max-rate-steps')) : [],
    stepSeconds: int('step-seconds', read('step-seconds'), quick ? 2 : 5),
    runTimeoutMs: 240_000,
  }
}
