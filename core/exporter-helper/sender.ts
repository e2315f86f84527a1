import { setTimeout as sleep } from 'node:timers/promises';
import { parseDuration } from '../config/duration.js';
import { PermanentError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DeclaredMetrics } from '../metric-spec.js';
import type { SelfMetrics } from '../self-metrics.js';
import { backoffDelay, retryBudgetExhausted } from './backoff.js';
import { pushIsolating } from './bisect.js';
import type { BatchConfig, RetryConfig } from './config.js';
import { exporterHelperMetrics } from './metrics.js';
import type { ExportQueue } from './queue.js';

const REFUSED_LOG_INTERVAL_MS = 10_000;
const QUEUE_ERROR_PAUSE_MS = 1000;

export interface QueuedSenderOptions {
  /** Exporter id, the `exporter` label of the self-metrics. */
  id: string;
  queue: ExportQueue;
  batch: BatchConfig;
  retry: RetryConfig;
  /**
   * Delivers one batch. Throw PermanentError when the destination will never take it; resolve
   * with the number of records dropped as bad when only some of them were (default 0).
   */
  send(records: string[]): Promise<number | void>;
  /**
   * When given, a batch rejected as permanently bad is halved until the bad records are alone
   * (bisect.ts); each of those is handed here (for the exporter's log line) and counted as failed.
   */
  isolated?(record: string, err: PermanentError): void;
  logger: Logger;
  metrics: SelfMetrics;
  random?: () => number;
}

/**
 * The background half of a queued exporter (the collector's queue sender + retry sender): one
 * loop takes up to batch.max_rows records from the head of the queue once that many are queued
 * or the oldest has waited batch.max_delay, sends them, retries with backoff while the error
 * is retryable, and acks them once sent (or once given up on, counted as failed). One batch is in
 * flight at a time, which keeps acks in queue order.
 */
export class QueuedSender {
  private readonly m: DeclaredMetrics<typeof exporterHelperMetrics>;
  private readonly send: (records: string[]) => Promise<number | void>;
  private readonly maxDelayMs: number;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: AbortController = new AbortController();
  private stopRetrying: AbortController = new AbortController();
  private gaugeTimer: NodeJS.Timeout | undefined;
  private flushWaiters: (() => void)[] = [];
  private lastRefusedLog = 0;
  private refusedSinceLog = 0;

  constructor(private readonly o: QueuedSenderOptions) {
    this.m = o.metrics.declare(exporterHelperMetrics);
    this.maxDelayMs = parseDuration(o.batch.max_delay);
    const push = (records: string[]): Promise<number | void> => o.send(records);
    this.send = o.isolated ? (records) => pushIsolating(records, push, (r, err) => o.isolated?.(r, err)) : push;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopRetrying = new AbortController();
    this.gaugeTimer = setInterval(() => this.updateGauges(), 1000);
    this.gaugeTimer.unref();
    this.updateGauges();
    this.loop = this.run();
  }

  /** Accepts records; resolves once the queue holds them. Rejects with a RetryableError when full. */
  async enqueue(records: string[]): Promise<void> {
    try {
      await this.o.queue.push(records);
    } catch (err) {
      this.m.refused.inc({ exporter: this.o.id }, records.length);
      this.refusedSinceLog += records.length;
      // Under overload every request is refused: one line per interval, not one per request.
      if (Date.now() - this.lastRefusedLog >= REFUSED_LOG_INTERVAL_MS) {
        this.o.logger.warn('exporter queue refused rows; clients are told to retry', {
          rows: this.refusedSinceLog, reason: err instanceof Error ? err.message : String(err),
          queue_rows: this.o.queue.rows, queue_bytes: this.o.queue.bytes,
        });
        this.lastRefusedLog = Date.now();
        this.refusedSinceLog = 0;
      }
      throw err;
    }
    this.updateGauges();
    if (this.o.queue.rows >= this.o.batch.max_rows) this.wake.abort();
  }

  /** Resolves once the queue is empty: everything sent or dropped (tests, benchmarks, spend queries). */
  async flush(): Promise<void> {
    if (this.o.queue.rows === 0 || !this.running) return;
    await new Promise<void>((resolve) => { this.flushWaiters.push(resolve); this.wake.abort(); });
  }

