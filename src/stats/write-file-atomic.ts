import { rename, unlink, writeFile } from 'node:fs/promises'
import { threadId } from 'node:worker_threads'

/**
 * Writes a temp file next to `path` and renames it over `path`. rename() is
 * atomic on POSIX, so a reader always sees a whole snapshot, never half of one.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const temp = `${path}.${process.pid}.${threadId}.tmp`
  try {
    await writeFile(temp, text)
    await rename(temp, path)
  } catch (error) {
    await unlink(temp).catch(() => {})
    throw error
  }
}
