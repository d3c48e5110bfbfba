/**
 * Loads a custom sink in the worker: resolves `target` the way pino resolves
 * its own `target`, imports it, finds the factory, calls it and checks what
 * it returned. Every mistake throws an OptionsError at start that names the
 * target and the fix; nothing here runs per batch.
 */
import { createRequire } from 'node:module'
import { isAbsolute, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Sink, SinkFactory, SinkSetup } from '../../sinks/sink.js'
import { OptionsError } from '../options/option-reader.js'
import type { SinkEntry } from '../options/sinks-options.js'
import { runAsSink } from './sink-context.js'

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

/** A file:// URL for `target`, or undefined when no base finds it. */
export function resolveTarget(target: string, bases: readonly string[]): string | undefined {
  if (target.startsWith('file://')) return target
  if (isAbsolute(target)) return pathToFileURL(target).href
  for (const base of bases) {
    try {
      return pathToFileURL(createRequire(base).resolve(target)).href
    } catch {
      // not from here; try the next base
    }
  }
  if (target.startsWith('.')) return undefined
  try {
    // ESM-only packages (no "require" condition), and pino-sluice's own sinks (`pino-sluice/file`).
    return import.meta.resolve(target)
  } catch {
    return undefined
  }
}

/** The error for a target no base resolves: which target, where we looked, and the fix. */
export function targetNotFound(index: number, target: string, bases: readonly string[]): OptionsError {
  const fix = target.startsWith('.')
    ? 'Check the path: a relative target resolves from the file that called createSluice(), or with pino.transport() from the working directory; an absolute path or a file:// URL is unambiguous.'
    : `Install the package in the app (npm install ${target}), or give an absolute path or a file:// URL.`
  const where = target.startsWith('.') ? bases.join(' or ') : `${bases.join(' or ')} or where pino-sluice is installed`
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
  let timer: NodeJS.Timeout | undefined
  let sink: unknown
  try {
    // In the sink's own async context: what the factory leaves running is named when it fails (sink-context.ts).
    const made = Promise.resolve().then(() => runAsSink(entry.name, () => factory(entry.options as Record<string, unknown>, { ...setup, name: entry.name, role: entry.role, optionsPath: `${where}.options` })))
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`it did not return a sink within timeoutMs (${entry.timeoutMs} ms)`)), entry.timeoutMs)
    })
    sink = await Promise.race([made, late])
  } catch (error) {
    if (error instanceof OptionsError) throw new OptionsError(`${label}: ${error.message}`)
    throw new OptionsError(`${label}: its factory failed: ${errorText(error)}. Check ${where}.options and the factory.`)
  } finally {
    clearTimeout(timer)
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
