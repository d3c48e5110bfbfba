import type { Command } from '../command.js'
import { stopOnSignal } from '../tail/stop-on-signal.js'
import { runDbTail } from '../tail/db-source.js'
import { parseTail, TailUsageError, type ParsedTail, type TailArgs } from '../tail/tail-args.js'
import { readSnapshot } from '../tail/read-snapshot.js'
import { snapshotFilesNear } from '../tail/snapshot-files-near.js'
import { WaitLimit } from '../tail/wait-limit.js'
import { renderJson, renderLine, renderScreen } from '../tail/render-tail.js'
import { sameWriter, staleForMs, tailUpdate, type TailUpdate } from '../tail/tail-update.js'
import type { StatsSnapshot } from '../../stats/stats-snapshot.js'
import { jsonTerminalSafe, terminalSafe } from '../terminal-safe.js'

const USAGE = `Usage: sluice tail --file <path> | --url <http://127.0.0.1:port> | --url <postgres-url> [options]

Shows pino-sluice counters live: totals, per-second rates, queue depth, and a
red DROPPING mark when records are dropped. The source is one of:

  --file <path>     one app's stats.file (a JSON snapshot replaced every stats.intervalMs)
  --url <http-url>  one app's loopback stats.port, e.g. http://127.0.0.1:9464 (reads /stats)
  --url <pg-url>    every writer of one table, from the <table>_stats rows in Postgres
                    (one line per writer: hostname:pid, live/final/stale, and the totals)
  (none)            the database in DATABASE_URL, as --url <pg-url>; prefer it to --url:
                    a URL on the command line, password included, is visible in ps

Options:
  --table <name>    with the database: the logs table; counters are <name>_stats (default: logs)
  --schema <name>   with the database: its schema (default: public)
  --since <d>       with the database: writers whose row changed within this long (default 1h)
  --interval <ms>   how often to read (default 1000)
  --json            one JSON object per update instead of text
  --count <n>       exit after n updates (default: follow until Ctrl-C)
  --timeout <d>     exit 1 after this long without an update, e.g. 30s, 2m; 0: no limit
                    (default: 30s with --count, no limit when following)
  --db <pg-url>     old name of --url <pg-url>

On a terminal the screen is redrawn in place; piped, it prints one line per update
(key=value pairs, "DROPPING reason+n" when the dropped counter moved) and status
lines starting with "# ". While the file, endpoint or table is missing or stale it
says so (and which stats files or tables there are) and keeps waiting, up to
--timeout. Ctrl-C exits with code 0.

The endpoint is not trusted: a read is cut off past 1 MiB or its deadline (never past
--timeout). Text from the snapshot or the table is printed with control and bidi
characters escaped (\\u001b); --json gives it exactly.
`

interface Output {
  update(update: TailUpdate): void
  status(message: string): void
  finish(): void
}

/** Piped: append-only lines; status lines are printed once per change, prefixed "# " so tools can skip them. */
function lineOutput(args: TailArgs, write: (text: string) => void): Output {
  let lastStatus: string | undefined
  return {
    update(update) {
      lastStatus = undefined
      write(args.json ? renderJson(update) : renderLine(update))
    },
    status(message) {
      if (message === lastStatus) return
      lastStatus = message
      write(args.json ? `${jsonTerminalSafe(JSON.stringify({ status: message }))}\n` : `# ${terminalSafe(message)}\n`)
    },
    finish() {},
  }
}

