import type { Batch } from '../../core/batch.js';
import type { ComponentContext, Exporter } from '../../core/component.js';
import type { DebugExporterConfig } from './config.js';

type Write = (line: string) => void;

/**
 * Prints what reaches it, one JSON object a line on stdout: `basic` one summary per batch,
 * `normal` every LlmCall record, `detailed` the decoded telemetry as well.
 */
export function createDebugExporter(config: DebugExporterConfig, ctx: ComponentContext, write: Write = (l) => process.stdout.write(l + '\n')): Exporter {
  return {
    async consume(batch: Batch) {
      if (config.verbosity === 'basic') {
        write(JSON.stringify({ exporter: ctx.id, ...summary(batch) }));
        return;
      }
      for (const call of batch.calls) write(JSON.stringify(call));
      for (const call of batch.updates) write(JSON.stringify({ update: true, ...call }));
      if (config.verbosity === 'detailed') {
        for (const [signal, items] of [['traces', batch.resourceSpans], ['metrics', batch.resourceMetrics], ['logs', batch.resourceLogs]] as const) {
          for (const item of items) write(JSON.stringify({ signal, ...item }, bytesAsHex));
        }
      }
    },
  };
}

function summary(b: Batch): Record<string, unknown> {
  return {
    origin: b.origin,
    calls: b.calls.length,
    updates: b.updates.length,
    spans: b.resourceSpans.reduce((n, r) => n + r.scopeSpans.reduce((m, s) => m + s.spans.length, 0), 0),
    data_points: b.resourceMetrics.reduce((n, r) => n + r.scopeMetrics.reduce((m, s) => m + s.metrics.length, 0), 0),
    log_records: b.resourceLogs.reduce((n, r) => n + r.scopeLogs.reduce((m, s) => m + s.logRecords.length, 0), 0),
  };
}

function bytesAsHex(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? Buffer.from(value).toString('hex') : value;
}
