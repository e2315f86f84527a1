import { BEARER_AUTH_DEFAULTS, bearerAuthSchema, type BearerAuthConfig } from '../../core/bearer-auth.js';
import { DURATION_PATTERN } from '../../core/config/duration.js';
import { serverTlsSchema as tls, type ServerTlsConfig as TlsConfig } from '../../core/tls.js';

export interface GrpcConfig {
  enabled: boolean;
  endpoint: string;
  max_recv_msg_size_mib: number;
  keepalive: { time: string; timeout: string };
  tls?: TlsConfig;
}

export interface HttpConfig {
  enabled: boolean;
  endpoint: string;
  traces_url_path: string;
  metrics_url_path: string;
  logs_url_path: string;
  max_request_body_size_mib: number;
  tls?: TlsConfig;
}

export interface OtlpReceiverConfig {
  protocols: { grpc: GrpcConfig; http: HttpConfig };
  auth: BearerAuthConfig;
  headers_to_resource_attributes: Record<string, string>;
  max_in_flight_mib: number;
  retry_after: string;
  drain_timeout: string;
}

const GRPC_DEFAULTS: GrpcConfig = { enabled: true, endpoint: '0.0.0.0:4317', max_recv_msg_size_mib: 4, keepalive: { time: '2h', timeout: '20s' } };
const HTTP_DEFAULTS: HttpConfig = {
  enabled: true, endpoint: '0.0.0.0:4318', traces_url_path: '/v1/traces', metrics_url_path: '/v1/metrics', logs_url_path: '/v1/logs', max_request_body_size_mib: 20,
};

export const defaults: OtlpReceiverConfig = {
  protocols: { grpc: GRPC_DEFAULTS, http: HTTP_DEFAULTS },
  auth: BEARER_AUTH_DEFAULTS,
  headers_to_resource_attributes: {},
  max_in_flight_mib: 64,
  retry_after: '5s',
  drain_timeout: '20s',
};

const endpoint = (dflt: string) => ({
  type: 'string', format: 'host-port', default: dflt,
  description: `host:port to listen on (\`[::]:port\` for IPv6); port 0 picks a free port. Default ${dflt}.`,
});

const duration = (dflt: string, description: string) => ({ type: 'string', pattern: DURATION_PATTERN, format: 'timer-duration', default: dflt, description });

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
    max_in_flight_mib: { type: 'number', exclusiveMinimum: 0, maximum: 16_384, default: defaults.max_in_flight_mib, description: 'Request bytes (decompressed) held at once, received but not yet acknowledged by the pipeline; beyond it requests get a retryable refusal (HTTP 503, gRPC UNAVAILABLE). At least the largest request size.' },
    retry_after: duration(defaults.retry_after, 'Retry-After given with a refusal for the in-flight limit (pipeline refusals carry the delay the pipeline names).'),
    drain_timeout: duration(defaults.drain_timeout, 'On shutdown, how long to wait for requests in flight to be acknowledged before closing their connections.'),
  },
};
