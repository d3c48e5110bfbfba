/**
 * The stats file's temp file (issue 27 item 4): created exclusively under an
 * unpredictable name, so a symlink planted beside the stats file can never
 * redirect the write to another file.
 */
import { lstatSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { threadId } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { randomTempName, writeFileAtomic } from '../../src/stats/write-file-atomic.js'

function plantedDir(): { dir: string; precious: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-stats-links-'))
  const precious = join(dir, 'precious.txt')
  writeFileSync(precious, 'keep me\n')
  return { dir, precious }
}

describe('the stats file never writes through a planted symlink', () => {
  it('ignores a link planted at the name the temp file used to have (<file>.<pid>.<threadId>.tmp)', async () => {
    const { dir, precious } = plantedDir()
    const file = join(dir, 'app.json')
    symlinkSync(precious, `${file}.${process.pid}.${threadId}.tmp`)
    await writeFileAtomic(file, '{"n":1}\n')
    expect(readFileSync(precious, 'utf8')).toBe('keep me\n')
    expect(readFileSync(file, 'utf8')).toBe('{"n":1}\n')
    expect(lstatSync(file).isFile()).toBe(true)
  })

  it('refuses a link at the very temp name it picked and picks another (O_EXCL, O_NOFOLLOW)', async () => {
    const { dir, precious } = plantedDir()
    const file = join(dir, 'app.json')
    const guessed = `${file}.guessed.tmp`
    symlinkSync(precious, guessed)
    const names: string[] = []
    // The first name is the one the attacker guessed; the second is random.
    await writeFileAtomic(file, '{"n":2}\n', (path) => {
      const name = names.length === 0 ? guessed : randomTempName(path)
      names.push(name)
      return name
    })
    expect(names).toHaveLength(2)
    expect(readFileSync(precious, 'utf8')).toBe('keep me\n')
    expect(readFileSync(file, 'utf8')).toBe('{"n":2}\n')
    // The planted link is left alone; no temp file of ours is left behind.
    expect(lstatSync(guessed).isSymbolicLink()).toBe(true)
    expect(readdirSync(dir).sort()).toEqual(['app.json', 'app.json.guessed.tmp', 'precious.txt'])
  })

  it('gives up with the error after every name it tried was taken', async () => {
    const { dir, precious } = plantedDir()
    const file = join(dir, 'app.json')
    symlinkSync(precious, `${file}.always.tmp`)
    await expect(writeFileAtomic(file, 'x', (path) => `${path}.always.tmp`)).rejects.toMatchObject({ code: expect.stringMatching(/^(EEXIST|ELOOP)$/) })
    expect(readFileSync(precious, 'utf8')).toBe('keep me\n')
  })

  it('replaces a link planted at the stats file itself instead of writing through it', async () => {
    const { dir, precious } = plantedDir()
    const file = join(dir, 'app.json')
    symlinkSync(precious, file)
    await writeFileAtomic(file, '{"n":3}\n')
    expect(readFileSync(precious, 'utf8')).toBe('keep me\n')
    expect(lstatSync(file).isFile()).toBe(true)
  })

  it('uses unpredictable temp names', () => {
    const a = randomTempName('/x/app.json')
    expect(a).toMatch(/^\/x\/app\.json\.[0-9a-f]{16}\.tmp$/)
    expect(randomTempName('/x/app.json')).not.toBe(a)
  })
})
