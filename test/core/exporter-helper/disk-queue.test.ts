import { appendFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RetryableError } from '../../../core/errors.js';
import { DiskQueue } from '../../../core/exporter-helper/disk-queue.js';
import { MemoryQueue } from '../../../core/exporter-helper/memory-queue.js';
import { QueueFullError, type ExportQueue } from '../../../core/exporter-helper/queue.js';

const dir = (): string => mkdtempSync(join(tmpdir(), 'tl-dq-'));
const records = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => JSON.stringify({ n: from + i, s: 'é\tx' }));

describe.each([
  ['memory', (): ExportQueue => new MemoryQueue(1 << 20)],
  ['disk', (): ExportQueue => new DiskQueue(dir(), 1 << 20)],
])('%s queue', (_name, make) => {
  it('is FIFO: peek leaves records, ack removes them, sizes and age follow', async () => {
    const q = make();
    await q.open();
    expect(q.oldestMs).toBeUndefined();
    await q.push(records(0, 3));
    await q.push(records(3, 2));
    expect(q.rows).toBe(5);
    expect(q.bytes).toBeGreaterThan(0);
    expect(q.oldestMs).toBeLessThanOrEqual(Date.now());
    expect(await q.peek(4)).toEqual(records(0, 4));
    expect(await q.peek(4)).toEqual(records(0, 4));
    await q.ack(4);
    expect(q.rows).toBe(1);
    expect(await q.peek(10)).toEqual(records(4, 1));
    await q.ack(1);
    expect(q.rows).toBe(0);
    expect(q.bytes).toBe(0);
    expect(q.oldestMs).toBeUndefined();
    await q.close();
  });

  it('refuses a push beyond max_bytes with a retryable QueueFullError', async () => {
    const q = make();
    await q.open();
    const big = ['x'.repeat(600_000)];
    await q.push(big);
    const err = await q.push(big).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueueFullError);
    expect(err).toBeInstanceOf(RetryableError);
    expect(q.rows).toBe(1);
    await q.close();
  });
});

describe('DiskQueue persistence', () => {
  it('keeps unacked records across a reopen and resumes after the acked ones', async () => {
    const d = dir();
    const q = new DiskQueue(d, 1 << 30);
    await q.open();
    await q.push(records(0, 10));
    await q.peek(4);
    await q.ack(4);
    await q.peek(3); // peeked, not acked: a crash here re-delivers them
    await q.close();
    const r = new DiskQueue(d, 1 << 30);
    await r.open();
    expect(r.rows).toBe(6);
    expect(await r.peek(100)).toEqual(records(4, 6));
    await r.close();
  });

  it('cuts a torn tail (a write that never got its newline, hence never acknowledged)', async () => {
    const d = dir();
    const q = new DiskQueue(d, 1 << 30);
    await q.open();
    await q.push(records(0, 2));
    await q.close();
    const seg = readdirSync(d).find((f) => f.startsWith('seg-'));
    if (!seg) throw new Error('no segment written');
    appendFileSync(join(d, seg), '123\t{"n":9');
    const r = new DiskQueue(d, 1 << 30);
    await r.open();
    expect(await r.peek(10)).toEqual(records(0, 2));
    await r.push(records(2, 1));
    expect(await r.peek(10)).toEqual(records(0, 3));
    await r.close();
  });

  it('rolls over segments and deletes the consumed ones', async () => {
    const d = dir();
    const q = new DiskQueue(d, 1 << 30);
    await q.open();
    const big = Array.from({ length: 20 }, (_, i) => `${i}:` + 'y'.repeat(1 << 20));
    for (const r of big) await q.push([r]);
    expect(readdirSync(d).filter((f) => f.startsWith('seg-')).length).toBeGreaterThan(1);
    let seen = 0;
    while (q.rows > 0) {
      const got = await q.peek(7);
      expect(got[0]).toBe(big[seen]);
      seen += got.length;
      await q.ack(got.length);
    }
    expect(seen).toBe(20);
    expect(readdirSync(d).filter((f) => f.startsWith('seg-')).length).toBe(1);
    await q.close();
  });

  it('groups concurrent pushes into one write and keeps their order', async () => {
    const q = new DiskQueue(dir(), 1 << 30);
    await q.open();
    await Promise.all(Array.from({ length: 50 }, (_, i) => q.push(records(i * 2, 2))));
    expect(await q.peek(1000)).toEqual(records(0, 100));
    await q.close();
  });

  it('refuses a directory another live process holds', async () => {
    const d = dir();
    const q = new DiskQueue(d, 1 << 30);
    await q.open();
    await q.close();
    // A live foreign pid (our parent) in the lock file stands for another tokenledger.
    writeFileSync(join(d, 'lock'), String(process.ppid));
    await expect(new DiskQueue(d, 1 << 30).open()).rejects.toThrow(/in use by process/);
    expect(readFileSync(join(d, 'lock'), 'utf8')).toBe(String(process.ppid));
  });
});
