/**
 * App-thread half of sink loading: like pino.transport() does for its own
 * `target`, resolve each `sinks[].target` from the file that called us, so a
 * package installed in the app (or a path relative to the caller) is found
 * even when the worker would look elsewhere. Runs once, at createSluice().
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { OptionsError } from '../../sinks/shared/option-reader.js'
import { resolveTarget, targetNotFound, targetRefused } from '../pipeline/load-sink.js'
import { nameFromTarget } from './sinks-options.js'

/** Files on the call stack outside pino-sluice itself, nearest first (as pino's lib/caller.js finds them). */
export function callerFiles(): string[] {
  const original = Error.prepareStackTrace
  Error.prepareStackTrace = (_, stack) => stack
  const stack = new Error().stack as unknown as NodeJS.CallSite[] | undefined
  Error.prepareStackTrace = original
  // pino-sluice's own code (src/), not the package root: examples and tests beside it are callers.
  const own = fileURLToPath(new URL('../', import.meta.url))
  const files: string[] = []
  for (const site of Array.isArray(stack) ? stack : []) {
    let file = site.getFileName() ?? undefined
    if (!file || file.startsWith('node:')) continue
    if (file.startsWith('file://')) file = fileURLToPath(file)
    if (!file.startsWith(own) && !files.includes(file)) files.push(file)
  }
  return files
}

/**
 * The options with every sink target replaced by its file:// URL, resolved
 * from `bases`. A target that resolves from nowhere throws at once, on the
 * app thread; malformed entries are left for the options check to report.
 */
export function withResolvedSinkTargets<T extends { sinks?: readonly unknown[] }>(options: T, bases: readonly string[]): T {
  if (!Array.isArray(options.sinks) || bases.length === 0) return options
  const sinks = options.sinks.map((entry: unknown, index: number) => {
    if (entry === null || typeof entry !== 'object') return entry
    const target = (entry as { target?: unknown }).target
    if (typeof target !== 'string') return entry
    const refused = targetRefused(index, target)
    if (refused) throw refused
    const resolved = resolveTarget(target, bases)
    // The default name comes from what the user wrote, not from the file it resolved to.
    const name = (entry as { name?: unknown }).name ?? nameFromTarget(target)
    if (!resolved) throw targetNotFound(index, target, bases)
    // An absolute path or file:// URL resolves without looking: look, so a missing file throws here too.
    if (resolved.startsWith('file:') && !existsSync(fileURLToPath(resolved))) {
      throw new OptionsError(`options.sinks[${index}] (target ${JSON.stringify(target)}): there is no file at ${fileURLToPath(resolved)}. Check the path.`)
    }
    return { ...entry, name, target: resolved, targetAsWritten: target }
  })
  return { ...options, sinks }
}