/** TTY: the screen is redrawn in place by moving the cursor back over the lines drawn last time. */
function screenOutput(where: string, write: (text: string) => void): Output {
  let drawn = 0
  let last: TailUpdate | undefined
  const color = process.env.NO_COLOR === undefined
  const draw = (lines: string[]): void => {
    write(`${drawn > 0 ? `\x1b[${drawn}F\x1b[J` : ''}${lines.join('\n')}\n`)
    drawn = lines.length
  }
  return {
    update(update) {
      last = update
      draw(renderScreen(update, where, undefined, color))
    },
    status(message) {
      draw(last ? renderScreen(last, where, message, color) : [`sluice tail  ${terminalSafe(where)}`, '', terminalSafe(message)])
    },
    finish() {},
  }
}

export async function runTail(args: TailArgs, stdout: NodeJS.WriteStream = process.stdout): Promise<number> {
  const where = args.source.kind === 'file' ? args.source.path : args.source.url
  const write = (text: string): void => void stdout.write(text)
  const output = stdout.isTTY && !args.json ? screenOutput(where, write) : lineOutput(args, write)
  let previous: StatsSnapshot | undefined
  let updates = 0
  const { stopped, dispose } = stopOnSignal()
  let timer: NodeJS.Timeout | undefined
  const limit = new WaitLimit(args.timeoutMs)
  let lastStatus: string | undefined
  let lastWaiting: string | undefined
  try {
    for (;;) {
      // One read never outlasts --timeout, whatever the endpoint does.
      const read = await readSnapshot(args.source, Math.max(50, Math.min(Math.max(args.intervalMs, 1000), limit.remainingMs() ?? Number.POSITIVE_INFINITY)))
      if (!read.ok) {
        // Looking for other stats files reads a directory: only when the problem changes.
        if (read.waiting !== lastWaiting) {
          lastWaiting = read.waiting
          const near = read.missing && args.source.kind === 'file' ? await snapshotFilesNear(args.source.path) : ''
          lastStatus = `waiting: ${read.waiting}${near}`
        }
        output.status(lastStatus as string)
      } else {
        lastWaiting = undefined
        const { snapshot } = read
        const fresh = previous === undefined || !sameWriter(previous, snapshot) || snapshot.time_ms > previous.time_ms
        const staleMs = snapshot.final ? undefined : staleForMs(snapshot, Date.now())
        if (fresh && staleMs === undefined) {
          if (previous !== undefined && !sameWriter(previous, snapshot)) output.status(`new writer ${snapshot.writer.hostname}:${snapshot.writer.pid}; rates restart`)
          output.update(tailUpdate(previous, snapshot))
          previous = snapshot
          updates++
          limit.updated()
          lastStatus = undefined
          if (args.count !== undefined && updates >= args.count) break
          if (snapshot.final) output.status(`the transport closed at ${snapshot.time}; these totals are final. Waiting for a new writer...`)
        } else if (staleMs !== undefined) {
          // Started after the writer stopped: still show its last totals once.
          if (previous === undefined) {
            output.update(tailUpdate(undefined, snapshot))
            previous = snapshot
          }
          lastStatus = `stale: last update ${(staleMs / 1000).toFixed(1)} s ago from ${snapshot.writer.hostname}:${snapshot.writer.pid} (publishes every ${snapshot.interval_ms} ms); has the app stopped? Still watching...`
          output.status(lastStatus)
        }
      }
      const gaveUp = limit.expired(lastStatus)
      if (gaveUp !== undefined) {
        process.stderr.write(`sluice tail: ${terminalSafe(gaveUp)}\n`)
        return 1
      }
      const wait = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.min(args.intervalMs, limit.remainingMs() ?? args.intervalMs))))
      const again = await Promise.race([wait.then(() => true), stopped.then(() => false)])
      if (!again) break
    }
  } finally {
    clearTimeout(timer)
    dispose()
    output.finish()
  }
  return 0
}

export const tailCommand: Command = {
  name: 'tail',
  summary: 'Show the worker counters live (stats file, HTTP, or every writer from the database)',
  usage: USAGE,
  async run(argv) {
    let parsed: ParsedTail
    try {
      parsed = parseTail(argv)
    } catch (error) {
      if (!(error instanceof TailUsageError)) throw error
      process.stderr.write(`sluice tail: ${terminalSafe(error.message)}\n\n${USAGE}`)
      return 2
    }
    return parsed.mode === 'db' ? runDbTail(parsed.args) : runTail(parsed.args)
  },
}
