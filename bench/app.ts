/**
 * One benchmark run in a process of its own, so its RSS and CPU are its own:
 * `node dist/bench/app.js '<AppSpec JSON>'`. Writes an AppResult JSON to spec.resultFile.
 */
import { writeFileSync } from 'node:fs'
import { isStartup, type AppResult, type AppSpec, type SystemName } from './bench-spec.js'
import { runCopyBatches } from './systems/copy-batches.js'
import { runCreateSluice } from './systems/create-sluice.js'
import { runPinoFile } from './systems/pino-file.js'
import { runPinoNoop } from './systems/pino-noop.js'
import { runPinoPostgresApp } from './systems/pino-postgres.js'
import { BIG_CHANNEL, BIG_RING, runPinoSluice } from './systems/pino-sluice.js'
import { runPinoSync } from './systems/pino-sync.js'
import { runStartupBurst } from './systems/startup-burst.js'
import { runRawCopy } from './systems/raw-copy.js'

const RUNNERS: Record<SystemName, (spec: AppSpec) => Promise<AppResult>> = {
  'pino-noop': runPinoNoop,
  'pino-sync': runPinoSync,
  'create-sluice': runCreateSluice,
  'create-sluice-big': (spec) => runCreateSluice({ ...spec, sluiceOptions: { ...spec.sluiceOptions, channel: BIG_CHANNEL, ring: BIG_RING } }),
  'pino-file': runPinoFile,
  'pino-sluice': (spec) => runPinoSluice(spec),
  'pino-sluice-sync': (spec) => runPinoSluice(spec, true),
  'pino-sluice-big': (spec) => runPinoSluice({ ...spec, sluiceOptions: { ...spec.sluiceOptions, channel: BIG_CHANNEL } }),
  'pino-sluice-sync-big': (spec) => runPinoSluice({ ...spec, sluiceOptions: { ...spec.sluiceOptions, channel: BIG_CHANNEL } }, true),
  'pino-postgres': runPinoPostgresApp,
  'raw-copy': runRawCopy,
  'copy-5000': runCopyBatches,
}

const spec = JSON.parse(process.argv[2] ?? '{}') as AppSpec
// A startup burst ends the process its own way and writes its result on 'exit'.
if (isStartup(spec.scenario)) runStartupBurst(spec)
else RUNNERS[spec.system](spec).then(
  (result) => {
    writeFileSync(spec.resultFile, JSON.stringify(result))
  },
  (error: unknown) => {
    process.stderr.write(`bench app ${spec.system} failed: ${error instanceof Error ? error.stack : String(error)}\n`)
    process.exitCode = 1
  },
)
