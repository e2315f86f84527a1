import type { Counter, Gauge, Histogram } from 'prom-client';
import type { SelfMetrics } from '../self-metrics.js';

/** The self-metrics of every queued exporter, labelled by exporter id. */
export interface ExporterMetrics {
  sent: Counter<'exporter'>;
  failed: Counter<'exporter'>;
  retries: Counter<'exporter'>;
  refused: Counter<'exporter'>;
  queueRows: Gauge<'exporter'>;
  queueBytes: Gauge<'exporter'>;
  oldestAge: Gauge<'exporter'>;
  sendSeconds: Histogram<'exporter'>;
}

export function exporterMetrics(m: SelfMetrics): ExporterMetrics {
  const l = ['exporter'] as const;
  return {
    sent: m.counter('tokenledger_exporter_sent_rows_total', 'Rows the destination accepted.', l),
    failed: m.counter('tokenledger_exporter_failed_rows_total', 'Rows dropped: rejected as permanently bad, or retried past retry.max_elapsed_ms.', l),
    retries: m.counter('tokenledger_exporter_retries_total', 'Send attempts that failed and were retried.', l),
    refused: m.counter('tokenledger_exporter_enqueue_refused_rows_total', 'Rows refused at consume because the queue was full or unwritable (the client was told to retry).', l),
    queueRows: m.gauge('tokenledger_exporter_queue_rows', 'Rows waiting in the exporter queue.', l),
    queueBytes: m.gauge('tokenledger_exporter_queue_bytes', 'Bytes of rows waiting in the exporter queue.', l),
    oldestAge: m.gauge('tokenledger_exporter_queue_oldest_age_seconds', 'Age of the oldest row waiting in the exporter queue, 0 when empty.', l),
    sendSeconds: m.histogram('tokenledger_exporter_send_duration_seconds', 'Duration of one insert of a batch into the destination.', l,
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]),
  };
}
