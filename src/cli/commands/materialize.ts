import postgres from 'postgres'
import { materialize } from '../../materialize/materialize.js'
import { OptionsError } from '../../options/option-reader.js'
import { parseCommandArgs, type Command } from '../command.js'
import { DATABASE_ARG_OPTIONS, DATABASE_USAGE, databaseArgs } from '../database-args.js'
import { jsonTerminalSafe, terminalSafe } from '../terminal-safe.js'

const USAGE = `Usage: sluice materialize <id> --bucket <bucket> [options]

Prints the record of one logs-table row as JSON, with its offloaded payloads
fetched from S3. A payload whose object is gone prints as { "$missing": "s3://..." }.
The JSON is exact; characters a terminal could act on are written as \\uXXXX escapes.

Options:
${DATABASE_USAGE}
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
      },
    })
    if (!parsed) return 2
    const { values, positionals } = parsed
    const [id, ...extra] = positionals
    const database = databaseArgs(values)
    const problem =
      id === undefined || extra.length > 0 || !/^\d{1,19}$/.test(id) ? 'give exactly one row id (a positive integer)'
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
    try {
      const record = await materialize(id as string, {
        sql,
        table: database.table,
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
        process.stderr.write(`sluice materialize: no row with id ${id} in ${database.schema}.${database.table}\n`)
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
