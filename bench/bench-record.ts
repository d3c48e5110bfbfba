/** The record every system logs: the same fields, so every system writes the same rows. */
export function logArgs(i: number): [Record<string, unknown>, string] {
  return [{ i, user: i % 1000, route: '/checkout', status: 200, duration_ms: i % 250 }, 'request handled']
}
