import { createHash } from 'node:crypto';
import type { Batch } from '../../core/batch.js';
import type { ComponentContext, Exporter } from '../../core/component.js';
import { parseDuration } from '../../core/config/duration.js';
import { QueuedExporter } from '../../core/exporter-helper/queued-exporter.js';
import type { LlmCall } from '../../core/llm-call.js';
import { errorText, openClient, type OpenClient } from './client.js';
import type { ClickhouseConfig } from './config.js';
import { SCHEMA_MISSING, classify, clickhouseCode } from './errors.js';
import { featuresOf, type ServerFeatures } from './features.js';
import { Rollup } from './rollup.js';
import { encodeRecord, insertBody, invalidReason, recordCallId, recordDay, recordRow, VersionClock } from './rows.js';
import { migrate, readLayout, type Layout } from './schema.js';
import { reconciliationStore, usageStore } from './ledger.js';
import type { Source } from './api/query.js';
import { registerApi } from './api/routes.js';
import { spendStore } from './spend-store.js';
import { sqlString } from './sql.js';

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
 * The ClickHouse destination of a QueuedExporter (core/exporter-helper), which owns the queue,
 * retries, self-metrics and shutdown order: this class encodes calls as queue records, pushes batches
 * of them as inserts, and keeps the daily rollup. Connecting and creating the schema happen on start
 * and, when the server is down then, again before each push until it answers: rows queue up meanwhile.
 */
export class ClickhouseExporter implements Exporter {
  private readonly out: QueuedExporter;
  private readonly clock = new VersionClock();
  private conn: OpenClient | undefined;
  /** Layout of the table once known: rows are then serialized for it at consume. */
  private layout: Layout | undefined;
  private connecting: Promise<Ready> | undefined;
  private rollupTimer: NodeJS.Timeout | undefined;
  /** Cleared when the engine cannot release memory (a chDB built without jemalloc). */
  private releasing = true;
  /** Between start and shutdown: the spend API answers only then. */
  private serving = false;

  constructor(private readonly cfg: ClickhouseConfig, private readonly ctx: ComponentContext) {
    this.out = new QueuedExporter(ctx, cfg, {
      encode: (batch, drop) => this.encode(batch, drop),
      push: (records) => this.push(records),
      isolated: (record, err) => ctx.logger.error('call rejected by ClickHouse; dropped', { call_id: recordCallId(record), err: err.message }),
      start: () => this.open(),
      close: () => this.close(),
    });
    // Provided at creation; a component naming this one (the budget exporter's `ledger`) starts after it.
    ctx.host.provide('spendStore', spendStore(() => this.readyToRead(), cfg.database, cfg.table), ctx.id);
    ctx.host.provide('usageStore', usageStore(() => this.readyToRead(), cfg.database, cfg.table), ctx.id);
    ctx.host.provide('reconciliationStore', reconciliationStore(() => this.ready(), cfg.database), ctx.id);
    // Registered in configuration order, so the first clickhouse exporter owns /api/v1/spend whatever the start order.
    registerApi(ctx.host.adminRoutes, ctx.id, () => this.readSource(), ctx.logger, ctx.metrics);
  }

  start(): Promise<void> {
    return this.out.start();
  }

  consume(batch: Batch): Promise<void> {
    return this.out.consume(batch);
  }

  shutdown(): Promise<void> {
    this.serving = false;
    return this.out.shutdown();
  }

  /** Connects (the queue is open, sending not started yet). */
  private async open(): Promise<void> {
    try {
      const r = await this.ready();
      this.ctx.logger.info('clickhouse exporter ready', { where: r.conn.where, version: r.features.version, queue: this.cfg.queue.type, queued_rows: this.out.queuedRows });
    } catch (err) {
      // An embedded path that cannot be opened will not fix itself; a server may come back.
      if (this.cfg.mode === 'embedded') {
        await this.conn?.close();
        this.conn = undefined;
        throw err;
      }
      this.ctx.logger.warn('ClickHouse is not reachable at start; rows are queued and sent once it answers', { url: this.cfg.url, err: errorText(err) });
    }
    this.rollupTimer = setInterval(() => { void this.refreshRollup(); }, parseDuration(this.cfg.rollup_refresh));
    this.rollupTimer.unref();
    this.serving = true;
  }

  /** Rows are serialized once, here, in the table's layout when it is known. */
  private encode(batch: Batch, drop: (call: LlmCall, reason: string) => void): string[] {
    const now = Date.now();
    const out: string[] = [];
    for (const [calls, versions] of [[batch.calls, batch.callVersions], [batch.updates, batch.updateVersions]] as const) {
      for (let i = 0; i < calls.length; i++) {
        const call = calls[i];
        const reason = invalidReason(call);
        if (reason) drop(call, reason);
        else out.push(encodeRecord(call, versions?.[i] ?? this.clock.next(now), this.layout));
      }
    }
    return out;
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
    await Promise.race([this.out.flush(), bound]);
    clearTimeout(timer);
    return this.ready();
  }

  private async readSource(): Promise<Source> {
    if (!this.serving) throw new Error(`the ${this.ctx.id} exporter is not running (starting or stopping)`);
    const { client, layout } = await this.readyToRead();
    return { client, layout, database: this.cfg.database, table: this.cfg.table, embedded: this.cfg.mode === 'embedded' };
  }

  /**
   * One insert of queued records. ClickHouse's rejection of bad data is a PermanentError
   * (errors.ts): the helper then bisects the batch down to the bad rows. Resolves with the number of
   * records that could not be read (the helper counts them as failed).
   */
  private async push(records: string[]): Promise<number> {
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
    if (rows.length > 0) await this.insert(ready, rows);
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

  private async insert({ conn, client, features }: Ready, rows: string[]): Promise<void> {
    // The rows are JSONEachRow already: sent as they are, not re-encoded. Same rows → same token:
    // a batch re-sent after a timeout or a crash is dropped by the server (22.2+); older servers
    // rely on ReplacingMergeTree and FINAL alone. The token goes in the statement's SETTINGS clause
    // (chDB's raw insert writes it there), never in request settings, which chDB keeps on its
    // session for every later statement (client.ts).
    const table = `${this.cfg.database}.${this.cfg.table}`;
    try {
      if (conn.insertRows) {
        const body = insertBody(rows);
        await conn.insertRows(table, body, features.dedupToken ? { insert_deduplication_token: sha1Hex(body) } : {});
      } else {
        const text = rows.join('\n') + '\n';
        const settings = features.dedupToken ? ` SETTINGS insert_deduplication_token = ${sqlString(sha1Hex(text))}` : '';
        await client.command({ query: `INSERT INTO ${table}${settings} FORMAT JSONEachRow\n${text}` });
      }
    } catch (err) {
      const code = clickhouseCode(err);
      if (code !== undefined && SCHEMA_MISSING.has(code)) this.connecting = undefined;
      throw classify(err);
    }
  }

  /** Sends everything queued now and brings the rollup up to date (tests, benchmarks). Waits while ClickHouse is down. */
  async flush(): Promise<void> {
    await this.out.flush();
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

  /** After the queue drained: the rollup brought up to date, then the connection closed. */
  private async close(): Promise<void> {
    clearInterval(this.rollupTimer);
    await (await this.connecting?.catch(() => undefined))?.reconciled; // a failed connect has nothing to wait for
    await this.refreshRollup();
    await this.conn?.close();
    this.conn = undefined;
    this.connecting = undefined;
  }
}
