/**
 * Loads a custom sink in the worker: resolves `target` the way pino resolves
 * its own `target`, imports it, finds the factory, calls it and checks what
 * it returned. Every mistake throws an OptionsError at start that names the
 * target and the fix; nothing here runs per batch.
 */
import { createRequire, isBuiltin } from 'node:module'
import { isAbsolute, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Sink, SinkFactory, SinkSetup } from '../../sinks/sink.js'
import { OptionsError } from '../../sinks/shared/option-reader.js'
import type { SinkEntry } from '../options/sinks-options.js'
import { runAsSink } from './sink-context.js'
import { Deadline } from '../../sinks/shared/deadline.js'

/**
 * Where a package name or relative path is looked up from in the worker.
 * pino resolves its `target` from the file that called pino.transport(); a
 * worker cannot see that file (its process.argv[1] is the worker's own
 * script), so it uses the working directory, and then (resolveTarget) the
 * place pino-sluice itself was installed, i.e. the app's node_modules.
 * createSluice() resolves on the app thread from its caller, exactly like
 * pino, before the options reach the worker.
 */
export function defaultResolveBases(): string[] {
  return [process.cwd() + sep]
}

/**
 * pino-sluice's own sinks, by the name users give them: always this
 * package's file, never a `node_modules/pino-sluice` found from the working
 * directory (a planted one would run its code in the worker).
 */
const OWN_TARGETS: ReadonlyMap<string, string> = new Map([['pino-sluice/file', new URL('../../sinks/file/file-sink.js', import.meta.url).href]])

/** `./x`, `../x`, `.`, `..` (either slash): the only targets resolved as paths from a base. */
export function isExplicitRelative(target: string): boolean {
  return /^\.\.?([\\/]|$)/.test(target)
}

/**
 * Why a target is refused whatever the bases hold, or undefined. A Node
 * built-in (`events`, `node:fs`) is no sink, and resolving it as a path
 * found a stray `<cwd>/events`; another URL scheme (`data:`, `https:`) would
 * load code that is in no file at all.
 */
export function refusedTarget(target: string): string | undefined {
  if (OWN_TARGETS.has(target)) return undefined
  if (target === 'pino-sluice' || target.startsWith('pino-sluice/')) {
    return `is not one of pino-sluice's sinks. The built-in sink targets are ${[...OWN_TARGETS.keys()].join(', ')}; the other sinks have options of their own (postgres, s3, cloudwatch, file).`
  }
  if (isBuiltin(target)) return 'names a Node built-in module, not a sink. Give a package name, a path starting with ./ or ../, an absolute path or a file:// URL.'
  if (!isAbsolute(target) && /^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('file:')) {
    return 'is a URL of a scheme other than file:. Give a package name, a path starting with ./ or ../, an absolute path or a file:// URL.'
  }
  return undefined
}

/**
 * A file:// URL for `target`, or undefined when no base finds it. Callers
 * check refusedTarget first. Which targets resolve how:
 * - `pino-sluice/file`: this package's own file, always;
 * - a `file:` URL or an absolute path: that file;
 * - `./…` or `../…`: a path from each base (the caller's file, or the working directory);
 * - anything else is a package name, looked up only in `node_modules` folders
 *   from each base and then beside pino-sluice: never a file named like it.
 */
export function resolveTarget(target: string, bases: readonly string[]): string | undefined {
  const own = OWN_TARGETS.get(target)
  if (own !== undefined) return own
  if (target.startsWith('file:')) return target
  if (isAbsolute(target)) return pathToFileURL(target).href
  for (const base of bases) {
    try {
      // For a bare name require's lookup visits node_modules folders only; built-ins were refused before.
      return pathToFileURL(createRequire(base).resolve(target)).href
    } catch {
      // not from here; try the next base
    }
  }
  if (isExplicitRelative(target)) return undefined
  try {
    // ESM-only packages (no "require" condition) installed beside pino-sluice.
    const resolved = import.meta.resolve(target)
    return resolved.startsWith('file:') ? resolved : undefined
  } catch {
    return undefined
  }
}

/** The error for a target refused by refusedTarget, or undefined. */
export function targetRefused(index: number, target: string): OptionsError | undefined {
  const why = refusedTarget(target)
  return why === undefined ? undefined : new OptionsError(`options.sinks[${index}] (target ${JSON.stringify(target)}) ${why}`)
}

