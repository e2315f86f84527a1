import * as grpc from '@grpc/grpc-js';
import { encodeStatus, GrpcCode, type Signal } from './codec.js';
import type { GrpcConfig } from './config.js';
import { parseDuration } from '../../core/config/duration.js';
import { readServerTls } from '../../core/tls.js';
import { grpcPeerKey } from './clients.js';
import { parseEndpoint, type BoundAddress } from './endpoint.js';
import { failure, type ExportFailure } from './export-handler.js';
import { inFlightFull } from './in-flight.js';
import type { TransportDeps } from './transport-deps.js';

const SERVICES: Record<Signal, string> = {
  traces: 'opentelemetry.proto.collector.trace.v1.TraceService',
  metrics: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
  logs: 'opentelemetry.proto.collector.logs.v1.LogsService',
};

const raw = (b: Buffer): Buffer => b;

/** One Export method whose messages stay raw bytes: the codec decodes them, as for HTTP. */
function exportService(signal: Signal): grpc.ServiceDefinition {
  return {
    Export: {
      path: `/${SERVICES[signal]}/Export`,
      requestStream: false,
      responseStream: false,
      requestSerialize: raw,
      requestDeserialize: raw,
      responseSerialize: raw,
      responseDeserialize: raw,
    },
  };
}

/** OTLP/gRPC with @grpc/grpc-js: the three Export services (gzip request compression is built in). */
export class OtlpGrpcServer {
  private readonly server: grpc.Server;
  private closing = false;

  constructor(private readonly config: GrpcConfig, private readonly deps: TransportDeps) {
    this.server = new grpc.Server(serverOptions(config));
    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      const handler: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
        this.export(signal, call).then(
          (result) => (result instanceof Uint8Array ? callback(null, Buffer.from(result.buffer, result.byteOffset, result.byteLength)) : callback(statusOf(result))),
          (err: unknown) => {
            deps.logger.error('OTLP/gRPC request failed unexpectedly', { err });
            callback({ code: GrpcCode.INTERNAL, details: 'internal error' });
          },
        );
      };
      this.server.addService(exportService(signal), { Export: handler });
    }
  }

  start(): Promise<BoundAddress> {
    const { host } = parseEndpoint(this.config.endpoint);
    const tls = this.config.tls;
    const pem = tls && readServerTls(tls, this.deps.configDir);
    const creds = pem
      ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: pem.cert, private_key: pem.key }], false)
      : grpc.ServerCredentials.createInsecure();
    return new Promise((ok, fail) => {
      this.server.bindAsync(this.config.endpoint, creds, (err, port) => (err
        ? fail(new Error(`cannot listen for OTLP/gRPC on ${this.config.endpoint}: ${err.message}`, { cause: err }))
        : ok({ host, port })));
    });
  }

  /** Refuses new calls, lets calls in flight finish (up to `timeoutMs`), then closes every connection. */
  async close(timeoutMs: number): Promise<void> {
    this.closing = true;
    let timer: NodeJS.Timeout | undefined;
    const drained = new Promise<boolean>((ok) => this.server.tryShutdown(() => ok(true)));
    const timeout = new Promise<boolean>((ok) => { timer = setTimeout(() => ok(false), timeoutMs); });
    const clean = await Promise.race([drained, timeout]);
    clearTimeout(timer);
    if (!clean) {
      this.deps.logger.warn('gRPC drain timed out; closing connections with calls still in flight');
      this.server.forceShutdown();
    }
  }

  private async export(signal: Signal, call: grpc.ServerUnaryCall<Buffer, Buffer>): Promise<Uint8Array | ExportFailure> {
    const started = process.hrtime.bigint();
    const arrived = performance.now();
    const { handler, auth, inFlight, clients, metrics } = this.deps;
    const refuse = (f: ExportFailure): ExportFailure => handler.refuse('grpc', signal, f);
    if (this.closing) return refuse(failure('shutting_down', GrpcCode.UNAVAILABLE, 503, 'receiver is shutting down, retry later', this.deps.retryAfterSeconds));
    if (auth !== null && !auth(metadataValue(call.metadata, 'authorization'))) {
      return refuse(failure('unauthenticated', GrpcCode.UNAUTHENTICATED, 401, 'missing or invalid bearer token'));
    }
    const address = grpcPeerKey(call.getPeer());
    const client = clients.startRequest(address);
    if (client === null) {
      return refuse(failure('client_request_limit', GrpcCode.UNAVAILABLE, 503, `this client has ${clients.limits.maxRequests} calls open, retry later`, this.deps.retryAfterSeconds));
    }
    const body = call.request;
    const refused = inFlight.tryAcquire(body.length, client);
    if (refused !== null) {
      clients.endRequest(client);
      return refuse(inFlightFull(refused, this.deps.retryAfterSeconds));
    }
    const labels = { receiver: this.deps.receiverId, transport: 'grpc', signal } as const;
    try {
      metrics.requestSize.observe(labels, body.length);
      const request = { client: address, arrivedMs: arrived, deadlineMs: deadlineOf(call), gone: () => call.cancelled };
      const outcome = await handler.handle('grpc', signal, body, 'protobuf', (name) => metadataValue(call.metadata, name), request);
      return outcome.ok ? outcome.body : outcome.error;
    } finally {
      inFlight.release(body.length, client);
      clients.endRequest(client);
      metrics.latency.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }
}

/** grpc-js channel options for the configured limits; a `0s` duration leaves grpc-js's default (none). */
function serverOptions(config: GrpcConfig): grpc.ChannelOptions {
  const options: grpc.ChannelOptions = {
    'grpc.max_receive_message_length': Math.floor(config.max_recv_msg_size_mib * 1024 * 1024),
    'grpc.keepalive_time_ms': parseDuration(config.keepalive.time),
    'grpc.keepalive_timeout_ms': parseDuration(config.keepalive.timeout),
    'grpc.max_concurrent_streams': config.max_concurrent_streams,
  };
  const durations = [
    ['grpc.max_connection_idle_ms', config.max_connection_idle],
    ['grpc.max_connection_age_ms', config.max_connection_age],
    ['grpc.max_connection_age_grace_ms', config.max_connection_age_grace],
  ] as const;
  for (const [option, text] of durations) {
    const ms = parseDuration(text);
    if (ms > 0) options[option] = ms;
  }
  return options;
}

/** The call's deadline on performance.now()'s clock; undefined when the client set none. */
function deadlineOf(call: grpc.ServerUnaryCall<Buffer, Buffer>): number | undefined {
  const d = call.getDeadline();
  const epochMs = d instanceof Date ? d.getTime() : d;
  return Number.isFinite(epochMs) ? epochMs - Date.now() + performance.now() : undefined;
}

function metadataValue(md: grpc.Metadata, name: string): string | undefined {
  const values = md.get(name).filter((v): v is string => typeof v === 'string');
  return values.length === 0 ? undefined : values.join(',');
}

/** The gRPC error, with a google.rpc.Status (carrying RetryInfo when there is a delay) in `grpc-status-details-bin`. */
function statusOf(f: ExportFailure): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  metadata.set('grpc-status-details-bin', Buffer.from(encodeStatus('protobuf', f.code, f.message, f.retryAfterSeconds)));
  return { code: f.code, details: f.message, metadata };
}
