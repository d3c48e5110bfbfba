/**
 * Reads the links and headings out of a markdown file the way GitHub renders
 * them, so a test can check that every relative link and #anchor in the docs
 * resolves. Code fences and inline code are skipped: a `[x](y)` inside code is
 * not a link.
 */

export interface MarkdownLink {
  /** The target as written, e.g. `docs/cli.md#sluice-tail` or `#install`. */
  readonly target: string
  /** 1-based line of the link, for the failure message. */
  readonly line: number
}

/** GitHub's heading id: lower case, punctuation removed (letters, digits, `_`, `-` and spaces kept), spaces to `-`. */
export function githubSlug(headingText: string): string {
  return headingText
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-')
}

/** The text a heading renders to: inline code keeps its content, links keep their text, `*` emphasis marks go. */
function headingText(raw: string): string {
  return raw
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/\*+/g, '')
}

/** Lines outside fenced code blocks, with their 1-based numbers. */
function proseLines(markdown: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = []
  let fence: string | null = null
  markdown.split('\n').forEach((text, index) => {
    const marker = /^\s*(```+|~~~+)/.exec(text)?.[1]
    if (marker) {
      if (fence === null) fence = marker[0] ?? null
      else if (marker[0] === fence) fence = null
      return
    }
    if (fence === null) out.push({ text, line: index + 1 })
  })
  return out
}

/** The anchors GitHub generates for a file's headings (`#`-style), duplicates numbered `-1`, `-2`, … */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>()
  const seen = new Map<string, number>()
  for (const { text } of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text)?.[1]
    if (heading === undefined) continue
    const slug = githubSlug(headingText(heading))
    const count = seen.get(slug) ?? 0
    seen.set(slug, count + 1)
    anchors.add(count === 0 ? slug : `${slug}-${count}`)
  }
  return anchors
}

/** Inline links and images `[text](target "title")` and reference definitions `[x]: target`. */
export function markdownLinks(markdown: string): MarkdownLink[] {
  const links: MarkdownLink[] = []
  for (const { text, line } of proseLines(markdown)) {
    const withoutCode = text.replace(/`[^`]*`/g, (code) => ' '.repeat(code.length))
    for (const match of withoutCode.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      if (match[1]) links.push({ target: match[1], line })
    }
    const definition = /^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(withoutCode)
    if (definition?.[1]) links.push({ target: definition[1], line })
  }
  return links
}

/** Links that leave the repository (http, mailto, …): not checked here. */
export function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target)
}
