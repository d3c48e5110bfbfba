/** One stderr line per distinct problem, `limit` at most: a dead destination must not flood stderr. */
export function problemReporter(limit = 20): (message: string) => void {
  const seen = new Set<string>()
  return (message) => {
    if (seen.size >= limit || seen.has(message)) return
    seen.add(message)
    process.stderr.write(`pino-sluice: ${message}\n`)
  }
}
