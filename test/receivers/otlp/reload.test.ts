import * as grpc from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import type { Batch } from '../../../core/batch.js';
import { Service } from '../../../core/service.js';
import { otlpReceiverFactory } from '../../../receivers/otlp/index.js';
import { messages } from '../../../receivers/otlp/codec/proto.js';
import { exported, fakeFactories, unstick } from '../../core/fake-components.js';
import { metricValue } from '../../helpers/context.js';
import { freePort } from '../../helpers/net.js';
import { sleep } from './helpers.js';

/**
 * A SIGHUP reload under continuous OTLP traffic: receivers whose endpoint stays keep their
 * listening sockets (and connections), requests arriving during the swap wait for the new
 * pipeline, so no client ever sees a refused or reset connection, and every acknowledged span is
 * delivered exactly once.
 */

const config = (http: number, grpcPort: number, mode: 'fast' | 'slow', extra = '') => `receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:${grpcPort}${extra} }
      http: { endpoint: 127.0.0.1:${http} }
exporters:
  memory:
    mode: ${mode}
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [memory]
  telemetry:
    logs: { level: error }
    admin: { endpoint: 127.0.0.1:0 }
  shutdown_timeout: 5s
`;

const spanPb = (name: string) => messages.traceRequest.encode({ resourceSpans: [{ scopeSpans: [{ spans: [{ name }] }] }] }).finish();
const delivered = (): string[] => (exported.get('memory') ?? []).flatMap((b: Batch) => b.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((sp) => sp.name))));

let service: Service | undefined;
let file: string;
beforeEach(() => {
  exported.clear();
  file = join(mkdtempSync(join(tmpdir(), 'tl-reload-')), 'pipeline.yaml');
});
afterEach(async () => {
  await service?.stop();
  service = undefined;
});

/** What the clients saw; `slowestMs` is the longest wait for an answer (a request held over a swap). */
interface Tally { acked: string[]; retried: number; errors: string[]; slowestMs: number }

