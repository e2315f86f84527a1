import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../../core/errors.js';
import { QueuedExporter, type Destination, type QueuedSettings } from '../../../core/exporter-helper/queued-exporter.js';
import type { LlmCall } from '../../../core/llm-call.js';
import { batchOf, metricValue, testContext } from '../../helpers/context.js';

const calls = (ids: string[]): LlmCall[] => ids.map((call_id) => ({ call_id }) as LlmCall);
const ids = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => `c${from + i}`);

function settings(queue: QueuedSettings['queue']): QueuedSettings {
  return {
    batch: { max_rows: 8, max_delay: '20ms' },
    queue,
    retry: { initial_interval: '5ms', max_interval: '20ms', max_elapsed: '0s' },
  };
}
const memory = { type: 'memory', path: '', max_bytes: 1 << 20 } as const;

/** A destination that stores records in `stored`, logs its lifecycle in `events`, and rejects records containing "bad". */
function destination(over: Partial<Destination> = {}) {
  const stored: string[] = [];
  const events: string[] = [];
  const isolated: string[] = [];
  const dest: Destination = {
    encode: (batch, drop) => batch.calls.flatMap((c) => (c.call_id.startsWith('x') ? (drop(c, 'unstorable'), []) : [c.call_id])),
    push: async (records) => {
      events.push(`push ${records.length}`);
      if (records.some((r) => r.includes('bad'))) throw new PermanentError('bad row');
      stored.push(...records);
    },
    isolated: (record) => { isolated.push(record); },
    start: async () => { events.push('start'); },
    close: async () => { events.push('close'); },
    ...over,
  };
  return { dest, stored, events, isolated };
}

describe('QueuedExporter', () => {
  it('bisects a rejected batch down to its bad records, drops only those and counts them', async () => {
    const ctx = testContext('test/exp');
    const { dest, stored, isolated } = destination();
    const e = new QueuedExporter(ctx, settings(memory), dest);
    await e.start();
    await e.consume(batchOf({ calls: calls(['c0', 'c1', 'bad2', 'c3', 'c4', 'c5', 'bad6', 'c7']) }));
    await e.flush();
    expect(stored.sort()).toEqual(['c0', 'c1', 'c3', 'c4', 'c5', 'c7']);
    expect(isolated.sort()).toEqual(['bad2', 'bad6']);
    expect(await metricValue(ctx.registry, 'tokenledger_exporter_sent_rows_total', { exporter: 'test/exp' })).toBe(6);
    expect(await metricValue(ctx.registry, 'tokenledger_exporter_failed_rows_total', { exporter: 'test/exp' })).toBe(2);
    await e.shutdown();
  });

  it('without an isolated hook drops a rejected batch whole', async () => {
    const ctx = testContext('test/exp');
    const { dest, stored, events } = destination({ isolated: undefined });
    const e = new QueuedExporter(ctx, settings(memory), dest);
    await e.start();
    await e.consume(batchOf({ calls: calls(['c0', 'bad1', 'c2']) }));
    await e.flush();
    expect(stored).toEqual([]);
    expect(events.filter((x) => x.startsWith('push'))).toEqual(['push 3']);
    expect(await metricValue(ctx.registry, 'tokenledger_exporter_failed_rows_total')).toBe(3);
    await e.shutdown();
  });

  it('counts and logs the calls encode cannot store, and queues the rest', async () => {
    const ctx = testContext('test/exp');
    const { dest, stored } = destination();
    const e = new QueuedExporter(ctx, settings(memory), dest);
    await e.start();
    await e.consume(batchOf({ calls: calls(['c0', 'x1', 'c2']) }));
    await e.flush();
    expect(stored).toEqual(['c0', 'c2']);
    expect(await metricValue(ctx.registry, 'tokenledger_exporter_failed_rows_total')).toBe(1);
    expect(ctx.logs.filter((l) => l.msg === 'call dropped: it cannot be stored').map((l) => [l.call_id, l.reason])).toEqual([['x1', 'unstorable']]);
    await e.shutdown();
  });

  it('shuts down in order: intake refused, queue drained, then the destination closed', async () => {
    const ctx = testContext('test/exp');
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const { dest, stored, events } = destination();
    const push = dest.push;
    dest.push = async (records) => { await gate; return push(records); };
    const e = new QueuedExporter(ctx, settings(memory), dest);
    await e.start();
    await e.consume(batchOf({ calls: calls(ids(0, 20)) }));
    const stopped = e.shutdown();
    const late = await e.consume(batchOf({ calls: calls(['late']) })).catch((err: unknown) => err);
    expect(late).toBeInstanceOf(RetryableError);
    release();
    await stopped;
    expect(stored).toEqual(ids(0, 20));
    expect(events[0]).toBe('start');
    expect(events[events.length - 1]).toBe('close');
    expect(events.filter((x) => x.startsWith('push')).length).toBe(3);
  });

  it('keeps what it could not send in the disk queue for the next start, resolved against the config directory', async () => {
    const configDir = mkdtempSync(join(tmpdir(), 'tl-qe-'));
    const disk = { type: 'disk', path: 'q', max_bytes: 1 << 20 } as const;
    const down = destination({ push: async () => { throw new Error('ECONNREFUSED'); } });
    const first = new QueuedExporter(testContext('test/exp', { configDir }), settings(disk), down.dest);
    await first.start();
    await first.consume(batchOf({ calls: calls(ids(0, 5)) }));
    await first.shutdown();
    expect(existsSync(join(configDir, 'q'))).toBe(true);
    expect(first.queuedRows).toBe(5);

    const up = destination();
    const second = new QueuedExporter(testContext('test/exp', { configDir }), settings(disk), up.dest);
    await second.start();
    expect(second.queuedRows).toBe(5);
    await second.flush();
    expect(up.stored).toEqual(ids(0, 5));
    await second.shutdown();
  });

  it('closes the queue when the destination fails to start, so that a new start can open it', async () => {
    const configDir = mkdtempSync(join(tmpdir(), 'tl-qe-'));
    const disk = { type: 'disk', path: 'q', max_bytes: 1 << 20 } as const;
    const broken = destination({ start: async () => { throw new Error('cannot open the destination'); } });
    const first = new QueuedExporter(testContext('test/exp', { configDir }), settings(disk), broken.dest);
    await expect(first.start()).rejects.toThrow('cannot open the destination');
    const ok = destination();
    const second = new QueuedExporter(testContext('test/exp', { configDir }), settings(disk), ok.dest);
    await second.start();
    await second.shutdown();
  });
});
