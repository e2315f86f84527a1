import { describe, expect, it } from 'vitest';
import { PermanentError } from '../../../core/errors.js';
import { MemoryQueue } from '../../../core/exporter-helper/memory-queue.js';
import { QueuedSender } from '../../../core/exporter-helper/sender.js';
import { metricValue, testContext } from '../../helpers/context.js';

function setup(send: (r: string[]) => Promise<void>, opts: { maxRows?: number; maxDelay?: number; maxElapsed?: number } = {}) {
  const ctx = testContext('test/exp');
  const queue = new MemoryQueue(1 << 20);
  const sender = new QueuedSender({
    id: ctx.id, queue, send, logger: ctx.logger, metrics: ctx.metrics,
    batch: { max_rows: opts.maxRows ?? 3, max_delay: `${opts.maxDelay ?? 50}ms` },
    retry: { initial_interval: '5ms', max_interval: '20ms', max_elapsed: `${opts.maxElapsed ?? 0}ms` },
  });
  return { ctx, queue, sender };
}
const rows = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `r${from + i}`);

describe('QueuedSender', () => {
  it('sends full batches at once and a partial batch after max_delay, in order', async () => {
    const got: { at: number; batch: string[] }[] = [];
    const { ctx, queue, sender } = setup(async (b) => { got.push({ at: Date.now(), batch: b }); }, { maxDelay: 300 });
    await queue.open();
    sender.start();
    const t0 = Date.now();
    await sender.enqueue(rows(7));
    await sender.flush();
    expect(got.map((g) => g.batch)).toEqual([rows(3), rows(3, 3), rows(1, 6)]);
    expect(got[0].at - t0).toBeLessThan(280); // full batches do not wait for max_delay (300ms)
    expect(await metricValue(ctx.registry, 'tokenledger_exporter_sent_rows_total', { exporter: 'test/exp' })).toBe(7);
    await sender.enqueue(rows(1, 7));
    const t1 = Date.now();
    while (got.length < 4 && Date.now() - t1 < 5000) await new Promise((r) => setTimeout(r, 20));
    expect(got[3].batch).toEqual(['r7']);
    expect(got[3].at - t1).toBeGreaterThanOrEqual(290);
    await sender.shutdown();
  });

  it('retries a retryable failure with backoff until it succeeds', async () => {
    let calls = 0;
    const { ctx, queue, sender } = setup(async () => { if (++calls < 4) throw new Error('ECONNREFUSED'); });
    await queue.open();
    sender.start();
    await sender.enqueue(rows(3));
    await sender.flush();
    expect(calls).toBe(4);
    expect(await metricValue(ctx.registry, 'tokenledger_exporter_retries_total')).toBe(3);
    expect(await metricValue(ctx.registry, 'tokenledger_exporter_sent_rows_total')).toBe(3);
    expect(queue.rows).toBe(0);
    await sender.shutdown();
  });

  it('drops a permanently rejected batch at once and counts it as failed', async () => {
    let calls = 0;
    const { ctx, queue, sender } = setup(async () => { calls++; throw new PermanentError('bad data'); });
    await queue.open();
    sender.start();
    await sender.enqueue(rows(3));
    await sender.flush();
    expect(calls).toBe(1);
    expect(await metricValue(ctx.registry, 'tokenledger_exporter_failed_rows_total')).toBe(3);
    expect(ctx.logs.some((l) => l.level === 'error' && String(l.msg).includes('permanently'))).toBe(true);
    await sender.shutdown();
  });

  it('counts records the destination dropped from a delivered batch as failed, the rest as sent', async () => {
    const { ctx, queue, sender } = setup(async () => 1);
    await queue.open();
    sender.start();
    await sender.enqueue(rows(3));
    await sender.flush();
    expect(await metricValue(ctx.registry, 'tokenledger_exporter_sent_rows_total')).toBe(2);
    expect(await metricValue(ctx.registry, 'tokenledger_exporter_failed_rows_total')).toBe(1);
    await sender.shutdown();
  });

  it('gives up after max_elapsed and moves on to the next batch', async () => {
    const sent: string[][] = [];
    const { ctx, queue, sender } = setup(async (b) => { if (b[0] === 'r0') throw new Error('timeout'); sent.push(b); }, { maxElapsed: 60 });
    await queue.open();
    sender.start();
    await sender.enqueue(rows(6));
    await sender.flush();
    expect(sent).toEqual([rows(3, 3)]);
    expect(await metricValue(ctx.registry, 'tokenledger_exporter_failed_rows_total')).toBe(3);
    await sender.shutdown();
  });

  it('stops retrying at shutdown after the grace period and counts memory rows as lost', async () => {
    const { ctx, queue, sender } = setup(async () => { throw new Error('down'); });
    await queue.open();
    sender.start();
    await sender.enqueue(rows(3));
    const t0 = Date.now();
    await sender.shutdown(100);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(queue.rows).toBe(3);
    expect(await metricValue(ctx.registry, 'tokenledger_exporter_failed_rows_total')).toBe(3);
  });

  it('survives a failing queue read: logs it and tries again', async () => {
    const sent: string[][] = [];
    const { ctx, queue, sender } = setup(async (b) => { sent.push(b); });
    await queue.open();
    const peek = queue.peek.bind(queue);
    let failures = 1;
    queue.peek = async (max: number) => { if (failures-- > 0) throw new Error('EIO'); return peek(max); };
    sender.start();
    await sender.enqueue(rows(3));
    await sender.flush();
    expect(sent).toEqual([rows(3)]);
    expect(ctx.logs.some((l) => l.level === 'error' && String(l.msg).includes('queue read or ack failed'))).toBe(true);
    await sender.shutdown();
  });

  it('reports queue size and age gauges', async () => {
    const { ctx, queue, sender } = setup(async () => { throw new Error('down'); }, { maxRows: 100, maxDelay: 10_000 });
    await queue.open();
    sender.start();
    await sender.enqueue(rows(5));
    expect(await metricValue(ctx.registry, 'tokenledger_exporter_queue_rows')).toBe(5);
    expect(await metricValue(ctx.registry, 'tokenledger_exporter_queue_bytes')).toBeGreaterThan(0);
    await sender.shutdown(10);
  });
});
