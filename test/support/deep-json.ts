/**
 * Whether this Node's JSON.stringify overflows the stack at `depth` levels.
 * Node 26's V8 serializes and parses any depth, so there a deep record is an
 * ordinary one and the tests of the stack-overflow path have nothing to test.
 */
export function stringifyOverflowsAt(depth: number): boolean {
  let value: unknown = 1
  for (let i = 0; i < depth; i++) value = { a: value }
  try {
    JSON.stringify(value)
    return false
  } catch {
    return true
  }
}

/** The loud line for a test skipped because this Node serializes any depth. */
export function warnDeepJsonSkip(what: string): void {
  console.warn(`SKIPPED on Node ${process.version}: ${what} (its JSON.stringify does not overflow the stack at this depth, so no record is too deep)`)
}
