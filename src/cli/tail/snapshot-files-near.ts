import { readdir, readFile, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { parseSnapshot } from '../../stats/stats-snapshot.js'
import { terminalSafe } from '../terminal-safe.js'

const MAX_ENTRIES = 200
const MAX_BYTES = 64 * 1024
const MAX_LISTED = 5

/**
 * For a stats file that does not exist: the pino-sluice stats files in the
 * same directory (a typo in the name, another app), as a sentence to append
 * to the waiting line, or '' when there are none. Looks at a bounded number
 * of small *.json files, so a huge directory stays cheap.
 */
export async function snapshotFilesNear(path: string): Promise<string> {
  const dir = dirname(path)
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return ` (its directory ${terminalSafe(dir)} does not exist)`
  }
  const found: string[] = []
  for (const name of names.slice(0, MAX_ENTRIES)) {
    if (!name.endsWith('.json') || name === basename(path)) continue
    const file = join(dir, name)
    try {
      if ((await stat(file)).size > MAX_BYTES) continue
      if (parseSnapshot(await readFile(file, 'utf8')).ok) found.push(file)
    } catch {
      // unreadable or gone: not a candidate
    }
    if (found.length >= MAX_LISTED) break
  }
  // Anyone who can write to the directory names the files: shown escaped.
  return found.length === 0 ? '' : `; stats files in ${terminalSafe(dir)}: ${found.map(terminalSafe).join(', ')}`
}
