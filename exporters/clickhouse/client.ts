import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ClickHouseLogLevel, createClient, type ClickHouseClient, type ClickHouseClientConfigOptions } from '@clickhouse/client';
import { parseDuration } from '../../core/config/duration.js';
import type { ClickhouseConfig, EmbeddedConfig } from './config.js';

/** The embedded data directory is locked by another process (a running tokenledger, whose admin API can answer instead). */
export class EmbeddedPathLocked extends Error {
  constructor(readonly path: string, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

export interface OpenClient {
  client: ClickHouseClient;
  /** Where the data lives, for logs: the embedded path or the server URL. */
  where: string;
  /**
   * Embedded only: hands the pages chDB's allocator (jemalloc) keeps after frees back to the OS.
   * Its decay is tuned for a dedicated server; in a sidecar they are resident memory for nothing.
   */
  release?(): Promise<void>;
  /**
   * Embedded only: inserts JSONEachRow rows handed to chDB as bytes (its raw insert: no SQL text is
   * built around them, and the Buffer reaches the engine without a copy).
   */
  insertRows?(table: string, body: Buffer, settings: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

/**
 * In a cluster, an INSERT into the Distributed table answers once every shard's part of it is on a
 * replica of that shard: an unreachable shard fails the insert, which is retried from the queue,
 * instead of being parked on the receiving node's disk (the asynchronous default) where a crash
 * of that node could lose it and reads could not see it yet. Replicas copy each other
 * asynchronously (≈ 1 s behind), so inserts and reads both go to the first healthy replica of each
 * shard (`in_order`, not the default `random`): a read sees what this process wrote.
 */
export const CLUSTER_SETTINGS = { insert_distributed_sync: 1, load_balancing: 'in_order' } as const;

/** The client's own logger prints every failed request to stderr; the sender logs them, with context, instead. */
const QUIET = { level: ClickHouseLogLevel.OFF };

/**
 * One @clickhouse/client for both modes: embedded plugs chDB in as its connection, so every
 * query and insert takes the same code path. chDB binds one data directory per process (a second
 * directory is refused) and one process per directory (a file lock), hence the explicit errors.
 */
export async function openClient(cfg: ClickhouseConfig, configDir: string): Promise<OpenClient> {
  if (cfg.mode === 'embedded') {
    const path = resolve(configDir, cfg.path);
    const { createChdbConnection } = await import('chdb/connection');
    const { Session, drainPending } = await import('chdb');
    let connection;
    let bounds;
    try {
      // chdb/connection takes no engine arguments; connections to one path share one engine,
      // configured by whichever opens it first: this session, held open until close().
      bounds = new Session(path, { connectionArgs: engineArgs(cfg.embedded) });
      connection = withoutRequestSettings(createChdbConnection({ path }));
    } catch (err) {
      const detail = errorText(err);
      const locked = /lock|another server instance/i.test(detail);
      const hint = locked
        ? 'another process (a running tokenledger?) holds it; stop it, or use mode: server to share one database'
        : /one active data directory/i.test(detail) ? 'this process already has another embedded path open; all clickhouse exporters in one process must share one path' : '';
      bounds?.close();
      const message = `cannot open embedded ClickHouse at ${path}${hint ? `: ${hint}` : ''} (${detail})`;
      throw locked ? new EmbeddedPathLocked(path, message, { cause: err }) : new Error(message, { cause: err });
    }
    const engine = bounds;
    // chdb types its connection against its own copy of @clickhouse/client-common; the interface is
    // the same (chdb's stated contract), only the declarations are two files.
    const client = createClient({ connection: connection as unknown as ClickHouseClientConfigOptions['connection'], log: QUIET });
    return {
      client,
      where: path,
      release: async () => { await client.command({ query: 'SYSTEM JEMALLOC PURGE' }); },
      insertRows: async (table, body, settings) => { await connection.chdb.rawInsert({ table, values: body, format: 'JSONEachRow', settings }); },
      close: async () => {
        await client.close();
        engine.close();
        await drainPending();
      },
    };
  }
  const tls = cfg.tls?.ca_file
    ? {
        ca_cert: readFileSync(resolve(configDir, cfg.tls.ca_file)),
        ...(cfg.tls.cert_file && cfg.tls.key_file
          ? { cert: readFileSync(resolve(configDir, cfg.tls.cert_file)), key: readFileSync(resolve(configDir, cfg.tls.key_file)) }
          : {}),
      }
    : undefined;
  const client = createClient({
    url: cfg.url, username: cfg.username, password: cfg.password, request_timeout: parseDuration(cfg.request_timeout),
    application: 'tokenledger', log: QUIET, ...(tls ? { tls } : {}),
    ...(cfg.cluster ? { clickhouse_settings: CLUSTER_SETTINGS } : {}),
  });
  return { client, where: redact(cfg.url), close: () => client.close() };
}

/** The Connection methods that take a statement and its request settings. */
const STATEMENTS = new Set<string | symbol>(['query', 'command', 'exec', 'insert']);

/**
 * chDB's connection runs request settings (`clickhouse_settings`) as SET statements on its one
 * session, so they stay for every later statement (measured: the calls insert's
 * insert_deduplication_token made the next rollup and reconciliation inserts duplicates, dropped
 * in silence). Embedded statements carry their settings in their own SETTINGS clause; request
 * settings are refused here, loudly, instead of leaking.
 */
function withoutRequestSettings<C extends object>(connection: C): C {
  return new Proxy(connection, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      if (!STATEMENTS.has(prop)) return value.bind(target);
      return (params: { clickhouse_settings?: Record<string, unknown> }) => {
        const names = Object.entries(params.clickhouse_settings ?? {}).filter(([, v]) => v !== undefined).map(([k]) => k);
        if (names.length > 0) {
          return Promise.reject(new Error(`embedded ClickHouse: request settings (${names.join(', ')}) would stay on chDB's session for every later statement; put them in the statement's SETTINGS clause`));
        }
        return value.call(target, params) as unknown;
      };
    },
  });
}

/**
 * Server settings bounding chDB's memory. ClickHouse sizes its defaults for a dedicated host (90 %
 * of RAM; 5 GiB mark, primary-key and skip-index caches), a sidecar shares its host.
 */
export function engineArgs(e: EmbeddedConfig): string[] {
  const mib = (n: number): number => n * 1024 * 1024;
  const cache = mib(e.cache_mib);
  return [
    `--max_server_memory_usage=${mib(e.max_memory_mib)}`,
    `--mark_cache_size=${cache}`,
    `--primary_index_cache_size=${cache}`,
    `--index_mark_cache_size=${cache}`,
    `--query_condition_cache_size=${cache}`,
  ];
}

/** The URL for logs: credentials written into it are not. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable url)'; // the client reports the bad URL itself, with detail
  }
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.cause instanceof Error && err.cause.message !== err.message ? `${err.message}: ${err.cause.message}` : err.message;
  return String(err);
}
