/**
 * The README npm shows on the registry page: with no `repository` in
 * package.json, npmjs.com cannot resolve relative links, so packing points
 * them at the shipped files on unpkg and unlinks what the package does not ship.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { registryReadme } from '../../dev/registry-readme.js'
import { markdownLinks } from '../support/markdown-links.js'

const shipped = new Set(['README.md', 'LICENSE', 'docs/cli.md', 'docs/configuration.md', 'package.json'])
const rewrite = (markdown: string) => registryReadme(markdown, 'pino-sluice', '1.2.3', shipped)

describe('the README for the registry', () => {
  it('points links to shipped files at this version on unpkg, anchors kept', () => {
    expect(rewrite('See [Configuration](docs/configuration.md) and [`sluice tail`](docs/cli.md#sluice-tail), [MIT](./LICENSE).')).toBe(
      'See [Configuration](https://unpkg.com/pino-sluice@1.2.3/docs/configuration.md) and [`sluice tail`](https://unpkg.com/pino-sluice@1.2.3/docs/cli.md#sluice-tail), [MIT](https://unpkg.com/pino-sluice@1.2.3/LICENSE).',
    )
  })

  it('keeps the text of links to files the package does not ship', () => {
    expect(rewrite('| [`plain-node.ts`](examples/plain-node.ts) | shows |')).toBe('| `plain-node.ts` | shows |')
    expect(rewrite('Small apps in [`examples/`](examples/), each')).toBe('Small apps in `examples/`, each')
  })

  it('leaves anchors, external links and code alone', () => {
    const untouched = ['[Quick start](#quick-start)', '[pino](https://getpino.io)', '`[not](a/link.md)`', '```md\n[fenced](docs/cli.md)\n```'].join('\n')
    expect(rewrite(untouched)).toBe(untouched)
  })

  it('leaves no relative link in the real README', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8')
    const relative = markdownLinks(rewrite(readme)).filter((link) => !/^(https?:|#)/.test(link.target))
    expect(relative).toEqual([])
  })
})
