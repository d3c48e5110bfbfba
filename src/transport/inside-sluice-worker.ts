/**
 * Whether this thread is one of pino-sluice's own workers: the one
 * createSluice() starts (its workerData carries SLUICE_WORKER_MARK), or the
 * one pino.transport({ target: 'pino-sluice' }) starts through thread-stream
 * (its workerData names our module as the target). A preload the worker
 * flags missed, or a module a sink imports, could otherwise create a sluice
 * there, whose worker would do it again (issue 26).
 */
import { isAbsolute } from 'node:path'
import { pathToFileURL } from 'node:url'
import { isMainThread, workerData } from 'node:worker_threads'

export const SLUICE_WORKER_MARK = 'pino-sluice ring worker'

/** Our modules a thread-stream worker may be told to load: the package entry and `pino-sluice/worker`. */
const OUR_TARGETS = [new URL('../index.js', import.meta.url).href, new URL('./worker.js', import.meta.url).href]

function namesOurTarget(target: unknown): boolean {
  if (typeof target !== 'string') return false
  if (target.startsWith('file://')) return OUR_TARGETS.includes(target)
  return isAbsolute(target) && OUR_TARGETS.includes(pathToFileURL(target).href)
}

export function insideSluiceWorker(data: unknown = workerData, mainThread: boolean = isMainThread): boolean {
  if (mainThread || typeof data !== 'object' || data === null) return false
  const record = data as Record<string, unknown>
  if (record.mark === SLUICE_WORKER_MARK) return true
  // thread-stream: { filename, workerData: { targets?: [{ target }] } } (pino's worker.js fans out to targets).
  if (namesOurTarget(record.filename)) return true
  const inner = record.workerData as { targets?: unknown } | undefined
  return Array.isArray(inner?.targets) && inner.targets.some((t: unknown) => namesOurTarget((t as { target?: unknown } | null)?.target))
}

export class SluiceInsideWorkerError extends Error {
  constructor() {
    super(
      "pino-sluice: createSluice() was called inside pino-sluice's own worker, where it would start another worker that does the same, without end. " +
        'Something runs the app\'s setup in the worker: a preload the worker could not drop, or a module a custom sink imports. ' +
        'Create the sluice in the app only (not in a module a sink imports); see docs/troubleshooting.md#workers-without-end.',
    )
    this.name = 'SluiceInsideWorkerError'
  }
}
