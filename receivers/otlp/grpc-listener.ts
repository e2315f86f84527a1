import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { parseDuration } from '../../core/config/duration.js';
import { Relay } from '../../core/handoff.js';
import { settledWithin } from '../../core/settle.js';
import type { Logger } from '../../core/logger.js';
import type { ServerTlsPem } from '../../core/tls.js';
import type { Signal } from './codec/codec.js';
import type { GrpcConfig } from './config.js';
import { parseEndpoint, type BoundAddress } from './endpoint.js';
import { FLOW_CONTROL_WINDOW, widenFlowControl } from './grpc-flow-control.js';

/** What serves the calls of a listener: the OTLP/gRPC server of the receiver now running. */
export interface GrpcTarget {
  /** Serves an Export call. */
  accept(signal: Signal, call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>): void;
  /** Answers "retry later" to a call that waited too long for the next pipeline of a reload. */
  refuseWaiting(signal: Signal, callback: grpc.sendUnaryData<Buffer>): void;
}

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

/** HTTP/2's largest window, 2^31 − 1 bytes. */
const MAX_WINDOW = 2 ** 31 - 1;

/** grpc-js channel options for the configured limits; a `0s` duration leaves grpc-js's default (none). */
export function serverOptions(config: GrpcConfig): grpc.ChannelOptions {
  const options: grpc.ChannelOptions = {
    'grpc.max_receive_message_length': Math.floor(config.max_recv_msg_size_mib * 1024 * 1024),
    'grpc.keepalive_time_ms': parseDuration(config.keepalive.time),
    'grpc.keepalive_timeout_ms': parseDuration(config.keepalive.timeout),
    'grpc.max_concurrent_streams': config.max_concurrent_streams,
    [FLOW_CONTROL_WINDOW]: Math.min(Math.floor(config.flow_control_window_mib * 1024 * 1024), MAX_WINDOW),
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

/**
 * A grpc-js Server bound to one OTLP/gRPC endpoint. Its options and credentials are fixed once
 * bound, so a reload that keeps the endpoint and all of them (`fingerprint`) keeps the server, its
 * port and its connections: each call goes to whichever receiver is attached to its relay, and
 * waits for the next one during the swap.
 */
export class GrpcListener {
  private constructor(private readonly server: grpc.Server, readonly fingerprint: string, readonly address: BoundAddress, readonly relay: Relay<GrpcTarget>) {}

  /** What must not change for a reload to keep the server: the options it was built with and its certificate. */
  static fingerprint(options: grpc.ChannelOptions, pem: ServerTlsPem | undefined): string {
    const h = createHash('sha256').update(JSON.stringify(options));
    if (pem) h.update(pem.cert).update(pem.key);
    return h.digest('hex');
  }

  /** Binds `endpoint`, with `first` attached. */
  static open(endpoint: string, options: grpc.ChannelOptions, pem: ServerTlsPem | undefined, first: GrpcTarget, logger: Logger): Promise<GrpcListener> {
    const server = new grpc.Server(options);
    const relay = new Relay<GrpcTarget>(first);
    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      const handler: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => relay.route((t) => t.accept(signal, call, callback), (t) => t.refuseWaiting(signal, callback));
      server.addService(exportService(signal), { Export: handler });
    }
    const { host } = parseEndpoint(endpoint);
    const creds = pem
      ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: pem.cert, private_key: pem.key }], false)
      : grpc.ServerCredentials.createInsecure();
    const fingerprint = GrpcListener.fingerprint(options, pem);
    return new Promise((ok, fail) => {
      server.bindAsync(endpoint, creds, (err, port) => {
        if (err) return fail(new Error(`cannot listen for OTLP/gRPC on ${endpoint}: ${err.message}`, { cause: err }));
        const window = options[FLOW_CONTROL_WINDOW] as number;
        if (!widenFlowControl(server, window)) {
          logger.warn('cannot set the gRPC flow-control window: this grpc-js keeps its HTTP/2 servers elsewhere; gRPC receives with 64 KiB windows (slower under load)', { endpoint, flow_control_window_bytes: window });
        }
        ok(new GrpcListener(server, fingerprint, { host, port }, relay));
      });
    });
  }

  /**
   * Refuses new calls and answers those waiting for a receiver, lets calls in flight finish (up to
   * `timeoutMs`), then closes every connection. False when calls were cut off.
   */
  async close(timeoutMs: number): Promise<boolean> {
    this.relay.close();
    const drained = new Promise<void>((ok) => this.server.tryShutdown(() => ok()));
    const clean = await settledWithin([drained], timeoutMs);
    if (!clean) this.server.forceShutdown();
    return clean;
  }
}
