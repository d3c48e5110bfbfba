/**
 * Every relative link and #anchor in README.md and docs/*.md must resolve:
 * the file (or folder) exists, and an anchor names a heading of the target
 * file as GitHub renders it. Links to other sites are not fetched (no network).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { githubSlug, headingAnchors, isExternal, markdownLinks } from '../support/markdown-links.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const DOCS = join(ROOT, 'docs')
const FILES = [join(ROOT, 'README.md'), ...readdirSync(DOCS).filter((name) => name.endsWith('.md')).map((name) => join(DOCS, name))]

function anchorsOf(file: string): Set<string> {
  return headingAnchors(readFileSync(file, 'utf8'))
}

/** One line per link that does not resolve: `docs/cli.md:12 → scale.md#nope: no heading "nope" in docs/scale.md`. */
function brokenLinks(file: string, markdown = readFileSync(file, 'utf8')): string[] {
  const broken: string[] = []
  const where = (line: number) => `${relative(ROOT, file)}:${line}`
  for (const { target, line } of markdownLinks(markdown)) {
    if (isExternal(target)) continue
    const [path = '', anchor] = target.split('#', 2)
    const linked = path === '' ? file : resolve(dirname(file), decodeURIComponent(path))
    if (!linked.startsWith(ROOT)) {
      broken.push(`${where(line)} → ${target}: points outside the repository`)
      continue
    }
    if (!existsSync(linked)) {
      broken.push(`${where(line)} → ${target}: no such file ${relative(ROOT, linked)}`)
      continue
    }
    if (anchor === undefined) continue
    if (!linked.endsWith('.md')) broken.push(`${where(line)} → ${target}: an anchor into a file that is not markdown`)
    else if (!anchorsOf(linked).has(anchor)) broken.push(`${where(line)} → ${target}: no heading "${anchor}" in ${relative(ROOT, linked)}`)
  }
  return broken
}

describe('links in README.md and docs/', () => {
  it('finds the README and the docs', () => {
    expect(FILES.map((f) => relative(ROOT, f))).toEqual(expect.arrayContaining(['README.md', 'docs/configuration.md', 'docs/troubleshooting.md']))
  })

  for (const file of FILES) {
    it(`${relative(ROOT, file)}: every relative link and anchor resolves`, () => {
      expect(brokenLinks(file)).toEqual([])
    })
  }
})

describe('GitHub heading anchors', () => {
  it('keeps letters, digits, - and _, drops other punctuation, turns spaces into -', () => {
    expect(githubSlug('Metrics → CloudWatch')).toBe('metrics--cloudwatch')
    expect(githubSlug('sluice tail --db: every writer, from Postgres')).toBe('sluice-tail---db-every-writer-from-postgres')
    expect(githubSlug('sluice trace <trace_id>')).toBe('sluice-trace-trace_id')
    expect(githubSlug('Error: end() took too long (10s)')).toBe('error-end-took-too-long-10s')
  })

  it('reads headings as rendered (code and links) and numbers duplicates; ignores code blocks', () => {
    const anchors = headingAnchors(['# `createSluice` and [`closeOnSignals`](x.md)', '## Retention', '```', '# not a heading', '```', '## Retention'].join('\n'))
    expect([...anchors]).toEqual(['createsluice-and-closeonsignals', 'retention', 'retention-1'])
  })

  it('finds inline links, images and reference definitions, not links inside code', () => {
    const links = markdownLinks(['See [a](docs/a.md#x) and ![chart](bench/c.svg "title").', '`[no](skip.md)`', '```', '[no](fenced.md)', '```', '[ref]: ./b.md'].join('\n'))
    expect(links.map((l) => l.target)).toEqual(['docs/a.md#x', 'bench/c.svg', './b.md'])
  })

  it('reports a missing file, a missing anchor and a link out of the repository', () => {
    // The checker itself must fail on a broken link, or the tests above prove nothing.
    const readme = join(ROOT, 'README.md')
    const markdown = '[ok](docs/cli.md#sluice-tail) [gone](docs/no-such-page.md) [typo](docs/cli.md#sluice-tale) [here](#no-such-heading) [up](../../etc/passwd)'
    expect(brokenLinks(readme, markdown)).toEqual([
      'README.md:1 → docs/no-such-page.md: no such file docs/no-such-page.md',
      'README.md:1 → docs/cli.md#sluice-tale: no heading "sluice-tale" in docs/cli.md',
      'README.md:1 → #no-such-heading: no heading "no-such-heading" in README.md',
      'README.md:1 → ../../etc/passwd: points outside the repository',
    ])
  })
})
