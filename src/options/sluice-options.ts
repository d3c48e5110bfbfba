/**
 * Options of the pino-sluice transport, as passed in `pino.transport({ target: 'pino-sluice', options })`.
 * Every field is optional except a Postgres URL (here or in DATABASE_URL) while Postgres is the store of record.
 */
export interface SluiceOptions {
  /** The default store of record. `false`: no Postgres (choose `file`, a sink with role 'store', or none). */
  postgres?: {
    /** Connection string. Default: the DATABASE_URL environment variable. */
    url?: string | undefined
    /** Logs table (plain lower-case identifier). Spans and stats tables derive from it. Default 'logs'. */
    table?: string | undefined
    /** Schema of the tables. Default 'public'. */
    schema?: string | undefined
    /** Connections per worker. Default 2: one COPY is sent while Postgres works on the other. */
    connections?: number | undefined
    /** Connect timeout in ms. Default 5000. */
    connectTimeoutMs?: number | undefined
    /** 'off' (default) commits without waiting for the WAL flush: a Postgres crash may lose the last few hundred ms of batches. 'on' waits. */
    synchronousCommit?: 'off' | 'on' | undefined
    /**
     * Range-partition the logs table on `time` and the spans table on `start_time`, one partition per UTC
     * day or hour, created ahead (current and next period) and on demand; stray timestamps (more than a day
     * ahead, or older than the retention / 7 days) go to a DEFAULT partition. Applies when pino-sluice
     * creates the tables; an existing plain table is kept as it is. Default 'day' (no measurable insert cost,
     * see docs/scale.md); false: one plain table.
     */
    partition?: 'day' | 'hour' | false | undefined
    /** Keep this much, e.g. '14d', '48h': the writer drops whole partitions that are entirely older, hourly. Needs `partition`. Default: keep everything. */
    retention?: string | undefined
    /** How often each worker upserts its counters into `<table>_stats` (read by `sluice tail --db`), in ms; 0 turns it off. Default 10000. */
    statsIntervalMs?: number | undefined
    retry?: {
      /** First backoff delay in ms. Default 100. */
      initialDelayMs?: number | undefined
      /** Longest backoff delay in ms. Default 5000. */
      maxDelayMs?: number | undefined
      /** Time a batch may spend retrying while the database is unreachable, in ms; then it counts as failed `db_unavailable`. Default 30000. */
      budgetMs?: number | undefined
    } | undefined
  } | false | undefined
  channel?: {
    /** Most records queued in the worker. Default 8192. */
    maxRecords?: number | undefined
    /** Most bytes (UTF-8 size of raw lines) queued in the worker. Default 64 MiB. */
    maxBytes?: number | undefined
    /** A single record above this size is dropped as `too_large`. Default 1 MiB. */
    maxRecordBytes?: number | undefined
    /** Which records go when the channel is full. Default 'drop-newest'. */
    overflow?: 'drop-newest' | 'drop-oldest' | undefined
  } | undefined
  /**
   * The shared-memory ring between the app thread and the worker that
   * `createSluice()` uses (ignored by `pino.transport()`). A line that finds
   * the ring full is dropped and counted (`dropped_overflow`) on the app
   * thread at once: the ring is where the bound starts.
   */
  ring?: {
    /**
     * Size in bytes, rounded up to a power of two (64 KiB to 1 GiB). Default 32 MiB. A line bigger
     * than the ring but within the record limit goes to the worker as a message instead.
     */
    bytes?: number | undefined
  } | undefined
  batch?: {
    /**
     * Most records per Postgres transaction. Default 5000. A batch is due once
     * 1000 records (or this many, if fewer) are queued; larger batches form when
     * records pile up while the database is busy.
     */
    maxRecords?: number | undefined
    /** Raw bytes per batch. Default 8 MiB. */
    maxBytes?: number | undefined
    /** Longest time a record waits before its batch is written, in ms. Default 1000. */
    intervalMs?: number | undefined
    /** A record at or above this pino level is written at once. Default 50 (error). */
    flushLevel?: number | undefined
  } | undefined
  exit?: {
    /** Time for everything close does (drain, commit, final rows, flushes, ending connections), in ms; at most 8000 (pino gives the worker 10 s). Default 5000. */
    budgetMs?: number | undefined
    /** Print one stderr line with the totals on close when anything was dropped or failed. Default true. */
    report?: boolean | undefined
  } | undefined
  /** `createStats().buffer`: the worker publishes its counters there for the app to read live. */
  counters?: SharedArrayBuffer | undefined
  /**
   * Offload the big fields of big records to S3 and keep a pointer in the row
   * (`{ "$ref": "s3://bucket/key", "bytes", "sha256", "encoding": "gzip" }`).
   * Credentials come from the AWS SDK's default chain unless given here.
   */
  s3?: {
    /** Bucket that receives the payloads. Required. */
    bucket: string
    /** Key prefix; keys are `<prefix>YYYY/MM/DD/<sha256>.json.gz`. Default 'pino-sluice/'. */
    prefix?: string | undefined
    /** A record whose raw line is larger than this, in bytes, has its biggest top-level fields offloaded until it fits. Default 64 KiB. */
    thresholdBytes?: number | undefined
    /** When an upload fails, payloads stay inline as long as the row stays within this many bytes; others are truncated with a `$truncated` marker. Default 1 MiB. */
    maxInlineBytes?: number | undefined
    /** Largest record accepted while S3 is configured, in bytes (replaces channel.maxRecordBytes; at most channel.maxBytes). Default 32 MiB. */
    maxRecordBytes?: number | undefined
    /** Uploads in flight at once. Default 8. */
    concurrency?: number | undefined
    /** AWS region. Default: the SDK's (AWS_REGION, profile), or 'us-east-1' with a custom endpoint. */
    region?: string | undefined
    /** S3-compatible endpoint URL (MinIO, s3rver, ...). Default: AWS. */
    endpoint?: string | undefined
    /** Path-style URLs (`endpoint/bucket/key`), needed by most S3-compatible servers. Default false. */
    forcePathStyle?: boolean | undefined
    /** 'WHEN_REQUIRED' for S3-compatible servers that reject the SDK's default CRC32 checksums. Default 'WHEN_SUPPORTED'. */
    requestChecksumCalculation?: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED' | undefined
    /** 'WHEN_REQUIRED' for S3-compatible servers that return no checksums. Default 'WHEN_SUPPORTED'. */
    responseChecksumValidation?: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED' | undefined
    /** Explicit credentials (never logged). Default: the SDK's default credential chain. */
    credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined } | undefined
    /** TCP connect timeout, in ms. Default 2000. */
    connectTimeoutMs?: number | undefined
    /** Socket inactivity timeout of one request, in ms. Default 10000. */
    requestTimeoutMs?: number | undefined
    /** Attempts per upload, first included. Default 2. */
    maxAttempts?: number | undefined
    /** Server-side encryption S3 applies to each payload: 'AES256' (SSE-S3) or 'aws:kms' (SSE-KMS). Default: the bucket's default encryption. */
    sse?: 'AES256' | 'aws:kms' | undefined
    /** With sse 'aws:kms': the KMS key id, key ARN or alias ('alias/…'). Default: the account's aws/s3 key. */
    sseKmsKeyId?: string | undefined
  } | undefined
  /**
   * Aggregate metrics client-side and send them to CloudWatch with PutMetricData: explicit `metric` fields
   * (see `metric()`), metrics derived from spans, and the pipeline's own counters.
   * Credentials come from the AWS SDK's default chain (env, profile, SSO, web identity, ECS/EC2 role);
   * when none resolves the stage turns itself off with one stderr notice and logs keep flowing.
   */
  cloudwatch?: {
    /** Namespace of every metric, e.g. 'MyApp'. Required; may not start with 'AWS/'. */
    namespace: string
    /** AWS region. Default: the SDK's (AWS_REGION, profile). */
    region?: string | undefined
    /** CloudWatch-compatible endpoint URL (LocalStack, moto). Default: AWS. */
    endpoint?: string | undefined
    /** How often aggregates are sent, in ms (also sent at 1000 pending datums, on flush and on close). Default 5000. */
    flushIntervalMs?: number | undefined
    /** Aggregation period and StorageResolution in seconds: 60 (standard) or 1 (high resolution). Default 60. */
    storageResolution?: 1 | 60 | undefined
    /** Distinct series (name, unit, dimensions) accepted per period; new ones beyond are dropped as `metrics_cardinality`. Default 5000. */
    maxSeries?: number | undefined
    /** Dimensions added to every datum, e.g. { Service: 'checkout' }; at most 29. Default none. */
    defaultDimensions?: Record<string, string> | undefined
    /** Send Received, Written, Dropped, Failed, Offloaded, QueueDepth and FlushLatency. Default true. */
    selfMetrics?: boolean | undefined
    /** Timeout of one PutMetricData attempt, in ms. Default 10000. */
    requestTimeoutMs?: number | undefined
  } | undefined
  /**
   * The built-in NDJSON file store of record (instead of Postgres): each batch appended as one JSON
   * line per record; the file is rotated by size to `<path>.1` … `<path>.<maxFiles>`.
   */
  file?: {
    /** Absolute path of the live file. Required. */
    path: string
    /** Rotate before a batch would take the file past this many bytes. Default 64 MiB. */
    maxBytes?: number | undefined
    /** Rotated files kept. Default 5. */
    maxFiles?: number | undefined
    /**
     * Permission bits of the files it creates, exactly (the umask does not apply): a number such as 0o640 or
     * an octal string '0640'. Default 0o600 (owner only: logs often hold secrets). Directories it creates get
     * the same read access (0o700, or 0o750 for 0o640). A symlink at `path` is refused, never followed.
     */
    mode?: number | string | undefined
  } | undefined
  /**
   * Custom sinks, loaded in the worker with `import()`: `[{ target, options }]` as in pino's `targets`.
   * See docs/sinks.md for the Sink API.
   */
  sinks?: SinkOption[] | undefined
  /** Publishes the counters for other processes (`sluice tail`, Prometheus). Set a file, a port or both. */
  stats?: {
    /** Path of a JSON snapshot replaced atomically (temp file + rename) every interval. If it cannot be written (missing directory, no permission) the worker says so once on stderr, keeps logging and retries every interval. */
    file?: string | undefined
    /** Loopback HTTP port serving `/metrics` (Prometheus) and `/stats` (JSON); 0 picks a free port (see `http.port` in the file). */
    port?: number | undefined
    /**
     * Address the HTTP endpoint listens on. Default '127.0.0.1' (this machine only). Set it (e.g. '0.0.0.0')
     * only for a scrape from inside a private network: the endpoint has no authentication and shows the
     * hostname, pid and counters to whoever reaches it. Requests naming another `Host` are refused (421).
     */
    host?: string | undefined
    /** How often the file is rewritten, in ms. Default 1000. */
    intervalMs?: number | undefined
  } | undefined
  /**
   * Keep on local disk what memory cannot hold (a burst the channel refuses, batches the store cannot take within
   * `postgres.retry.budgetMs`, what is left at exit) and replay it, oldest first, once the store takes writes again;
   * a later process replays what an earlier one left (docs/spool.md). Off unless `dir` is given.
   */
  spool?: {
    /** Directory on a local disk, created if missing; each process claims a directory of its own under it. Required. */
    dir: string
    /** Bytes of segment files the spool may hold; past it records are dropped and counted (`dropped_spool_full`). Default 1 GiB. */
    maxBytes?: number | undefined
  } | undefined
}

