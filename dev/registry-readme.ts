/**
 * The README as the npm registry shows it.
 *
 * npmjs.com resolves a README's relative links against package.json's
 * `repository`, and this package names none (there is no public repository to
 * name yet), so `docs/configuration.md` would lead nowhere on the registry
 * page. `npm pack` / `npm publish` run this around packing:
 *
 *   prepack:  node dist/dev/registry-readme.js rewrite   README.md → links into this version on unpkg
 *   postpack: node dist/dev/registry-readme.js restore   README.md ← the original, from .tmp/
 *
 * A link to a file the package ships (docs/*.md, LICENSE) points at that file
 * inside the published version on unpkg.com; a link to a file it does not ship
 * (examples/, bench/) keeps its text and loses the link. Anchors and external
 * links stay as they are. With a `repository` in package.json npm resolves the
 * links itself, and this does nothing.
 */
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, posix } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Rewrites the relative links of `markdown` (outside code) for the registry. */
export function registryReadme(markdown: string, packageName: string, version: string, shipped: ReadonlySet<string>): string {
  let fence: string | null = null
  return markdown
    .split('\n')
    .map((line) => {
      const marker = /^\s*(```+|~~~+)/.exec(line)?.[1]
      if (marker) fence = fence === null ? marker[0] ?? null : marker[0] === fence ? null : fence
      if (marker || fence !== null) return line
      // Links are found with inline code blanked out (a `[x](y)` in backticks is not a link), then cut from the line itself.
      const masked = line.replace(/`[^`]*`/g, (code) => ' '.repeat(code.length))
      let out = ''
      let from = 0
      for (const match of masked.matchAll(/(!?)\[[^\]]*\]\(([^)\s]+)\)/g)) {
        const start = match.index
        const whole = line.slice(start, start + match[0].length)
        const text = whole.slice((match[1] ?? '').length + 1, whole.length - (match[2] ?? '').length - 3)
        out += line.slice(from, start) + rewrite(whole, match[1] ?? '', text, match[2] ?? '')
        from = start + match[0].length
      }
      return out + line.slice(from)
    })
    .join('\n')

  function rewrite(whole: string, bang: string, text: string, target: string): string {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) return whole
    const [path = '', anchor] = target.split('#', 2)
    const file = posix.normalize(path).replace(/^\.\//, '').replace(/\/$/, '')
    if (shipped.has(file)) return `${bang}[${text}](https://unpkg.com/${packageName}@${version}/${file}${anchor === undefined ? '' : `#${anchor}`})`
    return bang ? '' : text
  }
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const README = join(ROOT, 'README.md')
const BACKUP = join(ROOT, '.tmp', 'README.md.before-pack')

function restore(): void {
  if (!existsSync(BACKUP)) return
  copyFileSync(BACKUP, README)
  rmSync(BACKUP)
}

function rewriteForPack(): void {
  restore() // a pack that died before postpack left the rewritten README behind
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; repository?: unknown }
  if (manifest.repository !== undefined) return
  const listing = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' })
  const [packed] = JSON.parse(listing.slice(listing.indexOf('['))) as { files: { path: string }[] }[]
  const shipped = new Set((packed?.files ?? []).map((file) => file.path))
  mkdirSync(join(ROOT, '.tmp'), { recursive: true })
  copyFileSync(README, BACKUP)
  writeFileSync(README, registryReadme(readFileSync(README, 'utf8'), manifest.name, manifest.version, shipped))
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const command = process.argv[2]
  if (command === 'rewrite') rewriteForPack()
  else if (command === 'restore') restore()
  else {
    process.stderr.write('Usage: node dist/dev/registry-readme.js rewrite|restore\n')
    process.exitCode = 2
  }
}
