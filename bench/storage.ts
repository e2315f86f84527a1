import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, realisticCalls } from './ceiling.js';
import { threadCpu } from './child.js';
import { liteLLMTraces } from './payload.js';
import { emptyBatch, type Batch } from '../core/batch.js';
import type { LlmCall } from '../core/llm-call.js';
import { defaults } from '../exporters/clickhouse/config.js';
import { ClickhouseExporter } from '../exporters/clickhouse/exporter.js';
import { defaults as costDefaults } from '../processors/cost-enrichment/config.js';
import { priceCalls, pricerFor } from '../processors/cost-enrichment/index.js';

/**
 * The storage path alone, in a process of its own (chDB binds one data directory per process):
 * the shipped ClickHouse exporter (embedded chDB behind its disk queue) takes `--calls` priced
 * records of the bench payload in batches of 100, 8 batches in flight as the receiver hands them
 * over, until every row is in ClickHouse. Prints one JSON line: CPU µs a call, whole process and
 * by thread group, and rows/s. Run by `npm run bench` (the `storage path` row).
 */

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const CALLS = arg('calls', 50_000);
/** The exporter's batch.max_rows (default: the shipped one), to weigh larger inserts. */
const MAX_ROWS = arg('max-rows', defaults.batch.max_rows);
const BATCH = 100;
const IN_FLIGHT = 8;

async function main(): Promise<void> {
  const shapes = realisticCalls(liteLLMTraces({ calls: BATCH }), 1000).calls;
  priceCalls(shapes, pricerFor(structuredClone(costDefaults), process.cwd()));
  const batches: Batch[] = [];
  for (let i = 0; i < CALLS; i += BATCH) {
    const calls: LlmCall[] = [];
    for (let j = i; j < Math.min(i + BATCH, CALLS); j++) calls.push({ ...shapes[j % shapes.length], call_id: `storage-${j}` });
    batches.push({ ...emptyBatch({ receiver: 'bench', transport: 'bench' }), calls });
  }
  const dir = mkdtempSync(join(tmpdir(), 'tl-bench-storage-'));
  const exporter = new ClickhouseExporter({ ...defaults, batch: { ...defaults.batch, max_rows: MAX_ROWS }, path: join(dir, 'clickhouse'), queue: { ...defaults.queue, path: join(dir, 'queue') } }, context());
  try {
    await exporter.start();
    const cpu0 = process.cpuUsage();
    const threads0 = threadCpu(process.pid);
    const t0 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (next < batches.length) await exporter.consume(batches[next++]);
    }));
    const acked = performance.now();
    await exporter.flush();
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const threads = [...threadCpu(process.pid)].map(([k, v]) => [k, v - (threads0.get(k) ?? 0)] as const).filter(([, v]) => v > 0);
    const perCall = (s: number): number => Math.round((s / CALLS) * 1e7) / 10;
    process.stdout.write(JSON.stringify({
      calls: CALLS, max_rows: MAX_ROWS, cpu_us_per_call: perCall((cpu.user + cpu.system) / 1e6),
      cpu_us_per_call_by_thread: Object.fromEntries(threads.sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, perCall(v)])),
      acked_per_s: Math.round(CALLS / ((acked - t0) / 1000)), rows_per_s: Math.round(CALLS / seconds),
    }) + '\n');
  } finally {
    await exporter.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`storage bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
