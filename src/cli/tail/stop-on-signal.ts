/** Ctrl-C (or SIGTERM) ends a tail cleanly: `stopped` resolves, and `dispose` removes the handlers. */
export function stopOnSignal(): { stopped: Promise<void>; dispose(): void } {
  let stop: () => void = () => {}
  const stopped = new Promise<void>((resolve) => (stop = resolve))
  const onSignal = (): void => stop()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  return {
    stopped,
    dispose() {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    },
  }
}