  /**
   * Stops the loop: no new retries start, the batch in flight finishes or fails, and what is
   * left stays queued (on disk it is sent after the restart; in memory it is counted as failed).
   * Waits at most `graceMs` for a last drain of what can be sent at once.
   */
  async shutdown(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.running = false;
    const grace = setTimeout(() => this.stopRetrying.abort(), graceMs);
    this.wake.abort();
    await this.loop;
    clearTimeout(grace);
    clearInterval(this.gaugeTimer);
    const left = this.o.queue.rows;
    if (left > 0 && !this.o.queue.persistent) {
      this.m.failed.inc({ exporter: this.o.id }, left);
      this.o.logger.error('shutdown with rows still in the memory queue; they are lost (use queue.type: disk to keep them)', { rows: left });
    } else if (left > 0) {
      this.o.logger.info('shutdown with rows in the disk queue; they are sent after the restart', { rows: left });
    }
    this.updateGauges();
    for (const w of this.flushWaiters.splice(0)) w();
  }

  private async run(): Promise<void> {
    for (;;) {
      try {
        if (!(await this.step())) return;
      } catch (err) {
        // The queue itself failed (disk I/O): keep the loop alive, the rows are still there.
        this.o.logger.error('exporter queue read or ack failed; retrying', { err });
        await sleep(QUEUE_ERROR_PAUSE_MS, undefined, { signal: this.stopRetrying.signal }).catch(ignoreAbort);
        if (this.stopRetrying.signal.aborted) return;
      }
    }
  }

  /** One turn of the loop; false when the loop is to end. */
  private async step(): Promise<boolean> {
    if (!this.running) {
      if (this.o.queue.rows === 0 || this.stopRetrying.signal.aborted) return false;
    } else if (!this.due()) {
      await this.idle();
      return true;
    }
    const records = await this.o.queue.peek(this.o.batch.max_rows);
    if (records.length === 0) {
      for (const w of this.flushWaiters.splice(0)) w();
      if (!this.running) return false;
      await this.idle();
      return true;
    }
    if (!(await this.deliver(records))) return false; // shutting down with the batch still queued
    await this.o.queue.ack(records.length);
    this.updateGauges();
    if (this.o.queue.rows === 0) for (const w of this.flushWaiters.splice(0)) w();
    return true;
  }

  private due(): boolean {
    const q = this.o.queue;
    if (q.rows === 0) return false;
    if (q.rows >= this.o.batch.max_rows || this.flushWaiters.length > 0) return true;
    const oldest = q.oldestMs;
    return oldest !== undefined && Date.now() - oldest >= this.maxDelayMs;
  }

  /** Sleeps until the oldest row is due, a push fills a batch, or flush/shutdown is asked for. */
  private async idle(): Promise<void> {
    const oldest = this.o.queue.oldestMs;
    const wait = oldest === undefined ? this.maxDelayMs : Math.max(1, oldest + this.maxDelayMs - Date.now());
    if (!this.wake.signal.aborted) await sleep(wait, undefined, { signal: this.wake.signal }).catch(ignoreAbort);
    this.wake = new AbortController();
  }

  /** Sends with retries. True when the batch is done with (sent or dropped), false to leave it queued. */
  private async deliver(records: string[]): Promise<boolean> {
    const { id, retry, logger } = this.o;
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      const end = this.m.sendSeconds.startTimer({ exporter: id });
      try {
        const dropped = (await this.send(records)) ?? 0;
        end();
        this.m.sent.inc({ exporter: id }, records.length - dropped);
        if (dropped > 0) this.m.failed.inc({ exporter: id }, dropped);
        if (attempt > 1) logger.info('batch delivered after retries', { rows: records.length, attempts: attempt });
        return true;
      } catch (err) {
        end();
        if (err instanceof PermanentError) {
          this.m.failed.inc({ exporter: id }, records.length);
          logger.error('batch rejected permanently; rows dropped', { rows: records.length, err });
          return true;
        }
        const delay = backoffDelay(attempt, retry, this.o.random);
        if (retryBudgetExhausted(started, Date.now(), delay, retry)) {
          this.m.failed.inc({ exporter: id }, records.length);
          logger.error('batch dropped after retry.max_elapsed; raise it (0s = forever) to keep rows through longer outages', { rows: records.length, attempts: attempt, err });
          return true;
        }
        if (this.stopRetrying.signal.aborted) return false;
        this.m.retries.inc({ exporter: id });
        logger.warn('batch send failed; retrying', { rows: records.length, attempt, retry_in_ms: delay, err });
        const aborted = await sleep(delay, false, { signal: this.stopRetrying.signal }).catch(() => true);
        if (aborted) return false;
      }
    }
  }

  private updateGauges(): void {
    const { queue, id } = this.o;
    this.m.queueRows.set({ exporter: id }, queue.rows);
    this.m.queueBytes.set({ exporter: id }, queue.bytes);
    const oldest = queue.oldestMs;
    this.m.oldestAge.set({ exporter: id }, oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest) / 1000));
  }
}

function ignoreAbort(err: unknown): void {
  if (!(err instanceof Error && err.name === 'AbortError')) throw err;
}
