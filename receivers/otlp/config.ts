import { BEARER_AUTH_DEFAULTS, bearerAuthSchema, type BearerAuthConfig } from '../../core/bearer-auth.js';
import { durationSchema } from '../../core/config/duration.js';
import { serverTlsSchema as tls, type ServerTlsConfig as TlsConfig } from '../../core/tls.js';

export interface GrpcConfig {
  enabled: boolean;
  endpoint: string;
  max_recv_msg_size_mib: number;
  keepalive: { time: string; timeout: string };
  max_concurrent_streams: number;
  flow_control_window_mib: number;
  max_connection_idle: string;
  max_connection_age: string;
  max_connection_age_grace: string;
  tls?: TlsConfig;
}

export interface HttpConfig {
  enabled: boolean;
  endpoint: string;
  traces_url_path: string;
  metrics_url_path: string;
  logs_url_path: string;
  max_request_body_size_mib: number;
  read_header_timeout: string;
  read_timeout: string;
  body_stall_timeout: string;
  idle_timeout: string;
  max_connections: number;
  tls?: TlsConfig;
}

/** What one client (remote address) may hold at once, so that it cannot take everything. */
export interface PerClientLimits {
  max_in_flight_mib: number;
  max_requests: number;
  max_connections: number;
}

/** How many requests are decoded and in the pipeline at once, and how many may wait for that, for how long. */
export interface AdmissionConfig {
  max_concurrent_requests: number;
  max_queued_requests: number;
  max_queue_wait: string;
}

export interface OtlpReceiverConfig {
  protocols: { grpc: GrpcConfig; http: HttpConfig };
  auth: BearerAuthConfig;
  headers_to_resource_attributes: Record<string, string>;
  max_in_flight_mib: number;
  per_client: PerClientLimits;
  admission: AdmissionConfig;
  retry_after: string;
  drain_timeout: string;
}

const GRPC_DEFAULTS: GrpcConfig = {
  enabled: true, endpoint: '0.0.0.0:4317', max_recv_msg_size_mib: 4, keepalive: { time: '2h', timeout: '20s' },
  max_concurrent_streams: 100, flow_control_window_mib: 16, max_connection_idle: '0s', max_connection_age: '0s', max_connection_age_grace: '0s',
};
const HTTP_DEFAULTS: HttpConfig = {
  enabled: true, endpoint: '0.0.0.0:4318', traces_url_path: '/v1/traces', metrics_url_path: '/v1/metrics', logs_url_path: '/v1/logs', max_request_body_size_mib: 20,
  read_header_timeout: '10s', read_timeout: '60s', body_stall_timeout: '10s', idle_timeout: '60s', max_connections: 4096,
};

export const defaults: OtlpReceiverConfig = {
  protocols: { grpc: GRPC_DEFAULTS, http: HTTP_DEFAULTS },
  auth: BEARER_AUTH_DEFAULTS,
  headers_to_resource_attributes: {},
  max_in_flight_mib: 64,
  per_client: { max_in_flight_mib: 32, max_requests: 128, max_connections: 256 },
  admission: { max_concurrent_requests: 8, max_queued_requests: 256, max_queue_wait: '5s' },
  retry_after: '5s',
  drain_timeout: '20s',
};

const endpoint = (dflt: string) => ({
  type: 'string', format: 'host-port', default: dflt,
  description: `host:port to listen on (\`[::]:port\` for IPv6); port 0 picks a free port. Default ${dflt}.`,
});

const duration = (dflt: string, description: string) => durationSchema(dflt, description);

const urlPath = (dflt: string) => ({ type: 'string', pattern: '^/', default: dflt, description: `URL path of the Export endpoint. Default ${dflt}.` });

