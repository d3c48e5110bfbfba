import { OptionsError } from '../../sinks/shared/option-reader.js'

/**
 * The AWS SDK clients are optional peer dependencies: an app that uses only
 * Postgres does not install them. A sink that needs one checks at start, so a
 * missing package is one clear message rather than a failure at the first batch.
 */
export async function requireOptionalPackage(name: string, option: string): Promise<void> {
  try {
    await import(name)
  } catch (error) {
    const e = error as { code?: string; message?: string }
    const missing = (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') && (e.message ?? '').includes(name)
    if (!missing) throw error
    throw new OptionsError(`options.${option} needs the package ${name}, which is not installed (it is an optional peer dependency of pino-sluice). Install it in the app: npm install ${name}`)
  }
}
