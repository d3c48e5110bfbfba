/** Every table pino-sluice owns derives its name from the configured logs table. */
export interface TableNames {
  readonly schema: string
  readonly logs: string
  readonly spans: string
  readonly stats: string
  /** One row per committed batch transaction: the retry check (commit-ledger.ts). */
  readonly ledger: string
  readonly migrations: string
}

export function tableNames(schema: string, logs: string): TableNames {
  return { schema, logs, spans: `${logs}_spans`, stats: `${logs}_stats`, ledger: `${logs}_ledger`, migrations: 'pino_sluice_migrations' }
}
