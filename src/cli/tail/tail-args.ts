import { parseArgs } from 'node:util'

export type TailSource = { kind: 'file'; path: string } | { kind: 'url'; url: string }

export interface TailArgs {
  source: TailSource
  intervalMs: number
  json: boolean
  /** Stop after this many updates (scripts, tests); undefined: until Ctrl-C. */
  count: number | undefined
}

export class TailUsageError extends Error {}

type ParseOptions = NonNullable<Parameters<typeof parseArgs>[0]>['options']
type FlagValues = Record<string, string | boolean | undefined>

/** Flags every tail mode has, read the same way: `--interval`, `--json`, `--count`. */
export interface CommonTailFlags {
  intervalMs: number
  json: boolean
  count: number | undefined
}

/** Parses argv with the common flags plus a mode's own; a usage problem becomes a TailUsageError. */
export function parseTailFlags(argv: readonly string[], modeOptions: ParseOptions): { values: FlagValues; common: CommonTailFlags } {
  let values: FlagValues
  try {
    ;({ values } = parseArgs({
      args: [...argv],
      options: { ...modeOptions, interval: { type: 'string' }, json: { type: 'boolean', default: false }, count: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }))
  } catch (error) {
    throw new TailUsageError(error instanceof Error ? error.message : String(error))
  }
  const common = {
    intervalMs: positiveInt('interval', values.interval as string | undefined, 1000, 50) as number,
    json: values.json === true,
    count: positiveInt('count', values.count as string | undefined, undefined, 1),
  }
  return { values, common }
}

function positiveInt(name: string, text: string | undefined, fallback: number | undefined, min: number): number | undefined {
  if (text === undefined) return fallback
  const value = Number(text)
  if (!Number.isInteger(value) || value < min) throw new TailUsageError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(text)}`)
  return value
}

/** `http://127.0.0.1:9464` means its `/stats`; a URL with a path is used as given. */
function statsUrl(text: string): string {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new TailUsageError(`--url must be an http URL such as http://127.0.0.1:9464, got ${JSON.stringify(text)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TailUsageError(`--url must start with http://, got ${JSON.stringify(text)}`)
  if (url.pathname === '/' || url.pathname === '' || url.pathname === '/metrics') url.pathname = '/stats'
  return url.toString()
}

export function parseTailArgs(argv: readonly string[]): TailArgs {
  const { values, common } = parseTailFlags(argv, { file: { type: 'string' }, url: { type: 'string' } })
  const file = values.file as string | undefined
  const url = values.url as string | undefined
  if ((file === undefined) === (url === undefined)) {
    throw new TailUsageError('give exactly one of --file <path> (the transport\'s stats.file) or --url <http://127.0.0.1:port> (its stats.port)')
  }
  return { source: file !== undefined ? { kind: 'file', path: file } : { kind: 'url', url: statsUrl(url as string) }, ...common }
}
