import { resolve } from 'node:path';
import type { Counter } from 'prom-client';
import type { Batch } from '../batch.js';
import type { ComponentContext, Exporter } from '../component.js';
import { RetryableError, type PermanentError } from '../errors.js';
import type { LlmCall } from '../llm-call.js';
import type { BatchConfig, QueueConfig, RetryConfig } from './config.js';
import { DiskQueue } from './disk-queue.js';
import { MemoryQueue } from './memory-queue.js';
import { exporterHelperMetrics } from './metrics.js';
import type { ExportQueue } from './queue.js';
import { QueuedSender } from './sender.js';

/** How long shutdown keeps retrying what is still queued before it leaves it (on disk: for the restart). */
const SHUTDOWN_GRACE_MS = 5000;

/** The queue, batch and retry blocks of an exporter's config (config.ts has their schemas). */
export interface QueuedSettings {
  batch: BatchConfig;
  queue: QueueConfig;
  retry: RetryConfig;
}

/** What an exporter hands to the helper: its destination, seen as encode and push. */
export interface Destination {
  /** Encodes a batch's calls and updates as queue records (no newline inside); a call that can never be stored goes to `drop` with why. */
  encode(batch: Batch, drop: (call: LlmCall, reason: string) => void): string[];
  /**
   * Delivers one batch of records. Throw PermanentError for data the destination will never take,
   * any other error to have the batch retried with backoff; resolve with the number of records
   * dropped as unreadable (default 0).
   */
  push(records: string[]): Promise<number | void>;
  /** When given, a rejected batch is bisected down to its bad records, each handed here for the exporter's log line. */
  isolated?(record: string, err: PermanentError): void;
  /** Runs once the queue is open, before sending starts; a throw fails the exporter's start. */
  start?(): Promise<void>;
  /** Releases the destination: the last step of shutdown, after intake stopped and the queue drained. */
  close?(): Promise<void>;
}

function createQueue(cfg: QueueConfig, configDir: string): ExportQueue {
  return cfg.type === 'disk' ? new DiskQueue(resolve(configDir, cfg.path), cfg.max_bytes) : new MemoryQueue(cfg.max_bytes);
}

/**
 * A queued exporter (the collector's exporterhelper): consume() encodes a batch into the queue
 * chosen by `queue.type` and resolves once the queue holds it (disk: fsynced), which is what the
 * receiver's answer waits for; a background sender pushes batches to the destination with retry and
 * backoff. Shutdown stops intake, drains what can be sent within a grace period, then closes the
 * destination and the queue.
 */
export class QueuedExporter implements Exporter {
  private readonly queue: ExportQueue;
  private readonly sender: QueuedSender;
  private readonly failed: Counter<'exporter'>;
  private readonly intake = new Set<Promise<void>>();
  private stopping = false;
  private readonly drop = (call: LlmCall, reason: string): void => {
    this.failed.inc({ exporter: this.ctx.id });
    this.ctx.logger.error('call dropped: it cannot be stored', { call_id: call.call_id, reason });
  };

  constructor(private readonly ctx: ComponentContext, settings: QueuedSettings, private readonly dest: Destination) {
    this.queue = createQueue(settings.queue, ctx.configDir);
    this.failed = ctx.metrics.declare(exporterHelperMetrics).failed;
    this.sender = new QueuedSender({
      id: ctx.id, queue: this.queue, batch: settings.batch, retry: settings.retry, logger: ctx.logger, metrics: ctx.metrics,
      send: (records) => dest.push(records),
      ...(dest.isolated ? { isolated: (record: string, err: PermanentError) => dest.isolated?.(record, err) } : {}),
    });
  }

  async start(): Promise<void> {
    await this.queue.open();
    try {
      await this.dest.start?.();
    } catch (err) {
      await this.queue.close();
      throw err;
    }
    this.sender.start();
  }

  async consume(batch: Batch): Promise<void> {
    if (this.stopping) throw new RetryableError(`exporter ${this.ctx.id} is shutting down`);
    if (batch.calls.length + batch.updates.length === 0) return;
    const records = this.dest.encode(batch, this.drop);
    if (records.length === 0) return;
    const queued = this.sender.enqueue(records);
    this.intake.add(queued);
    try {
      await queued;
    } finally {
      this.intake.delete(queued);
    }
  }

  /** Rows waiting in the queue (for start-up logs). */
  get queuedRows(): number {
    return this.queue.rows;
  }

  /** Resolves once the queue is empty: everything sent or dropped (tests, benchmarks, spend queries). */
  flush(): Promise<void> {
    return this.sender.flush();
  }

  async shutdown(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled(this.intake);
    await this.sender.shutdown(SHUTDOWN_GRACE_MS);
    try {
      await this.dest.close?.();
    } finally {
      await this.queue.close();
    }
  }
}
