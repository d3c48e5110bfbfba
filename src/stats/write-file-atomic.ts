import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { open, rename, unlink } from 'node:fs/promises'

/**
 * O_EXCL: the temp file is always one this call created, never a file or a
 * link someone planted under the name (issue 27 item 4: a predictable name
 * followed as a symlink let anyone who can write the directory overwrite a
 * file of ours). O_NOFOLLOW says the same for links on systems that check it
 * first. Windows has no O_NOFOLLOW; O_EXCL alone refuses links there.
 */
const CREATE_EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0)

/** A name someone could have planted in advance only by guessing 64 random bits. */
export function randomTempName(path: string): string {
  return `${path}.${randomBytes(8).toString('hex')}.tmp`
}

/** Another random name after a collision: a planted file is skipped, never opened. */
const ATTEMPTS = 5

/**
 * Writes a temp file next to `path` and renames it over `path`. rename() is
 * atomic on POSIX, so a reader always sees a whole snapshot, never half of one,
 * and it replaces a link at `path` instead of writing through it.
 * `tempName` is for tests that need to know the name.
 */
export async function writeFileAtomic(path: string, text: string, tempName: (path: string) => string = randomTempName): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const temp = tempName(path)
    let file
    try {
      file = await open(temp, CREATE_EXCLUSIVE, 0o644)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      // EEXIST: the name is taken (by a link, say); ELOOP: O_NOFOLLOW met a link. Either way not ours: pick another.
      if ((code === 'EEXIST' || code === 'ELOOP') && attempt < ATTEMPTS) continue
      throw error
    }
    try {
      await file.writeFile(text)
      await file.close()
      await rename(temp, path)
      return
    } catch (error) {
      await file.close().catch(() => {})
      await unlink(temp).catch(() => {})
      throw error
    }
  }
}
