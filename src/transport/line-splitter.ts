/**
 * Splits the text chunks thread-stream hands us into complete lines. A chunk
 * may end in the middle of a line; the tail is carried into the next chunk.
 * Empty lines are skipped (they are not records).
 */
export class LineSplitter {
  private carry = ''
  private skipping = false

  split(chunk: string): string[] {
    const lines: string[] = []
    let start = 0
    let end = chunk.indexOf('\n')
    if (this.skipping) {
      if (end < 0) return lines
      this.skipping = false
      start = end + 1
      end = chunk.indexOf('\n', start)
    }
    if (end >= 0 && this.carry.length > 0) {
      const first = this.carry + chunk.slice(0, end)
      this.carry = ''
      if (first.length > 0) lines.push(first)
      start = end + 1
      end = chunk.indexOf('\n', start)
    }
    while (end >= 0) {
      if (end > start) lines.push(chunk.slice(start, end))
      start = end + 1
      end = chunk.indexOf('\n', start)
    }
    if (start < chunk.length) this.carry += chunk.slice(start)
    return lines
  }

  /** What is left after the last newline (a final line without one). */
  rest(): string {
    const rest = this.carry
    this.carry = ''
    return rest
  }

  /** Forgets the partial line and ignores everything up to the next newline. */
  discardPartialLine(): void {
    this.carry = ''
    this.skipping = true
  }

  get pendingLength(): number {
    return this.carry.length
  }
}