export interface SinkOption {
  /**
   * The module exporting a sink factory: a package name, a relative path (from the file calling createSluice(),
   * or from the working directory with pino.transport()), an absolute path or a file:// URL. See docs/sinks.md.
   */
  target: string
  /**
   * Handed to the factory as its first argument; must survive structured clone (no functions or symbols):
   * createSluice() checks at once and names the option. Not narrowed in the type, so typed config
   * objects (interfaces) still fit. Default {}.
   */
  options?: Record<string, unknown> | undefined
  /**
   * 'fanout' (default): gets every batch after the stages, keeps its own counts, never changes `written`.
   * 'store': the store of record instead of Postgres; its answer decides written/failed.
   * 'stage': sees every batch first and in order; may rewrite records.
   */
  role?: 'fanout' | 'store' | 'stage' | undefined
  /** Its name in the counters (`sinks.<name>.delivered`). Default: from the target's file or package name. */
  name?: string | undefined
  /** How long one call (write, flush, close) may take before it is abandoned and its batch counted as failed (timeout), in ms. Default 10000. */
  timeoutMs?: number | undefined
  /** Batches waiting for this sink (besides the one it is writing) before new ones are failed as overflow (fan-out only). Default 4. */
  maxQueued?: number | undefined
  /**
   * Stages only. true (the default): when the stage throws, times out, answers nonsense or does not process
   * every record, the records it did not process are not stored but counted `failed_stage` (a redacting stage
   * must fail closed). false: they go on to the store as they are.
   */
  failClosed?: boolean | undefined
}
