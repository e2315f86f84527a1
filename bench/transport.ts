import * as grpc from '@grpc/grpc-js';
import http from 'node:http';
import type { Signal } from './payload.js';

/**
 * OTLP clients that send already-encoded Export requests as they are: gRPC through a generic
 * grpc-js client with identity serializers (one HTTP/2 channel, as an OTel SDK exporter uses) and
 * HTTP/protobuf through a keep-alive agent. Loopback only.
 */

/** `retry`: the receiver refused with a retryable answer (back-pressure); anything else not ok throws. */
export type Outcome = 'ok' | 'retry';

export interface Transport {
  name: 'grpc' | 'http';
  send(signal: Signal, body: Buffer): Promise<Outcome>;
  close(): void;
}

/** The client's timeout for one export: past it the request counts as unanswered. */
export const TIMEOUT_MS = 15_000;

/** No answer within TIMEOUT_MS. */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

const GRPC_PATHS: Record<Signal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};

const identity = (b: Buffer): Buffer => b;

export function grpcTransport(port: number): Transport {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': 64 * 1024 * 1024, 'grpc.max_receive_message_length': 1024 * 1024,
  });
  return {
    name: 'grpc',
    send: (signal, body) => new Promise((resolve, reject) => {
      client.makeUnaryRequest(GRPC_PATHS[signal], identity, identity, body, new grpc.Metadata(), { deadline: Date.now() + TIMEOUT_MS }, (err) => {
        if (!err) resolve('ok');
        else if (err.code === grpc.status.DEADLINE_EXCEEDED) reject(new TimeoutError(`gRPC ${signal} export not answered within ${TIMEOUT_MS} ms`));
        else if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.RESOURCE_EXHAUSTED) resolve('retry');
        else reject(new Error(`gRPC ${signal} export failed: ${grpc.status[err.code]} ${err.details}`));
      });
    }),
    close: () => client.close(),
  };
}

/** `localAddress` (any 127.x.y.z): connect from it, so that the receiver sees a distinct client. */
export function httpTransport(port: number, maxSockets: number, localAddress?: string): Transport {
  const agent = new http.Agent({ keepAlive: true, maxSockets, ...(localAddress ? { localAddress } : {}) });
  return {
    name: 'http',
    send: (signal, body) => new Promise((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1', port, path: `/v1/${signal}`, method: 'POST', agent,
        headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length },
      }, (res) => {
        res.resume();
        res.on('end', () => {
          clearTimeout(timer);
          const s = res.statusCode ?? 0;
          if (s === 200) resolve('ok');
          else if (s === 503 || s === 429) resolve('retry');
          else reject(new Error(`HTTP ${signal} export failed: ${s}`));
        });
      });
      // A deadline for the whole exchange, as OTel exporters have (http's `timeout` is only an idle timeout).
      const timer = setTimeout(() => req.destroy(new TimeoutError(`HTTP ${signal} export not answered within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
      req.on('error', (err) => { clearTimeout(timer); reject(err); });
      req.end(body);
    }),
    close: () => agent.destroy(),
  };
}
