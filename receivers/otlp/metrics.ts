import { defineMetrics, type DeclaredMetrics } from '../../core/metric-spec.js';

export type Transport = 'grpc' | 'http';

/** Why a request (or its items) was refused; the `reason` label. */
export type RefusalReason =
  | 'not_found' | 'method_not_allowed' | 'unauthenticated' | 'unsupported_media_type' | 'too_large' | 'bad_request'
  | 'in_flight_limit' | 'pipeline_retryable' | 'pipeline_permanent' | 'pipeline_error' | 'unsupported_metric_type' | 'shutting_down'
  // overload and slow clients
  | 'client_in_flight_limit' | 'client_request_limit' | 'client_connection_limit' | 'queue_full' | 'queue_timeout' | 'body_stalled' | 'request_timeout' | 'client_gone'
  // a request that waited too long for the next pipeline of a reload
  | 'reload_timeout';

/** Why a connection was closed as soon as it was accepted. */
export type ConnectionRefusal = 'max_connections' | 'client_connection_limit';

/** The receiver's self-metrics, labelled by receiver id, transport and signal. */
export const otlpReceiverMetrics = defineMetrics({
  accepted: { type: 'counter', name: 'tokenledger_receiver_accepted_items_total', help: 'Spans, metric data points and log records acknowledged to the client.', labels: ['receiver', 'transport', 'signal'] },
  refusedItems: { type: 'counter', name: 'tokenledger_receiver_refused_items_total', help: 'Spans, metric data points and log records refused after decoding, by reason.', labels: ['receiver', 'transport', 'signal', 'reason'] },
  refusedRequests: { type: 'counter', name: 'tokenledger_receiver_refused_requests_total', help: 'Export requests answered with an error (or partial success), by reason.', labels: ['receiver', 'transport', 'signal', 'reason'] },
  requestSize: {
    type: 'histogram', name: 'tokenledger_receiver_request_size_bytes', help: 'Export request body size, decompressed.', labels: ['receiver', 'transport', 'signal'],
    buckets: [256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216],
  },
  latency: {
    type: 'histogram', name: 'tokenledger_receiver_request_duration_seconds', help: 'Time from the arrival of an Export request to its answer, pipeline acknowledgement included.', labels: ['receiver', 'transport', 'signal'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  },
  inFlight: { type: 'gauge', name: 'tokenledger_receiver_in_flight_bytes', help: 'Request bytes received and not yet acknowledged.', labels: ['receiver'] },
  queued: { type: 'gauge', name: 'tokenledger_receiver_queued_requests', help: 'Requests received whole and waiting for admission to the pipeline.', labels: ['receiver'] },
  refusedConnections: { type: 'counter', name: 'tokenledger_receiver_refused_connections_total', help: 'Connections closed as soon as accepted, by reason (max_connections, client_connection_limit).', labels: ['receiver', 'transport', 'reason'] },
});

export type ReceiverMetrics = DeclaredMetrics<typeof otlpReceiverMetrics>;