export const schema: Record<string, unknown> = {
  type: 'object',
  additionalProperties: false,
  description: 'Receives OTLP traces, metrics and logs over gRPC and HTTP (protobuf and JSON), answering success only once the pipeline accepted the data.',
  properties: {
    protocols: {
      type: 'object', additionalProperties: false, default: {},
      description: 'Transports to serve: both by default; turn one off with `enabled: false`.',
      properties: {
        grpc: {
          type: 'object', additionalProperties: false, default: {},
          description: 'OTLP/gRPC: the opentelemetry.proto.collector.*.v1 Export services. gzip-compressed requests are accepted.',
          properties: {
            enabled: { type: 'boolean', default: true, description: 'Serve OTLP/gRPC.' },
            endpoint: endpoint(GRPC_DEFAULTS.endpoint),
            max_recv_msg_size_mib: { type: 'number', exclusiveMinimum: 0, maximum: 1024, default: GRPC_DEFAULTS.max_recv_msg_size_mib, description: 'Largest accepted request message, in MiB (after decompression).' },
            keepalive: {
              type: 'object', additionalProperties: false, default: GRPC_DEFAULTS.keepalive,
              description: 'Server keepalive pings on idle connections.',
              properties: {
                time: duration(GRPC_DEFAULTS.keepalive.time, 'Ping a client after this long without activity.'),
                timeout: duration(GRPC_DEFAULTS.keepalive.timeout, 'Close the connection when a ping is not answered within this.'),
              },
            },
            max_concurrent_streams: { type: 'integer', minimum: 1, default: GRPC_DEFAULTS.max_concurrent_streams, description: 'Calls open at once on one connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS); a client waits for a free stream beyond it.' },
            flow_control_window_mib: { type: 'number', minimum: 0.0625, maximum: 2048, default: GRPC_DEFAULTS.flow_control_window_mib, description: 'HTTP/2 flow-control window of each connection and of each call, in MiB: how much a client may send before the server acknowledges it. HTTP/2\'s default 64 KiB makes a large export wait for a turn of a busy event loop every 64 KiB (16 MiB: 22 % more gRPC throughput at saturation in the bench).' },
            max_connection_idle: duration(GRPC_DEFAULTS.max_connection_idle, 'Close (GOAWAY) a connection without a call for this long; `0s` never. Clients reconnect transparently.'),
            max_connection_age: duration(GRPC_DEFAULTS.max_connection_age, 'Close (GOAWAY) a connection this old, so that clients rebalance and no connection lives forever; `0s` never.'),
            max_connection_age_grace: duration(GRPC_DEFAULTS.max_connection_age_grace, 'After `max_connection_age`, how long calls still open may run before the connection is cut (this ends a stalled upload); `0s` no limit.'),
            tls,
          },
        },
        http: {
          type: 'object', additionalProperties: false, default: {},
          description: 'OTLP/HTTP: POST of protobuf (application/x-protobuf) or JSON (application/json) bodies, gzip or deflate encoded or not.',
          properties: {
            enabled: { type: 'boolean', default: true, description: 'Serve OTLP/HTTP.' },
            endpoint: endpoint(HTTP_DEFAULTS.endpoint),
            traces_url_path: urlPath(HTTP_DEFAULTS.traces_url_path),
            metrics_url_path: urlPath(HTTP_DEFAULTS.metrics_url_path),
            logs_url_path: urlPath(HTTP_DEFAULTS.logs_url_path),
            max_request_body_size_mib: { type: 'number', exclusiveMinimum: 0, maximum: 1024, default: HTTP_DEFAULTS.max_request_body_size_mib, description: 'Largest accepted request body, in MiB, checked both before and after decompression (413 beyond).' },
            read_header_timeout: duration(HTTP_DEFAULTS.read_header_timeout, 'Time a client has to send the request line and headers, from its first byte (408 and close beyond). Ends slow-header (slowloris) connections.'),
            read_timeout: duration(HTTP_DEFAULTS.read_timeout, 'Time a client has to send a whole request, headers and body (408 and close beyond). At least `read_header_timeout`; 60 s let a 20 MiB body arrive at 350 KB/s.'),
            body_stall_timeout: duration(HTTP_DEFAULTS.body_stall_timeout, 'A request body from which no byte arrives for this long is cut: answered 503 with Retry-After (nothing was acknowledged; the client may send again), its in-flight bytes released, the connection closed.'),
            idle_timeout: duration(HTTP_DEFAULTS.idle_timeout, 'How long a keep-alive connection may wait for its next request before it is closed. Longer than the idle time of client connection pools, so that a client rarely reuses a connection the server is closing.'),
            max_connections: { type: 'integer', minimum: 1, default: HTTP_DEFAULTS.max_connections, description: 'Open connections at once; beyond it new connections are closed at once. Each takes a file descriptor: keep it below the process limit (`ulimit -n`).' },
            tls,
          },
        },
      },
    },
    auth: bearerAuthSchema('Bearer-token authentication (`Authorization: Bearer <token>`, gRPC metadata `authorization`). Off when no token is configured.'),
    headers_to_resource_attributes: {
      type: 'object', additionalProperties: { type: 'string', minLength: 1 }, default: {},
      description: 'Request headers (gRPC metadata) copied into the resource attributes of the data, as `header-name: attribute.key` (e.g. `x-tenant-id: tenant.id`). The header wins over an attribute the client set. Credential headers (authorization, cookie, x-api-key, …) are refused.',
    },
    max_in_flight_mib: { type: 'number', exclusiveMinimum: 0, maximum: 16_384, default: defaults.max_in_flight_mib, description: 'Request bytes (decompressed) held at once, received but not yet acknowledged by the pipeline; beyond it requests get a retryable refusal (HTTP 503, gRPC UNAVAILABLE).' },
    per_client: {
      type: 'object', additionalProperties: false, default: defaults.per_client,
      description: 'Limits for one client, told apart by remote address (a proxy or NAT in front makes many clients one), so that one client cannot take the whole in-flight budget or every connection. Beyond them requests get a retryable refusal (HTTP 503 with Retry-After, gRPC UNAVAILABLE).',
      properties: {
        max_in_flight_mib: { type: 'number', exclusiveMinimum: 0, maximum: 16_384, default: defaults.per_client.max_in_flight_mib, description: 'Request bytes one client holds at once, counted as they arrive (not as declared). At least `max_request_body_size_mib` and `max_recv_msg_size_mib`.' },
        max_requests: { type: 'integer', minimum: 1, default: defaults.per_client.max_requests, description: 'Requests of one client being received or processed at once.' },
        max_connections: { type: 'integer', minimum: 1, default: defaults.per_client.max_connections, description: 'OTLP/HTTP connections one client holds open; a request on a connection beyond it is answered 503 with Retry-After and the connection closed.' },
      },
    },
    admission: {
      type: 'object', additionalProperties: false, default: defaults.admission,
      description: 'Admission to the pipeline: a request whose body has arrived waits for one of `max_concurrent_requests` slots (decode and pipeline), slots going round-robin across clients. When `max_queued_requests` already wait, or the wait would pass `max_queue_wait` (or the deadline of a gRPC call), it is answered 503 with Retry-After / UNAVAILABLE at once, well before a client timeout, instead of answering late.',
      properties: {
        max_concurrent_requests: { type: 'integer', minimum: 1, default: defaults.admission.max_concurrent_requests, description: 'Requests decoded and in the pipeline at once. They share one event loop: once the CPU is busy more only add latency (to every request, and to reading new ones); a few overlap the pipeline\'s waits (disk-queue fsync).' },
        max_queued_requests: { type: 'integer', minimum: 0, default: defaults.admission.max_queued_requests, description: 'Requests waiting for a slot; beyond it refused at once.' },
        max_queue_wait: duration(defaults.admission.max_queue_wait, 'Longest time from the arrival of a request to its admission; a request still waiting then is refused. Keep it well under client timeouts (10 s in the OTel SDKs).'),
      },
    },
    retry_after: duration(defaults.retry_after, 'Retry-After given with a refusal for the in-flight, per-client and admission limits (pipeline refusals carry the delay the pipeline names).'),
    drain_timeout: duration(defaults.drain_timeout, 'On shutdown, how long to wait for requests in flight to be acknowledged before closing their connections.'),
  },
};