/** The error for a target no base resolves: which target, where we looked, and the fix. */
export function targetNotFound(index: number, target: string, bases: readonly string[]): OptionsError {
  const relative = isExplicitRelative(target)
  const fix = relative
    ? 'Check the path: a relative target resolves from the file that called createSluice(), or with pino.transport() from the working directory; an absolute path or a file:// URL is unambiguous.'
    : `Install the package in the app (npm install ${target}), or give a path starting with ./ or ../, an absolute path or a file:// URL.`
  const where = relative ? bases.join(' or ') : `the node_modules folders from ${bases.join(' or ')} or where pino-sluice is installed`
  return new OptionsError(`options.sinks[${index}] (target ${JSON.stringify(target)}): cannot find the module from ${where}. ${fix}`)
}

function findFactory(module: Record<string, unknown>): SinkFactory | undefined {
  const fallback = module.default as Record<string, unknown> | undefined
  const candidates = [module.createSink, module.default, fallback?.createSink, fallback?.default]
  return candidates.find((c): c is SinkFactory => typeof c === 'function')
}

const OPTIONAL_METHODS = ['start', 'flush', 'close', 'stored'] as const

function errorText(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error)
}

/** Imports `entry.target` and builds its Sink; throws OptionsError naming the target and the fix. */
export async function loadSink(entry: SinkEntry, setup: Omit<SinkSetup, 'name' | 'role' | 'optionsPath'>, bases: readonly string[] = defaultResolveBases()): Promise<Sink> {
  const where = `options.sinks[${entry.index}]`
  const label = `${where} (target ${JSON.stringify(entry.asWritten)})`
  const refused = targetRefused(entry.index, entry.target)
  if (refused) throw refused
  const url = resolveTarget(entry.target, bases)
  if (!url) throw targetNotFound(entry.index, entry.target, bases)
  let module: Record<string, unknown>
  try {
    module = (await import(url)) as Record<string, unknown>
  } catch (error) {
    const code = (error as { code?: string }).code
    const fix =
      code === 'ERR_MODULE_NOT_FOUND'
        ? 'Check that the file exists (and its own imports are installed).'
        : /\.(c|m)?ts$/.test(url)
          ? 'Node runs JavaScript: compile the sink to .js (tsc) and give that file as target.'
          : 'Fix the error in the module.'
    throw new OptionsError(`${label}: importing ${url} failed: ${errorText(error)}. ${fix}`)
  }
  const factory = findFactory(module)
  if (!factory) {
    throw new OptionsError(
      `${label}: ${url} exports no sink factory. Export one as default or as createSink: export default function createSink(options, setup) { return { write(records, context) { … } } }.`,
    )
  }
  let sink: unknown
  const deadline = Deadline.in(entry.timeoutMs)
  try {
    // In the sink's own async context: what the factory leaves running is named when it fails (sink-context.ts).
    const made = Promise.resolve().then(() => runAsSink(entry.name, () => factory(entry.options as Record<string, unknown>, { ...setup, name: entry.name, role: entry.role, optionsPath: `${where}.options` })))
    const raced = await deadline.race(made)
    if (!raced.settled) throw new Error(`it did not return a sink within timeoutMs (${entry.timeoutMs} ms)`)
    sink = raced.value
  } catch (error) {
    if (error instanceof OptionsError) throw new OptionsError(`${label}: ${error.message}`)
    throw new OptionsError(`${label}: its factory failed: ${errorText(error)}. Check ${where}.options and the factory.`)
  } finally {
    deadline.dispose()
  }
  if (sink === null || typeof sink !== 'object' || typeof (sink as Sink).write !== 'function') {
    throw new OptionsError(`${label}: its factory returned ${sink === null ? 'null' : typeof sink}, not a sink. Return an object with a write(records, context) method.`)
  }
  for (const method of OPTIONAL_METHODS) {
    const value = (sink as Record<string, unknown>)[method]
    if (value !== undefined && typeof value !== 'function') throw new OptionsError(`${label}: the sink's ${method} is ${typeof value}, not a function. Make it a method or leave it out.`)
  }
  return sink as Sink
}
