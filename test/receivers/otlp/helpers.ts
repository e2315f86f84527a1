import * as grpc from '@grpc/grpc-js';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Batch } from '../../../core/batch.js';
import { defaults, type OtlpReceiverConfig } from '../../../receivers/otlp/config.js';
import { OtlpReceiver } from '../../../receivers/otlp/receiver.js';
import { testReceiverContext } from '../../helpers/context.js';

export type Overrides = Partial<Omit<OtlpReceiverConfig, 'protocols'>> & {
  grpc?: Partial<OtlpReceiverConfig['protocols']['grpc']>;
  http?: Partial<OtlpReceiverConfig['protocols']['http']>;
};

/** A started OTLP receiver on ephemeral loopback ports, its context, and its addresses. */
export async function startReceiver(overrides: Overrides = {}, consume?: (b: Batch) => Promise<void>, env: NodeJS.ProcessEnv = {}) {
  const { grpc, http, ...rest } = overrides;
  const config: OtlpReceiverConfig = {
    ...structuredClone(defaults),
    ...rest,
    protocols: {
      grpc: { ...structuredClone(defaults.protocols.grpc), endpoint: '127.0.0.1:0', ...grpc },
      http: { ...structuredClone(defaults.protocols.http), endpoint: '127.0.0.1:0', ...http },
    },
  };
  const ctx = testReceiverContext('otlp/test', consume);
  const receiver = new OtlpReceiver(config, ctx, env);
  await receiver.start();
  const { grpc: g, http: h } = receiver.addresses();
  return {
    receiver,
    ctx,
    httpUrl: h ? `http://127.0.0.1:${h.port}` : '',
    grpcUrl: g ? `http://127.0.0.1:${g.port}` : '',
    grpcTarget: g ? `127.0.0.1:${g.port}` : '',
  };
}

export type Started = Awaited<ReturnType<typeof startReceiver>>;

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface HttpReply { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

/** A raw HTTP request; with `chunked`, the body goes out in several chunks without Content-Length. */
export function post(url: string, body: Uint8Array | string, headers: Record<string, string> = {}, opts: { method?: string; chunked?: boolean; localAddress?: string } = {}): Promise<HttpReply> {
  const data = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body);
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: opts.method ?? 'POST', headers: opts.chunked ? headers : { ...headers, 'content-length': String(data.length) },
      ...(opts.localAddress ? { localAddress: opts.localAddress, agent: false } : {}),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.chunked) {
      const step = Math.max(1, Math.ceil(data.length / 4));
      for (let i = 0; i < data.length; i += step) req.write(data.subarray(i, i + step));
      req.end();
    } else {
      req.end(data);
    }
  });
}

/** A raw unary gRPC call to an OTLP Export method: bytes in, bytes (or the error) out. */
export function grpcExport(target: string, signal: 'traces' | 'metrics' | 'logs', body: Uint8Array, metadata: Record<string, string> = {}, opts: { gzip?: boolean; deadlineMs?: number } = {}): Promise<{ ok: true; body: Buffer } | { ok: false; error: grpc.ServiceError }> {
  const service = { traces: 'trace.v1.TraceService', metrics: 'metrics.v1.MetricsService', logs: 'logs.v1.LogsService' }[signal];
  const client = new grpc.Client(target, grpc.credentials.createInsecure(), opts.gzip ? { 'grpc.default_compression_algorithm': 2 } : {});
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  const raw = (b: Buffer) => b;
  return new Promise((resolve) => {
    client.makeUnaryRequest(`/opentelemetry.proto.collector.${service}/Export`, raw, raw, Buffer.from(body), md, { deadline: Date.now() + (opts.deadlineMs ?? 10_000) }, (err, res) => {
      client.close();
      resolve(err ? { ok: false, error: err } : { ok: true, body: res ?? Buffer.alloc(0) });
    });
  });
}

/** Polls `check` every 25 ms until it is true; throws naming `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** A raw TCP connection to `port` from `localAddress` (any 127.x.y.z is loopback on Linux: a distinct client), collecting what it receives. */
export interface RawClient { socket: Socket; received: () => string; closed: () => boolean }

export function rawClient(port: number, localAddress = '127.0.0.1'): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let closed = false;
    const socket = connect({ host: '127.0.0.1', port, localAddress }, () => {
      socket.off('error', reject);
      // The server resets connections it refuses; the test looks at what was received and whether it closed.
      socket.on('error', () => { closed = true; });
      resolve({ socket, received: () => Buffer.concat(chunks).toString('latin1'), closed: () => closed });
    });
    socket.once('error', reject);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => { closed = true; });
  });
}

/** The request line and headers of an OTLP/HTTP protobuf POST of `length` bytes, as a raw client sends them. */
export const rawHead = (length: number): string =>
  `POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${length}\r\n\r\n`;
