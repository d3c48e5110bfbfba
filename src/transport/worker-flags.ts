/**
 * The node flags a pino-sluice worker starts with: the app's, minus those that
 * run the app's own code. A worker inherits `execArgv` and `NODE_OPTIONS`, so
 * `node --import ./setup.mjs app.mjs` would run setup.mjs again in the worker;
 * a setup that creates a sluice there starts another worker, which runs it
 * again, without end (issue 26). Harmless flags (memory limits, source maps,
 * conditions) are kept.
 */

/** Flags whose value is the app's code or the app's start-up: never for our worker. */
const APP_CODE_FLAGS = new Set([
  '--import',
  '--require',
  '-r',
  '--loader',
  '--experimental-loader',
  '--env-file',
  '--env-file-if-exists',
  '--eval',
  '-e',
  '--print',
  '-p',
  '--input-type',
  '--watch-path',
])
/** Flags without a value that are about the app's own start-up. */
const APP_RUN_FLAGS = new Set(['--watch', '--watch-preserve-output', '--test', '--check', '-c', '--interactive', '-i'])

function isAppFlag(flag: string): { drop: boolean; takesNext: boolean } {
  const eq = flag.indexOf('=')
  const name = eq === -1 ? flag : flag.slice(0, eq)
  if (APP_CODE_FLAGS.has(name)) return { drop: true, takesNext: eq === -1 }
  return { drop: APP_RUN_FLAGS.has(name), takesNext: false }
}

/** `args` without the app's preloads, loaders, env files and script source. */
export function withoutAppCode(args: readonly string[]): string[] {
  const kept: string[] = []
  for (let i = 0; i < args.length; i++) {
    const flag = args[i] as string
    const { drop, takesNext } = isAppFlag(flag)
    if (!drop) kept.push(flag)
    else if (takesNext) i++
  }
  return kept
}

/**
 * Splits NODE_OPTIONS as node does: on white space, with double quotes
 * grouping and a backslash escaping the next character inside them.
 */
export function splitNodeOptions(text: string): string[] {
  const tokens: string[] = []
  let current = ''
  let started = false
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string
    if (quoted && c === '\\' && i + 1 < text.length) {
      current += text[++i]
    } else if (c === '"') {
      quoted = !quoted
      started = true
    } else if (!quoted && /\s/.test(c)) {
      if (started) tokens.push(current)
      current = ''
      started = false
    } else {
      current += c
      started = true
    }
  }
  if (started) tokens.push(current)
  return tokens
}

function joinNodeOptions(tokens: readonly string[]): string {
  return tokens.map((t) => (/[\s"\\]/.test(t) || t === '' ? `"${t.replace(/["\\]/g, '\\$&')}"` : t)).join(' ')
}

/**
 * The young generation of createSluice's worker, in MB: about two 4 MB
 * semi-spaces, where V8's default on 64-bit is 48 (two of 16). During a burst
 * the worker allocates fast (a string per line, parsed records, COPY text),
 * so its semi-spaces grow to the maximum and stay resident: measured in the
 * bench's tight loop, the default cost 16–25 MB more peak RSS than this, for
 * no measurable difference in the worker's CPU per record (what survives a
 * scavenge is the channel and the batches in flight, not the semi-spaces).
 * Only the young generation is limited: the old generation keeps V8's limit,
 * so this cannot make the worker run out of heap any sooner.
 */
export const WORKER_YOUNG_GENERATION_MB = 12

/** The V8 flag an app sets to choose the young generation itself (`_` and `-` are the same to V8). */
const YOUNG_GENERATION_FLAG = '--max-semi-space-size'

export interface WorkerFlags {
  /** undefined: inherit the app's as they are (nothing had to go). */
  readonly execArgv: string[] | undefined
  /** undefined: inherit the app's environment as it is. */
  readonly env: NodeJS.ProcessEnv | undefined
  /** For `new Worker()`: the young generation's limit, unless the app chose one with --max-semi-space-size. */
  readonly resourceLimits: { maxYoungGenerationSizeMb: number } | undefined
}

/** True when the app's flags size the young generation: then its choice applies to the worker too. */
function setsYoungGeneration(flags: readonly string[]): boolean {
  return flags.some((flag) => flag.replaceAll('_', '-').split('=')[0] === YOUNG_GENERATION_FLAG)
}

/**
 * What to pass to `new Worker()` so it runs none of the app's code. Left
 * unset, a worker inherits the flags without checking them again, while a
 * given list is checked (a flag such as --expose-gc makes it throw), so a list
 * is passed only when something had to go. Node reads a worker's NODE_OPTIONS
 * from its `env`, so the environment is passed whenever the flags are.
 */
export function workerFlags(execArgv: readonly string[] = process.execArgv, env: NodeJS.ProcessEnv = process.env): WorkerFlags {
  const keptArgs = withoutAppCode(execArgv)
  const nodeOptions = env.NODE_OPTIONS ?? ''
  const optionTokens = splitNodeOptions(nodeOptions)
  const keptOptions = withoutAppCode(optionTokens)
  const resourceLimits = setsYoungGeneration([...execArgv, ...optionTokens]) ? undefined : { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB }
  if (keptArgs.length === execArgv.length && keptOptions.length === optionTokens.length) return { execArgv: undefined, env: undefined, resourceLimits }
  const workerEnv: NodeJS.ProcessEnv = { ...env }
  if (keptOptions.length === 0) delete workerEnv.NODE_OPTIONS
  else workerEnv.NODE_OPTIONS = joinNodeOptions(keptOptions)
  return { execArgv: keptArgs, env: workerEnv, resourceLimits }
}

/**
 * For `pino.transport({ target: 'pino-sluice', worker: sluiceWorkerOptions() })`:
 * the same filtering for the worker thread-stream starts. pino itself drops
 * execArgv when the transport is created during a preload, but keeps
 * NODE_OPTIONS preloads; this drops both.
 */
export function sluiceWorkerOptions(): { execArgv?: string[]; env?: NodeJS.ProcessEnv } {
  // Not the young generation's limit: under thread-stream the worker's heap is not what grows (the app's is).
  const { execArgv, env } = workerFlags()
  return execArgv === undefined ? {} : { execArgv, env }
}
