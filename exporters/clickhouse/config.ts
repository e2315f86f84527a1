import { durationSchema } from '../../core/config/duration.js';
import { DEFAULT_BATCH, DEFAULT_QUEUE_MAX_BYTES, DEFAULT_RETRY, batchSchema, queueSchema, retrySchema, type BatchConfig, type QueueConfig, type RetryConfig } from '../../core/exporter-helper/config.js';

export interface TlsConfig {
  ca_file?: string;
  cert_file?: string;
  key_file?: string;
}

/** Embedded mode: bounds on chDB's native memory (server settings, fixed when the data directory is opened). */
export interface EmbeddedConfig {
  max_memory_mib: number;
  cache_mib: number;
}

export interface ClickhouseConfig {
  mode: 'embedded' | 'server';
  path: string;
  embedded: EmbeddedConfig;
  url: string;
  username: string;
  password: string;
  database: string;
  table: string;
  tls?: TlsConfig;
  create_schema: boolean;
  ttl_days?: number;
  cluster?: string;
  /** Durations (`30s`). */
  request_timeout: string;
  rollup_refresh: string;
  batch: BatchConfig;
  queue: QueueConfig;
  retry: RetryConfig;
}

export const DEFAULT_EMBEDDED_PATH = './data/clickhouse';
export const DEFAULT_QUEUE_PATH = './data/queue/clickhouse';
export const DEFAULT_DATABASE = 'tokenledger';
export const DEFAULT_TABLE = 'llm_calls';

export const defaults: ClickhouseConfig = {
  mode: 'embedded',
  path: DEFAULT_EMBEDDED_PATH,
  embedded: { max_memory_mib: 1024, cache_mib: 64 },
  url: 'http://127.0.0.1:8123',
  username: 'default',
  password: '',
  database: DEFAULT_DATABASE,
  table: DEFAULT_TABLE,
  create_schema: true,
  request_timeout: '30s',
  rollup_refresh: '10s',
  batch: { ...DEFAULT_BATCH },
  queue: { type: 'disk', path: DEFAULT_QUEUE_PATH, max_bytes: DEFAULT_QUEUE_MAX_BYTES },
  retry: { ...DEFAULT_RETRY },
};

/** Identifiers end up in DDL unquoted, so they are restricted to what needs no quoting. */
const identifier = { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', maxLength: 64 } as const;

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'clickhouse exporter',
  description: 'Writes one row per LlmCall into ClickHouse: embedded chDB (no service needed) or a ClickHouse server or cluster.',
  type: 'object',
  additionalProperties: false,
  renamedKeys: { request_timeout_ms: 'request_timeout', rollup_refresh_ms: 'rollup_refresh' },
  properties: {
    mode: { enum: ['embedded', 'server'], default: defaults.mode, description: '`embedded`: chDB inside this process, data under `path`. `server`: a ClickHouse server at `url`.' },
    path: { type: 'string', minLength: 1, default: defaults.path, description: 'Embedded mode: data directory, relative to the config file. Only one process can open it at a time.' },
    embedded: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: "Embedded mode: bounds on chDB's own memory. ClickHouse sizes them for a dedicated server (90 % of RAM, 5 GiB caches); a sidecar needs far less. Applied when the process opens the data directory: a change takes effect on restart or reload.",
      properties: {
        max_memory_mib: { type: 'integer', minimum: 64, maximum: 1_048_576, default: defaults.embedded.max_memory_mib, description: 'Most memory chDB may hold for all its inserts, merges and queries together (ClickHouse `max_server_memory_usage`). An insert that would exceed it fails and is retried; its rows wait in the queue.' },
        cache_mib: { type: 'integer', minimum: 0, maximum: 65_536, default: defaults.embedded.cache_mib, description: "Size of each of chDB's mark, primary-key, skip-index and query-condition caches (ClickHouse defaults: 5 GiB, 5 GiB, 5 GiB, 100 MiB), which otherwise grow as spend queries read an ever larger table." },
      },
    },
    url: { type: 'string', pattern: '^https?://', default: defaults.url, description: 'Server mode: HTTP(S) endpoint of ClickHouse.' },
    username: { type: 'string', default: defaults.username, description: 'Server mode: user name.' },
    password: { type: 'string', default: defaults.password, description: 'Server mode: password; write `${env:CLICKHOUSE_PASSWORD}` rather than the secret itself.' },
    database: { ...identifier, default: defaults.database, description: 'Database of the tables; created when create_schema is true.' },
    table: { ...identifier, default: defaults.table, description: 'Table of the calls. The daily rollup is `<table>_daily`, migrations are recorded in `schema_migrations`.' },
    tls: {
      type: 'object',
      additionalProperties: false,
      description: 'Server mode over https: custom CA and optional client certificate (mutual TLS), as PEM files relative to the config file.',
      properties: {
        ca_file: { type: 'string', minLength: 1, description: 'CA certificate that signed the server certificate.' },
        cert_file: { type: 'string', minLength: 1, description: 'Client certificate, with key_file, for mutual TLS.' },
        key_file: { type: 'string', minLength: 1, description: 'Private key of cert_file.' },
      },
    },
    create_schema: { type: 'boolean', default: defaults.create_schema, description: 'Create the database, tables and rollup on start and apply pending migrations. Set false where DDL is managed by hand; the tables must then exist.' },
    ttl_days: { type: 'integer', minimum: 1, maximum: 36_500, description: 'Delete calls older than this many days (ClickHouse TTL; ignored by servers older than 19.6). Unset keeps them forever.' },
    cluster: { ...identifier, description: 'Cluster name from the server config: DDL runs ON CLUSTER with Replicated engines, inserts and queries go through a Distributed table sharded by call_id.' },
    request_timeout: durationSchema(defaults.request_timeout, 'Server mode: timeout of one HTTP request; a timed-out insert is retried (inserts are idempotent).', { min: '100ms', max: '10m' }),
    rollup_refresh: durationSchema(defaults.rollup_refresh, 'How often the days that received rows are re-aggregated into the daily rollup table.', { min: '100ms', max: '24h' }),
    batch: batchSchema,
    queue: queueSchema(DEFAULT_QUEUE_PATH),
    retry: retrySchema,
  },
} as const;
