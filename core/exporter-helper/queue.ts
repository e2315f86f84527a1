import { RetryableError } from '../errors.js';

/**
 * A FIFO of encoded records (one string each, no newline inside) between an exporter's
 * `consume` and its background sender. There is exactly one reader: it peeks a batch at the
 * head, sends it, then acks it; rows peeked but not acked are delivered again after a restart
 * (at-least-once; destinations make writes idempotent).
 */
export interface ExportQueue {
  /** True when what it holds survives a restart. */
  readonly persistent: boolean;
  open(): Promise<void>;
  /** Appends; resolves once stored (disk: written and fsynced). Throws QueueFullError when full. */
  push(items: readonly string[]): Promise<void>;
  /** Up to `max` records from the head, left in the queue. */
  peek(max: number): Promise<string[]>;
  /** Removes the first `count` records of the last peek. */
  ack(count: number): Promise<void>;
  readonly rows: number;
  readonly bytes: number;
  /** Enqueue time (epoch ms) of the record at the head, undefined when empty. */
  readonly oldestMs: number | undefined;
  close(): Promise<void>;
}

export class QueueFullError extends RetryableError {
  override name = 'QueueFullError';
}

/** Bytes a record is accounted for: its UTF-16 length is a cheap, stable stand-in for its size. */
export function recordBytes(item: string): number {
  return item.length + 1;
}

/**
 * Enqueue times of the queued records, kept per push rather than per record: a push of 5000
 * rows is one entry. Shared by the memory and disk queues for the size and age gauges.
 */
export class PushLedger {
  private readonly entries: { ms: number; rows: number; bytes: number }[] = [];
  private head = 0;
  rows = 0;
  bytes = 0;

  add(ms: number, rows: number, bytes: number): void {
    const last = this.entries[this.entries.length - 1];
    if (last && last.ms === ms && this.entries.length > this.head) { last.rows += rows; last.bytes += bytes; }
    else this.entries.push({ ms, rows, bytes });
    this.rows += rows;
    this.bytes += bytes;
  }

  /** Removes `rows` records totalling `bytes` from the head. */
  remove(rows: number, bytes: number): void {
    this.rows -= rows;
    this.bytes -= bytes;
    let left = rows;
    let leftBytes = bytes;
    while (left > 0 && this.head < this.entries.length) {
      const e = this.entries[this.head];
      if (e.rows <= left) {
        left -= e.rows; leftBytes -= e.bytes; this.head++;
      } else {
        e.rows -= left; e.bytes -= leftBytes; left = 0;
      }
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) { this.entries.splice(0, this.head); this.head = 0; }
  }

  get oldestMs(): number | undefined {
    return this.head < this.entries.length ? this.entries[this.head].ms : undefined;
  }
}
