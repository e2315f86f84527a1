import { defineMetrics } from '../../../core/metric-spec.js';

/** The spend API's requests: how many, how each ended, how long the ledger took to answer. */
export const apiMetrics = defineMetrics({
  requests: { type: 'counter', name: 'tokenledger_api_requests_total', help: 'Spend API requests, by exporter, endpoint (spend, calls, unpriced, drift) and HTTP status.', labels: ['exporter', 'endpoint', 'code'] },
  duration: { type: 'histogram', name: 'tokenledger_api_request_duration_seconds', help: 'Time to answer a spend API request, queue drain and ClickHouse query included.', labels: ['exporter', 'endpoint'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] },
});
