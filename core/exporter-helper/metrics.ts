import { defineMetrics } from '../metric-spec.js';

/** The self-metrics of every queued exporter, labelled by exporter id (alerts and dashboards read these names). */
export const exporterHelperMetrics = defineMetrics({
  sent: { type: 'counter', name: 'tokenledger_exporter_sent_rows_total', help: 'Rows the destination accepted.', labels: ['exporter'] },
  failed: { type: 'counter', name: 'tokenledger_exporter_failed_rows_total', help: 'Rows dropped: rejected as permanently bad, or retried past retry.max_elapsed.', labels: ['exporter'] },
  retries: { type: 'counter', name: 'tokenledger_exporter_retries_total', help: 'Send attempts that failed and were retried.', labels: ['exporter'] },
  refused: { type: 'counter', name: 'tokenledger_exporter_enqueue_refused_rows_total', help: 'Rows refused at consume because the queue was full or unwritable (the client was told to retry).', labels: ['exporter'] },
  queueRows: { type: 'gauge', name: 'tokenledger_exporter_queue_rows', help: 'Rows waiting in the exporter queue.', labels: ['exporter'] },
  queueBytes: { type: 'gauge', name: 'tokenledger_exporter_queue_bytes', help: 'Bytes of rows waiting in the exporter queue.', labels: ['exporter'] },
  oldestAge: { type: 'gauge', name: 'tokenledger_exporter_queue_oldest_age_seconds', help: 'Age of the oldest row waiting in the exporter queue, 0 when empty.', labels: ['exporter'] },
  sendSeconds: {
    type: 'histogram', name: 'tokenledger_exporter_send_duration_seconds', help: 'Duration of one insert of a batch into the destination.', labels: ['exporter'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  },
});
