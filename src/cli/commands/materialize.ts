import postgres from 'postgres'
import { materialize, type LogRow } from '../../materialize/materialize.js'
import { OptionsError } from '../../../sinks/shared/option-reader.js'
import { parseCommandArgs, type Command } from '../command.js'
import { DATABASE_ARG_OPTIONS, DATABASE_USAGE, databaseArgs } from '../database-args.js'
import { jsonTerminalSafe, terminalSafe } from '../terminal-safe.js'

const USAGE = `Usage: sluice materialize <id> --bucket <bucket> [options]
       sluice materialize --span <span_id> --bucket <bucket> [options]

Prints the record of one row as JSON, with its offloaded payloads fetched
from S3. A payload whose object is gone prints as { "$missing": "s3://..." }.
<id> is a row id of the logs table (the tables number rows separately: a
span's rowId from \`sluice trace --json\` needs --spans).
The JSON is exact; characters a terminal could act on are written as \\uXXXX escapes.

Options:
${DATABASE_USAGE}
  --spans            <id> is a row id of the spans table (<table>_spans)
  --span <span_id>   the span with this id (16 hex characters), from the spans table
  --bucket <bucket>  bucket the payloads are in; pointers elsewhere are not followed (required)
  --prefix <prefix>  the writer's s3.prefix (default: pino-sluice/; '' for none); a pointer into
                     the bucket outside it is an error, not fetched
  --endpoint <url>   S3-compatible endpoint (default: AWS)
  --region <region>  region (default: the SDK's, e.g. AWS_REGION)
  --force-path-style path-style URLs, for most S3-compatible servers
  --checksums <mode> WHEN_REQUIRED for servers that send no checksums (default: WHEN_SUPPORTED)

Credentials come from the AWS SDK's default chain (AWS_ACCESS_KEY_ID, profiles, roles).
`

export const materializeCommand: Command = {
  name: 'materialize',
  summary: 'Print one row with its offloaded payloads fetched',
  usage: USAGE,
  async run(argv) {
    const parsed = parseCommandArgs('materialize', USAGE, {
      args: [...argv],
      allowPositionals: true,
      options: {
        ...DATABASE_ARG_OPTIONS,
        bucket: { type: 'string' },
        prefix: { type: 'string' },
        endpoint: { type: 'string' },
        region: { type: 'string' },
        'force-path-style': { type: 'boolean' },
        checksums: { type: 'string' },
        spans: { type: 'boolean' },
        span: { type: 'string' },
      },
    })
    if (!parsed) return 2
    const { values, positionals } = parsed
    const [id, ...extra] = positionals
    const database = databaseArgs(values)
    const spanId = values.span
    const problem =
      spanId !== undefined && (id !== undefined || values.spans) ? 'give either a row id or --span <span_id>, not both'
      : spanId !== undefined && !/^[0-9a-f]{16}$/.test(spanId) ? `--span takes a span id (16 lower-case hex characters), got "${spanId.slice(0, 40)}"`
      : spanId === undefined && (id === undefined || extra.length > 0 || !/^\d{1,19}$/.test(id)) ? 'give exactly one row id (a positive integer), or --span <span_id>'
      : typeof database === 'string' ? database
      : !values.bucket ? 'give --bucket, the bucket the payloads were offloaded to'
      : values.checksums !== undefined && values.checksums !== 'WHEN_SUPPORTED' && values.checksums !== 'WHEN_REQUIRED'
        ? `--checksums must be WHEN_SUPPORTED or WHEN_REQUIRED, got "${values.checksums}"`
      : undefined
    if (problem || typeof database === 'string') {
      process.stderr.write(`sluice materialize: ${terminalSafe(String(problem))}\n\n${USAGE}`)
      return 2
    }
    const checksums = values.checksums as 'WHEN_SUPPORTED' | 'WHEN_REQUIRED' | undefined
    const sql = postgres(database.url, { onnotice: () => {}, max: 1 })
    const table = spanId !== undefined || values.spans ? `${database.table}_spans` : database.table
    try {
      let target: string | LogRow | undefined = id
      if (spanId !== undefined) {
        const rows = await sql<LogRow[]>`select * from ${sql(database.schema)}.${sql(table)} where span_id = ${spanId} limit 5`
        if (rows.length !== 1) {
          const which = rows.length === 0 ? 'no span' : `${rows.length} spans (ids ${rows.map((r) => String(r.id)).join(', ')}; give one with --spans <id>)`
          process.stderr.write(`sluice materialize: ${which} with span_id ${spanId} in ${database.schema}.${table}\n`)
          return 1
        }
        target = rows[0]
      }
      const record = await materialize(target as string | LogRow, {
        sql,
        table,
        schema: database.schema,
        s3: {
          bucket: values.bucket as string,
          prefix: values.prefix,
          endpoint: values.endpoint,
          region: values.region,
          forcePathStyle: values['force-path-style'] ?? false,
          requestChecksumCalculation: checksums,
          responseChecksumValidation: checksums,
        },
      })
      if (record === undefined) {
        process.stderr.write(`sluice materialize: no row with id ${id} in ${database.schema}.${table}\n`)
        return 1
      }
      process.stdout.write(`${jsonTerminalSafe(JSON.stringify(record, null, 2))}\n`)
      return 0
    } catch (error) {
      process.stderr.write(`sluice materialize: ${terminalSafe(error instanceof Error ? error.message : String(error))}\n`)
      return error instanceof OptionsError ? 2 : 1
    } finally {
      await sql.end({ timeout: 1 })
    }
  },
}
