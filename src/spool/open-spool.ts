import { userInfo } from 'node:os'
import { OptionsError } from '../../sinks/shared/option-reader.js'
import type { SpoolOptions } from '../options/spool-options.js'
import { problemReporter } from '../../sinks/shared/problem-reporter.js'
import { Spool } from './spool.js'

/**
 * Opens the spool at worker start, or nothing when it is off. A directory
 * that cannot be created or written is a config mistake: it stops the
 * transport with the path and the fix, rather than losing records later.
 */
export function openSpool(options: SpoolOptions | undefined): Spool | undefined {
  if (!options) return undefined
  try {
    return Spool.open(options, problemReporter())
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException
    throw new OptionsError(
      `options.spool.dir ${JSON.stringify(options.dir)} cannot be used as the spool: ${code ?? message}. ` +
        `Create it (or its parent) and make it writable by the user this process runs as (${whoAmI()}), or set spool.dir to a writable directory on a local disk.`,
    )
  }
}

function whoAmI(): string {
  try {
    const { username, uid } = userInfo()
    return uid >= 0 ? `${username}, uid ${uid}` : username
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`
  }
}
