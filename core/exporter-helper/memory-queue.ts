import { PushLedger, QueueFullError, recordBytes, type ExportQueue } from './queue.js';

/** A bounded in-memory queue: fast, but what it holds is lost when the process dies. */
export class MemoryQueue implements ExportQueue {
  readonly persistent = false;
  private items: string[] = [];
  private head = 0;
  private readonly ledger = new PushLedger();

  constructor(private readonly maxBytes: number, private readonly now: () => number = Date.now) {}

  async open(): Promise<void> {}

  async push(items: readonly string[]): Promise<void> {
    let bytes = 0;
    for (const item of items) bytes += recordBytes(item);
    if (this.ledger.bytes + bytes > this.maxBytes) {
      throw new QueueFullError(`memory queue is full: ${this.ledger.bytes} of ${this.maxBytes} bytes used, ${bytes} more offered`);
    }
    for (const item of items) this.items.push(item);
    this.ledger.add(this.now(), items.length, bytes);
  }

  async peek(max: number): Promise<string[]> {
    return this.items.slice(this.head, this.head + max);
  }

  async ack(count: number): Promise<void> {
    let bytes = 0;
    const end = Math.min(this.head + count, this.items.length);
    for (let i = this.head; i < end; i++) bytes += recordBytes(this.items[i]);
    this.ledger.remove(end - this.head, bytes);
    this.head = end;
    // Compact once the consumed prefix dominates, so the array does not grow without bound.
    if (this.head > 4096 && this.head * 2 > this.items.length) { this.items = this.items.slice(this.head); this.head = 0; }
  }

  get rows(): number { return this.ledger.rows; }
  get bytes(): number { return this.ledger.bytes; }
  get oldestMs(): number | undefined { return this.ledger.oldestMs; }

  async close(): Promise<void> {}
}
