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
    this.scan(chunk, (start, end, prefix) => lines.push(prefix + chunk.slice(start, end)))
    return lines
  }

  /**
   * The sizes of the complete lines in `chunk`, without making a string of
   * each: for a burst that is refused anyway, counting is all we need. A line
   * of up to `exactAbove / 3` UTF-16 units cannot exceed `exactAbove` UTF-8
   * bytes and gets its length as its size; a longer one is measured in bytes,
   * so a multi-byte line over the limit is told apart as too large.
   */
  lineSizes(chunk: string, exactAbove: number): number[] {
    const sizes: number[] = []
    const measureFrom = Math.floor(exactAbove / 3)
    this.scan(chunk, (start, end, prefix) => {
      const length = prefix.length + end - start
      sizes.push(length <= measureFrom ? length : Buffer.byteLength(prefix + chunk.slice(start, end)))
    })
    return sizes
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

  /** Calls `onLine` for each non-empty complete line: `prefix` (the carried tail) + chunk[start, end). */
  private scan(chunk: string, onLine: (start: number, end: number, prefix: string) => void): void {
    let start = 0
    let end = chunk.indexOf('\n')
    if (this.skipping) {
      if (end < 0) return
      this.skipping = false
      start = end + 1
      end = chunk.indexOf('\n', start)
    }
    if (end >= 0 && this.carry.length > 0) {
      const prefix = this.carry
      this.carry = ''
      onLine(start, end, prefix)
      start = end + 1
      end = chunk.indexOf('\n', start)
    }
    while (end >= 0) {
      if (end > start) onLine(start, end, '')
      start = end + 1
      end = chunk.indexOf('\n', start)
    }
    if (start < chunk.length) this.carry += chunk.slice(start)
  }
}
