import { Registry } from 'prom-client';
import type { Batch } from '../../core/batch.js';
import { emptyBatch } from '../../core/batch.js';
import type { ComponentContext, Consumer, ReceiverContext } from '../../core/component.js';
import { Handoff } from '../../core/handoff.js';
import { Host } from '../../core/host.js';
import { createLogger, type LogLevel } from '../../core/logger.js';
import { SelfMetrics } from '../../core/self-metrics.js';

/** A component context for tests: its own registry, logs collected in `logs`. */
export function testContext(id: string, opts: { level?: LogLevel; configDir?: string } = {}): ComponentContext & { logs: Record<string, unknown>[] } {
  const registry = new Registry();
  const logs: Record<string, unknown>[] = [];
  return {
    id,
    logger: createLogger(opts.level ?? 'debug', { component: id }, (line) => logs.push(JSON.parse(line))),
    metrics: new SelfMetrics(registry),
    registry,
    host: new Host(),
    configDir: opts.configDir ?? process.cwd(),
    logs,
  };
}

/** A receiver context whose `next` records every batch (or runs `consume` when given). */
export function testReceiverContext(id: string, consume?: (b: Batch) => Promise<void>): ReceiverContext & { logs: Record<string, unknown>[]; received: Batch[] } {
  const received: Batch[] = [];
  // Not an async frame: a test may check that nothing but `received` holds a batch.
  const next: Consumer = { consume: (b) => { received.push(b); return consume ? consume(b) : Promise.resolve(); } };
  return { ...testContext(id), next, handoff: new Handoff(), received };
}

export function batchOf(partial: Partial<Batch>): Batch {
  return { ...emptyBatch({ receiver: 'test', transport: 'test' }), ...partial };
}

/** Value of one sample of a metric in a registry, 0 when absent. */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  const hit = values.find((v) => Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val));
  return hit?.value ?? 0;
}

/** Sum of every sample of a metric in a registry (all label values), 0 when absent. */
export async function metricTotal(registry: Registry, name: string): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  return (await metric.get()).values.reduce((s, v) => s + v.value, 0);
}
