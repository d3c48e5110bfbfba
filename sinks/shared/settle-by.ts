/** Waits for `work` until the epoch ms `end` at the latest; true when it settled (either way) in time. */
export async function settleBy(work: Promise<unknown>, end: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const inTime = await Promise.race([
    work.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => (timer = setTimeout(resolve, Math.max(0, end - Date.now()), false))),
  ])
  clearTimeout(timer)
  return inTime
}
