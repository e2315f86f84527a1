import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { Counter } from 'prom-client';
import type { Batch } from '../../core/batch.js';
import type { ComponentContext, Exporter } from '../../core/component.js';
import { PermanentError } from '../../core/errors.js';
import { DiskQueue } from '../../core/exporter-helper/disk-queue.js';
import { MemoryQueue } from '../../core/exporter-helper/memory-queue.js';
import { exporterMetrics } from '../../core/exporter-helper/metrics.js';
import type { ExportQueue } from '../../core/exporter-helper/queue.js';
import { QueuedSender } from '../../core/exporter-helper/sender.js';
import type { LlmCall } from '../../core/llm-call.js';
import { errorText, openClient, type OpenClient } from './client.js';
import type { ClickhouseConfig } from './config.js';
import { SCHEMA_MISSING, classify, clickhouseCode } from './errors.js';
import { featuresOf, type ServerFeatures } from './features.js';
import { Rollup } from './rollup.js';
import { encodeRecord, insertBody, invalidReason, recordDay, recordRow, VersionClock } from './rows.js';
import { migrate, readLayout, type Layout } from './schema.js';
import { spendStore } from './spend-store.js';

/** The call_id of a row line (rows start with it, see toRow), for logs that must not carry content. */
function callIdOf(row: string): string {
  const m = /^\{"call_id":("(?:[^"\\]|\\.)*")/.exec(row);
  return m ? (JSON.parse(m[1]) as string) : '';
}

const sha1Hex = (body: string | Buffer): string => createHash('sha1').update(body).digest('hex');

/** Longest a spend query waits for queued rows to be delivered before it reads. */
const READ_DRAIN_MS = 5000;

interface Ready {
  conn: OpenClient;
  client: OpenClient['client'];
  features: ServerFeatures;
  layout: Layout;
  rollup: Rollup;
  /** The start-up comparison of rollup and calls table; failures are logged, never thrown. */
  reconciled: Promise<void>;
}

/**
 * consume() encodes calls and updates into the queue and resolves once the queue has them (on
 * disk: fsynced), which is what the receiver's answer waits for. A QueuedSender drains the queue
 * into ClickHouse in batches. Connecting and creating the schema happen on start and, when the
 * server is down then, again before each send until it answers: rows queue up meanwhile.
 */
export class ClickhouseExporter implements Exporter {
  private readonly queue: ExportQueue;
  private readonly sender: QueuedSender;
  private readonly clock = new VersionClock();
  private readonly failed: Counter<'exporter'>;
  private conn: OpenClient | undefined;
  /** Layout of the table once known: rows are then serialized for it at consume. */
  private layout: Layout | undefined;
  private connecting: Promise<Ready> | undefined;
  private rollupTimer: NodeJS.Timeout | undefined;
  /** Cleared when the engine cannot release memory (a chDB built without jemalloc). */
  private releasing = true;

  constructor(private readonly cfg: ClickhouseConfig, private readonly ctx: ComponentContext) {
    this.queue = cfg.queue.type === 'disk'
      ? new DiskQueue(resolve(ctx.configDir, cfg.queue.path), cfg.queue.max_bytes)
      : new MemoryQueue(cfg.queue.max_bytes);
    this.sender = new QueuedSender({
      id: ctx.id, queue: this.queue, batch: cfg.batch, retry: cfg.retry, logger: ctx.logger, metrics: ctx.metrics,
      send: (records) => this.send(records),
    });
    this.failed = exporterMetrics(ctx.metrics).failed;
    // Provided at creation, not start, so that it is there whatever order the exporters start in.
    ctx.host.provide('spendStore', spendStore(() => this.readyToRead(), cfg.database, cfg.table));
  }

  async start(): Promise<void> {
    await this.queue.open();
    try {
      const r = await this.ready();
      this.ctx.logger.info('clickhouse exporter ready', { where: r.conn.where, version: r.features.version, queue: this.cfg.queue.type, queued_rows: this.queue.rows });
    } catch (err) {
      // An embedded path that cannot be opened will not fix itself; a server may come back.
      if (this.cfg.mode === 'embedded') {
        await this.queue.close();
        await this.conn?.close();
        this.conn = undefined;
        throw err;
      }
      this.ctx.logger.warn('ClickHouse is not reachable at start; rows are queued and sent once it answers', { url: this.cfg.url, err: errorText(err) });
    }
    this.sender.start();
    this.rollupTimer = setInterval(() => { void this.refreshRollup(); }, this.cfg.rollup_refresh_ms);
    this.rollupTimer.unref();
  }

  async consume(batch: Batch): Promise<void> {
    const n = batch.calls.length + batch.updates.length;
    if (n === 0) return;
    const records: string[] = [];
    this.encode(batch.calls, records);
    this.encode(batch.updates, records);
    if (records.length > 0) await this.sender.enqueue(records);
  }

  private encode(calls: LlmCall[], out: string[]): void {
    const now = Date.now();
    for (const call of calls) {
      const reason = invalidReason(call);
      if (reason) {
        this.failed.inc({ exporter: this.ctx.id });
        this.ctx.logger.error('call dropped: it cannot be stored', { call_id: call.call_id, reason });
        continue;
      }
      out.push(encodeRecord(call, this.clock.next(now), this.layout));
    }
  }

  /** Connects and prepares the schema once; a failed attempt is retried by the next caller. */
  private ready(): Promise<Ready> {
    this.connecting ??= this.connect().catch((err: unknown) => { this.connecting = undefined; throw err; });
    return this.connecting;
  }

