/** Every table pino-sluice owns derives its name from the configured logs table. */
export interface TableNames {
  readonly schema: string
  readonly logs: string
  readonly spans: string
  readonly stats: string
  readonly migrations: string
}

export function tableNames(schema: string, logs: string): TableNames {
  return { schema, logs, spans: `${logs}_spans`, stats: `${logs}_stats`, migrations: 'pino_sluice_migrations' }
}
