/** Runs a CLI command in-process and returns its exit code and what it printed to stdout. */
export async function captureStdout(run: () => Promise<number>): Promise<{ code: number; text: string }> {
  let text = ''
  const original = process.stdout.write.bind(process.stdout)
  process.stdout.write = ((chunk: string | Uint8Array) => {
    text += chunk.toString()
    return true
  }) as typeof process.stdout.write
  try {
    return { code: await run(), text }
  } finally {
    process.stdout.write = original
  }
}
