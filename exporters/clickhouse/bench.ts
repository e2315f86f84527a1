import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { emptyBatch } from '../../core/batch.js';
import { Host } from '../../core/host.js';
import { emptyCall, type LlmCall } from '../../core/llm-call.js';
import { createLogger } from '../../core/logger.js';
import { SelfMetrics } from '../../core/self-metrics.js';
import { defaults, type ClickhouseConfig } from './config.js';
import { ClickhouseExporter } from './exporter.js';

export interface BenchResult {
  target: string;
  queue: string;
  rows: number;
  seconds: number;
  rowsPerSec: number;
  /** Worst event-loop stall while rows were consumed and sent: what a receiver would feel. */
  maxLoopDelayMs: number;
}

function call(i: number): LlmCall {
  return {
    ...emptyCall(), call_id: `bench-${i}`, timestamp: new Date(Date.UTC(2026, 10, 1) + i * 37).toISOString(),
    duration_ms: 900, source: 'litellm', route: 'anthropic_messages', provider: 'anthropic', model: 'claude-sonnet-4-5',
    model_raw: 'anthropic/claude-sonnet-4-5', input_tokens: 1200, output_tokens: 300, cache_read_tokens: 5000,
    cost_usd: 0.0123, price_ref: 'genai-prices:anthropic/claude-sonnet-4-5', team: `team-${i % 20}`, customer: `c-${i % 50}`,
    user: `u-${i % 200}`, tags: ['bench'], dimensions: { project: `p${i % 10}` }, service_name: 'litellm',
  };
}

/**
 * Rows/s through the whole exporter: consume (queue write, fsync for disk) in receiver-sized
 * batches, then the sender's inserts, until everything is in ClickHouse. `server` needs a
 * ClickHouse at `url`; it writes into a throw-away database and drops it.
 */
export async function benchClickhouse(opts: { mode: 'embedded' | 'server'; url?: string; rows: number; queue: 'memory' | 'disk'; consumeBatch?: number }): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tl-bench-ch-'));
  const database = `tl_bench_${process.pid}`;
  const config: ClickhouseConfig = {
    ...defaults, mode: opts.mode, path: join(dir, 'ch'), url: opts.url ?? defaults.url, database,
    queue: { type: opts.queue, path: join(dir, 'queue'), max_bytes: 4 * 1024 ** 3 }, rollup_refresh_ms: 3_600_000,
  };
  const registry = new Registry();
  const exporter = new ClickhouseExporter(config, {
    id: 'clickhouse', logger: createLogger('warn'), metrics: new SelfMetrics(registry), registry, host: new Host(), configDir: dir,
  });
  await exporter.start();
  const step = opts.consumeBatch ?? 500;
  const calls = Array.from({ length: opts.rows }, (_, i) => call(i));
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const t0 = performance.now();
  for (let i = 0; i < calls.length; i += step) {
    await exporter.consume({ ...emptyBatch({ receiver: 'bench', transport: 'bench' }), calls: calls.slice(i, i + step) });
  }
  await exporter.flush();
  const seconds = (performance.now() - t0) / 1000;
  loop.disable();
  await exporter.shutdown();
  if (opts.mode === 'server') {
    const { createClient } = await import('@clickhouse/client');
    const admin = createClient({ url: config.url });
    await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    await admin.close();
  }
  rmSync(dir, { recursive: true, force: true });
  return {
    target: opts.mode === 'embedded' ? 'embedded chDB' : `server ${config.url}`, queue: opts.queue, rows: opts.rows,
    seconds, rowsPerSec: Math.round(opts.rows / seconds), maxLoopDelayMs: Math.round(loop.max / 1e6),
  };
}
