// vitest 5 wants Node 22.12+ and its reporter calls Map.groupBy (Node 21+) when it prints failures:
// on Node 20 a failing run would end in "Map.groupBy is not a function" instead of the failures.
// Imported by vitest.config.ts (the reporter runs in that process), a no-op on Node 21+. Safe for the code under test: the tsconfig's lib
// stops at ES2023 for Map (ES2024.Collection is not in it), so src cannot call Map.groupBy.
if (typeof Map.groupBy !== 'function') {
  Map.groupBy = function groupBy(items, keyOf) {
    const groups = new Map()
    let index = 0
    for (const item of items) {
      const key = keyOf(item, index++)
      const group = groups.get(key)
      if (group) group.push(item)
      else groups.set(key, [item])
    }
    return groups
  }
}