/** POSTs spans one after another until `stop`; a 503 is sent again (as OTLP clients do), a connection error is recorded. */
async function httpClient(port: number, name: string, agent: Agent, stop: () => boolean, t: Tally): Promise<void> {
  for (let i = 0; !stop(); i++) {
    const span = `${name}-${i}`;
    for (;;) {
      const sentAt = Date.now();
      const status = await new Promise<number | string>((resolve) => {
        const body = Buffer.from(spanPb(span));
        const req = request({ host: '127.0.0.1', port, path: '/v1/traces', method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        req.end(body);
      });
      t.slowestMs = Math.max(t.slowestMs, Date.now() - sentAt);
      if (status === 200) { t.acked.push(span); break; }
      if (status === 503) { t.retried++; await sleep(20); continue; }
      t.errors.push(`${span}: ${status}`);
      break;
    }
  }
}

/** The same over gRPC, on one channel kept for the whole run (`shared`) or a new channel per call. */
async function grpcClient(port: number, name: string, shared: boolean, stop: () => boolean, t: Tally): Promise<void> {
  const open = () => new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const raw = (b: Buffer) => b;
  let client = open();
  for (let i = 0; !stop(); i++) {
    const span = `${name}-${i}`;
    for (;;) {
      const sentAt = Date.now();
      const err = await new Promise<grpc.ServiceError | null>((resolve) => {
        client.makeUnaryRequest('/opentelemetry.proto.collector.trace.v1.TraceService/Export', raw, raw, Buffer.from(spanPb(span)), new grpc.Metadata(), { deadline: Date.now() + 15_000 }, (e) => resolve(e));
      });
      t.slowestMs = Math.max(t.slowestMs, Date.now() - sentAt);
      if (!shared) { client.close(); client = open(); }
      if (err === null) { t.acked.push(span); break; }
      if (err.code === grpc.status.UNAVAILABLE && /retry later/.test(err.details)) { t.retried++; await sleep(20); continue; }
      t.errors.push(`${span}: ${grpc.status[err.code]} ${err.details}`);
      break;
    }
  }
  client.close();
}

test('reloads under HTTP and gRPC traffic: no connection error, every acknowledged span delivered once', async () => {
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  writeFileSync(file, config(httpPort, grpcPort, 'fast'));
  service = new Service(file, [otlpReceiverFactory, ...fakeFactories]);
  await service.start();

  let stopped = false;
  const stop = () => stopped;
  const t: Tally = { acked: [], retried: 0, errors: [], slowestMs: 0 };
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 2 });
  const fresh = new Agent({ keepAlive: false });
  const clients = [
    httpClient(httpPort, 'http-keepalive-a', keepAlive, stop, t),
    httpClient(httpPort, 'http-keepalive-b', keepAlive, stop, t),
    httpClient(httpPort, 'http-fresh', fresh, stop, t),
    grpcClient(grpcPort, 'grpc-shared', true, stop, t),
    grpcClient(grpcPort, 'grpc-fresh', false, stop, t),
  ];
  await sleep(300);
  const reloads = 5;
  for (let i = 0; i < reloads; i++) {
    writeFileSync(file, config(httpPort, grpcPort, i % 2 ? 'fast' : 'slow'));
    expect(await service.reload()).toBe(true);
    await sleep(150);
  }
  stopped = true;
  await Promise.all(clients);
  keepAlive.destroy();

  process.stdout.write(`reload under traffic: ${reloads} reloads, ${t.acked.length} requests acknowledged, ${t.retried} answered "retry later", slowest answer ${t.slowestMs} ms\n`);
  expect(t.errors).toEqual([]);
  expect(t.acked.length).toBeGreaterThan(50);
  for (const prefix of ['http-keepalive-a', 'http-keepalive-b', 'http-fresh', 'grpc-shared', 'grpc-fresh']) {
    expect(t.acked.filter((s) => s.startsWith(`${prefix}-`)).length, prefix).toBeGreaterThan(5);
  }
  const got = delivered();
  const once = new Set(got);
  expect(got.length, 'no span delivered twice').toBe(once.size);
  expect(t.acked.filter((s) => !once.has(s)), 'acknowledged but not delivered').toEqual([]);
  expect(await metricValue(service.registry, 'tokenledger_config_reloads_total', { result: 'ok' })).toBe(reloads);
}, 60_000);

test('a reload whose pipeline fails to start gives the listeners back to the previous one, still without a refusal', async () => {
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  writeFileSync(file, config(httpPort, grpcPort, 'fast'));
  service = new Service(file, [otlpReceiverFactory, ...fakeFactories]);
  await service.start();
  let stopped = false;
  const t: Tally = { acked: [], retried: 0, errors: [], slowestMs: 0 };
  const clients = [httpClient(httpPort, 'http', new Agent({ keepAlive: false }), () => stopped, t), grpcClient(grpcPort, 'grpc', true, () => stopped, t)];
  await sleep(200);
  writeFileSync(file, config(httpPort, grpcPort, 'fast').replace('exporters: [memory]', 'exporters: [memory, broken]').replace('exporters:\n  memory:', 'exporters:\n  broken:\n  memory:'));
  expect(await service.reload()).toBe(false);
  expect(await metricValue(service.registry, 'tokenledger_config_reloads_total', { result: 'failed' })).toBe(1);
  await sleep(200);
  stopped = true;
  await Promise.all(clients);
  expect(t.errors).toEqual([]);
  expect(t.acked.filter((s) => !delivered().includes(s))).toEqual([]);
  expect(t.acked.filter((s) => s.startsWith('grpc-')).length).toBeGreaterThan(2);
});

