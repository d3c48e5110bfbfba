/**
 * "Did you mean" for a misspelled key or flag. Names are compared without
 * case, `_` and `-`, so `input_tokens` finds `inputTokens` and `--dry_run`
 * finds `--dry-run`; beyond that, up to two edits (`tabel` -> `table`).
 */
function normalize(name: string): string {
  return name.toLowerCase().replace(/[-_]/g, '')
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1))
      diagonal = above
    }
  }
  return row[b.length] as number
}

/** The known names closest to `name`: an exact match after normalizing wins alone, else those within two edits. */
export function closestNames(name: string, known: readonly string[]): string[] {
  const wanted = normalize(name)
  const same = known.filter((k) => normalize(k) === wanted)
  if (same.length > 0) return same
  // Very short names are close to everything; only suggest for them on one edit.
  const limit = wanted.length <= 3 ? 1 : 2
  return known.filter((k) => editDistance(normalize(k), wanted) <= limit)
}

/** ` Did you mean "x"?` (with the leading space), or '' when nothing is close. */
export function didYouMean(name: string, known: readonly string[], quote: (k: string) => string = (k) => `"${k}"`): string {
  const close = closestNames(name, known)
  return close.length > 0 ? ` Did you mean ${close.map(quote).join(' or ')}?` : ''
}
