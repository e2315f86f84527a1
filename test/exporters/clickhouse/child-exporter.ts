/**
 * A tokenledger stand-in for the kill -9 test: runs the clickhouse exporter with the config given
 * as JSON in argv[2], consumes calls [from, from + count) in batches and prints `ack <end>` once
 * each consume() has resolved (the moment a receiver would answer its client), then flushes,
 * shuts down and prints `done`. The parent SIGKILLs it somewhere in between.
 */
import { Registry } from 'prom-client';
import { emptyBatch } from '../../../core/batch.js';
import { Host } from '../../../core/host.js';
import { createLogger } from '../../../core/logger.js';
import { SelfMetrics } from '../../../core/self-metrics.js';
import type { ClickhouseConfig } from '../../../exporters/clickhouse/config.js';
import { ClickhouseExporter } from '../../../exporters/clickhouse/exporter.js';
import { makeCall } from './helpers.js';

interface ChildArgs { config: ClickhouseConfig; configDir: string; from: number; count: number; batch: number; pauseMs: number }

const args = JSON.parse(process.argv[2]) as ChildArgs;
const registry = new Registry();
const exporter = new ClickhouseExporter(args.config, {
  id: 'clickhouse', logger: createLogger('warn'), metrics: new SelfMetrics(registry), registry, host: new Host(), configDir: args.configDir,
});
await exporter.start();
process.stdout.write('started\n');
for (let i = args.from; i < args.from + args.count; i += args.batch) {
  const end = Math.min(i + args.batch, args.from + args.count);
  const calls = [];
  for (let j = i; j < end; j++) calls.push(makeCall(j));
  await exporter.consume({ ...emptyBatch({ receiver: 'child', transport: 'test' }), calls });
  process.stdout.write(`ack ${end}\n`);
  if (args.pauseMs) await new Promise((r) => setTimeout(r, args.pauseMs));
}
await exporter.flush();
await exporter.shutdown();
process.stdout.write('done\n');