  private async connect(): Promise<Ready> {
    const { cfg, ctx } = this;
    this.conn ??= await openClient(cfg, ctx.configDir);
    const client = this.conn.client;
    const rs = await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' });
    const [{ v }] = await rs.json<{ v: string }>();
    const features = featuresOf(v);
    if (cfg.ttl_days && !features.ttl) ctx.logger.warn('ttl_days ignored: this ClickHouse version has no table TTL', { version: v });
    if (cfg.create_schema) {
      await migrate(client, { database: cfg.database, table: cfg.table, cluster: cfg.cluster, ttlDays: cfg.ttl_days, features }, ctx.logger);
    }
    const layout = await readLayout(client, cfg.database, cfg.table);
    this.layout = layout;
    const rollup = new Rollup(client, cfg.database, cfg.table, ctx.logger, cfg.cluster !== undefined);
    const reconciled = rollup.reconcile().then(
      () => undefined,
      (err: unknown) => ctx.logger.warn('daily rollup reconciliation failed; it is retried on the next start', { err: errorText(err) }),
    );
    return { conn: this.conn, client, features, layout, rollup, reconciled };
  }

  /**
   * Spend questions (budgets restored after a restart) should see rows still in the queue too:
   * give the sender a bounded moment to deliver them first.
   */
  private async readyToRead(): Promise<Ready> {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => { timer = setTimeout(resolve, READ_DRAIN_MS); });
    await Promise.race([this.sender.flush(), bound]);
    clearTimeout(timer);
    return this.ready();
  }

  /** Resolves with the number of records dropped as bad (the sender counts them as failed). */
  private async send(records: string[]): Promise<number> {
    const ready = await this.ready();
    const rows: string[] = [];
    const days = new Set<string>();
    let dropped = 0;
    for (const record of records) {
      try {
        rows.push(recordRow(record, ready.layout));
        days.add(recordDay(record));
      } catch (err) {
        dropped++;
        this.ctx.logger.error('queued record cannot be read; dropped', { record_start: record.slice(0, 40), err: errorText(err) });
      }
    }
    dropped += await this.insertIsolating(ready, rows);
    ready.rollup.mark(days);
    await this.release(ready.conn);
    return dropped;
  }

  /** After an embedded insert: the memory it and the merges it caused freed goes back to the OS now. */
  private async release(conn: OpenClient): Promise<void> {
    if (!conn.release || !this.releasing) return;
    try {
      await conn.release();
    } catch (err) {
      this.releasing = false;
      this.ctx.logger.warn('embedded ClickHouse cannot release freed memory; its memory use may stay higher', { err: errorText(err) });
    }
  }

  /**
   * Inserts rows; when ClickHouse rejects them as bad data, halves the batch until each bad row
   * is alone and drops only those, so one malformed call does not cost the other thousands.
   * Returns how many were dropped.
   */
  private async insertIsolating(ready: Ready, rows: string[]): Promise<number> {
    if (rows.length === 0) return 0;
    try {
      await this.insert(ready, rows);
      return 0;
    } catch (err) {
      if (!(err instanceof PermanentError)) throw err;
      if (rows.length === 1) {
        this.ctx.logger.error('call rejected by ClickHouse; dropped', { call_id: callIdOf(rows[0]), err: err.message });
        return 1;
      }
      const mid = rows.length >>> 1;
      return (await this.insertIsolating(ready, rows.slice(0, mid))) + (await this.insertIsolating(ready, rows.slice(mid)));
    }
  }

  private async insert({ conn, client, features }: Ready, rows: string[]): Promise<void> {
    // The rows are JSONEachRow already: sent as they are, not re-encoded. Same rows → same token:
    // a batch re-sent after a timeout or a crash is dropped by the server (22.2+); older servers
    // rely on ReplacingMergeTree and FINAL alone.
    const table = `${this.cfg.database}.${this.cfg.table}`;
    try {
      if (conn.insertRows) {
        const body = insertBody(rows);
        await conn.insertRows(table, body, features.dedupToken ? { insert_deduplication_token: sha1Hex(body) } : {});
      } else {
        const text = rows.join('\n') + '\n';
        await client.command({ query: `INSERT INTO ${table} FORMAT JSONEachRow\n${text}`, clickhouse_settings: features.dedupToken ? { insert_deduplication_token: sha1Hex(text) } : {} });
      }
    } catch (err) {
      const code = clickhouseCode(err);
      if (code !== undefined && SCHEMA_MISSING.has(code)) this.connecting = undefined;
      throw classify(err);
    }
  }

  /** Sends everything queued now and brings the rollup up to date (tests, benchmarks). Waits while ClickHouse is down. */
  async flush(): Promise<void> {
    await this.sender.flush();
    const r = await this.ready();
    await r.reconciled;
    await r.rollup.refresh();
  }

  private async refreshRollup(): Promise<void> {
    // Not connected (yet): nothing was inserted, so nothing to roll up; the connect error is logged by the sender.
    const r = await this.connecting?.catch(() => undefined);
    if (!r) return;
    await r.rollup.refresh().catch((err: unknown) => this.ctx.logger.warn('daily rollup refresh failed; retried next round', { err: errorText(err) }));
  }

  async shutdown(): Promise<void> {
    clearInterval(this.rollupTimer);
    await this.sender.shutdown();
    await (await this.connecting?.catch(() => undefined))?.reconciled; // a failed connect has nothing to wait for
    await this.refreshRollup();
    await this.queue.close();
    await this.conn?.close();
    this.conn = undefined;
    this.connecting = undefined;
  }
}
