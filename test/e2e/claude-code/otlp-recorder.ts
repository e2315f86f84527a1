/**
 * A tiny OTLP sink that records every export request exactly as it arrived, over OTLP/HTTP
 * (JSON or protobuf, chunked or not) and OTLP/gRPC (raw protobuf bytes), so that the real
 * Claude Code CLI's telemetry can be checked and committed as a capture without trusting any
 * decoder of ours.
 */
import * as grpc from '@grpc/grpc-js';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export type Signal = 'traces' | 'metrics' | 'logs';

export interface RecordedExport {
  n: number;
  at: string;
  transport: 'http' | 'grpc';
  signal: Signal;
  path: string;
  contentType: string;
  transferEncoding: string | null;
  userAgent: string;
  /** Headers other than the transport's standard ones (authorization, x-* …). */
  extraHeaders: Record<string, string>;
  body: Buffer;
}

export interface OtlpRecorder {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT over HTTP. */
  httpEndpoint: string;
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT over gRPC. */
  grpcEndpoint: string;
  exports: RecordedExport[];
  /** Resolves once `pred` holds for the recorded exports, rejects after `timeoutMs`. */
  waitFor(pred: (exports: RecordedExport[]) => boolean, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

const HTTP_PATHS: Record<string, Signal> = { '/v1/traces': 'traces', '/v1/metrics': 'metrics', '/v1/logs': 'logs' };
const GRPC_SERVICES: Record<Signal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};
const STANDARD_HEADERS = new Set([
  'host', 'connection', 'content-type', 'content-length', 'content-encoding', 'transfer-encoding', 'user-agent',
  'accept', 'accept-encoding', 'te', 'grpc-accept-encoding', 'grpc-encoding', 'grpc-timeout', ':authority',
  ':method', ':path', ':scheme',
]);

function extraHeaders(headers: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (!STANDARD_HEADERS.has(k) && !k.startsWith('grpc-')) out[k] = Array.isArray(v) ? v.join(',') : String(v);
  }
  return out;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const identity = (b: Buffer): Buffer => b;

export async function startOtlpRecorder(): Promise<OtlpRecorder> {
  const exports: RecordedExport[] = [];
  const waiters = new Set<() => void>();
  const record = (e: Omit<RecordedExport, 'n' | 'at'>): void => {
    exports.push({ n: exports.length + 1, at: new Date().toISOString(), ...e });
    for (const w of waiters) w();
  };

  const http: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const signal = HTTP_PATHS[path];
    if (req.method !== 'POST' || !signal) {
      res.writeHead(404).end();
      return;
    }
    readBody(req).then((body) => {
      const contentType = req.headers['content-type'] ?? '';
      record({
        transport: 'http', signal, path, contentType, body,
        transferEncoding: req.headers['transfer-encoding'] ?? null,
        userAgent: req.headers['user-agent'] ?? '',
        extraHeaders: extraHeaders(req.headers),
      });
      // An empty Export*ServiceResponse: `{}` in JSON, zero bytes in protobuf.
      const json = contentType.startsWith('application/json');
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : '');
    }, (err: Error) => {
      res.writeHead(400).end(err.message);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));

  const grpcServer = new grpc.Server();
  for (const [signal, path] of Object.entries(GRPC_SERVICES) as [Signal, string][]) {
    const definition: grpc.ServiceDefinition = {
      Export: {
        path, requestStream: false, responseStream: false,
        requestSerialize: identity, requestDeserialize: identity,
        responseSerialize: identity, responseDeserialize: identity,
      },
    };
    grpcServer.addService(definition, {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const md = call.metadata.getMap();
        record({
          transport: 'grpc', signal, path, contentType: 'application/grpc', transferEncoding: null,
          userAgent: String(md['user-agent'] ?? ''), extraHeaders: extraHeaders(md), body: call.request,
        });
        callback(null, Buffer.alloc(0));
      },
    });
  }
  const grpcPort = await new Promise<number>((resolve, reject) => {
    grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
  });

  return {
    httpEndpoint: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    grpcEndpoint: `http://127.0.0.1:${grpcPort}`,
    exports,
    waitFor(pred, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (!pred(exports)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`OTLP recorder: condition not met within ${timeoutMs} ms; got ${exports.map((e) => e.signal).join(', ') || 'no exports'}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      await new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
    },
  };
}

/**
 * Writes the exports in the layout of the shared fixtures: NNN-<signal>.json|.pb with the body as
 * received, and index.jsonl with one line of metadata per request.
 */
export async function saveExports(dir: string, exports: RecordedExport[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  const index: string[] = [];
  for (const e of exports) {
    const file = `${String(e.n).padStart(3, '0')}-${e.signal}.${e.contentType.startsWith('application/json') ? 'json' : 'pb'}`;
    await writeFile(join(dir, file), e.body);
    index.push(JSON.stringify({
      n: e.n, at: e.at, transport: e.transport, path: e.path, signal: e.signal, content_type: e.contentType,
      transfer_encoding: e.transferEncoding, user_agent: e.userAgent, extra_headers: e.extraHeaders, bytes: e.body.length, file,
    }));
  }
  await writeFile(join(dir, 'index.jsonl'), index.join('\n') + '\n');
}