test('a request held longer than the handoff wait (a slow drain) is answered "retry later", and goes through once resent', async () => {
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  writeFileSync(file, config(httpPort, grpcPort, 'fast').replace('exporters: [memory]', 'exporters: [memory, stuck]').replace('exporters:\n  memory:', 'exporters:\n  stuck:\n  memory:').replace('shutdown_timeout: 5s', 'shutdown_timeout: 20s'));
  service = new Service(file, [otlpReceiverFactory, ...fakeFactories]);
  await service.start();
  const reloaded = service.reload();
  await sleep(100); // the receivers have handed over; the old pipeline drains, held by `stuck`
  const started = Date.now();
  const t: Tally = { acked: [], retried: 0, errors: [], slowestMs: 0 };
  let done = false;
  const clients = [httpClient(httpPort, 'http', new Agent({ keepAlive: false }), () => done, t), grpcClient(grpcPort, 'grpc', true, () => done, t)];
  while (t.retried < 2 && Date.now() - started < 15_000) await sleep(50);
  const waited = Date.now() - started;
  unstick();
  expect(await reloaded).toBe(true);
  await sleep(100);
  done = true;
  await Promise.all(clients);
  expect(t.retried).toBe(2);
  expect(waited).toBeGreaterThanOrEqual(4500);
  expect(t.errors).toEqual([]);
  expect(t.acked.filter((s) => !delivered().includes(s))).toEqual([]);
  expect(await metricValue(service.registry, 'tokenledger_receiver_refused_requests_total', { transport: 'http', reason: 'reload_timeout' })).toBe(1);
  expect(await metricValue(service.registry, 'tokenledger_receiver_refused_requests_total', { transport: 'grpc', reason: 'reload_timeout' })).toBe(1);
  unstick(); // the new pipeline's `stuck`, so that the stop does not wait for it
}, 30_000);

/** Whether a TCP connection to 127.0.0.1:port is accepted. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

test('an endpoint that changes is released and the new one bound; changed gRPC options rebind the port', async () => {
  const [httpPort, grpcPort, newHttp] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(file, config(httpPort, grpcPort, 'fast'));
  service = new Service(file, [otlpReceiverFactory, ...fakeFactories]);
  await service.start();
  writeFileSync(file, config(newHttp, grpcPort, 'fast', ', max_recv_msg_size_mib: 8'));
  expect(await service.reload()).toBe(true);
  expect(await accepts(httpPort)).toBe(false);
  expect(await accepts(newHttp)).toBe(true);
  expect(await accepts(grpcPort)).toBe(true);
  await service.stop();
  service = undefined;
  expect(await accepts(newHttp)).toBe(false);
  expect(await accepts(grpcPort)).toBe(false);
});

test('a reload that changes the certificate serves new HTTPS connections with it on the same, never closed, port', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tl-reload-tls-'));
  const certs = ['a', 'b'].map((n) => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=tokenledger-${n}`,
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, `${n}.key`), '-out', join(dir, `${n}.pem`)], { stdio: 'ignore' });
    return { cert: join(dir, `${n}.pem`), key: join(dir, `${n}.key`), ca: readFileSync(join(dir, `${n}.pem`)) };
  });
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const tlsConfig = (c: { cert: string; key: string }) => config(httpPort, grpcPort, 'fast').replace(`http: { endpoint: 127.0.0.1:${httpPort} }`,
    `http: { endpoint: 127.0.0.1:${httpPort}, tls: { cert_file: ${c.cert}, key_file: ${c.key} } }`);
  writeFileSync(file, tlsConfig(certs[0]));
  service = new Service(file, [otlpReceiverFactory, ...fakeFactories]);
  await service.start();
  const post = (ca: Buffer, agent: HttpsAgent) => new Promise<number | string>((resolve) => {
    const body = Buffer.from(spanPb('tls'));
    const req = httpsRequest({ host: '127.0.0.1', port: httpPort, path: '/v1/traces', method: 'POST', ca, agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end(body);
  });
  const kept = new HttpsAgent({ keepAlive: true, maxSockets: 1 });
  expect(await post(certs[0].ca, kept)).toBe(200);
  writeFileSync(file, tlsConfig(certs[1]));
  expect(await service.reload()).toBe(true);
  expect(await post(certs[1].ca, new HttpsAgent({ keepAlive: false })), 'a new connection gets the new certificate').toBe(200);
  expect(await post(certs[0].ca, new HttpsAgent({ keepAlive: false })), 'and no longer the old one').toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
  expect(await post(certs[0].ca, kept), 'a connection opened before the reload goes on').toBe(200);
  kept.destroy();
});
