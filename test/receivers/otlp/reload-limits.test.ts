import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { Service } from '../../../core/service.js';
import { otlpReceiverFactory } from '../../../receivers/otlp/index.js';
import { fakeFactories } from '../../core/fake-components.js';
import { metricValue } from '../../helpers/context.js';
import { freePort } from '../../helpers/net.js';
import { rawClient, rawHead, waitFor, type RawClient } from './helpers.js';

/**
 * A reload keeps the HTTP listener (and its connections), and the slow-client defences keep
 * working on it: the new configuration's timeouts apply to the kept server, kept connections
 * included, and connections kept across the reload still count against their client's share.
 */

const config = (port: number, http: string, perClientConnections = 256) => `receivers:
  otlp:
    protocols:
      grpc: { enabled: false }
      http: { endpoint: 127.0.0.1:${port}${http} }
    per_client: { max_in_flight_mib: 32, max_requests: 128, max_connections: ${perClientConnections} }
exporters:
  memory:
    mode: fast
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

let service: Service | undefined;
let file: string;
let sockets: RawClient[] = [];
beforeEach(() => {
  file = join(mkdtempSync(join(tmpdir(), 'tl-reload-limits-')), 'pipeline.yaml');
});
afterEach(async () => {
  for (const s of sockets) s.socket.destroy();
  sockets = [];
  await service?.stop();
  service = undefined;
});

async function start(yaml: string): Promise<Service> {
  writeFileSync(file, yaml);
  service = new Service(file, [otlpReceiverFactory, ...fakeFactories]);
  await service.start();
  return service;
}

async function client(port: number, from: string): Promise<RawClient> {
  const c = await rawClient(port, from);
  sockets.push(c);
  return c;
}

/** Sends an empty export on `c` and waits for its whole answer; the status line's code. */
async function exportOn(c: RawClient): Promise<string> {
  const before = c.received().length;
  c.socket.write(rawHead(0));
  await waitFor('an answer', () => /\r\n\r\n/.test(c.received().slice(before)) || c.closed(), 10_000);
  return c.received().slice(before).slice(9, 12);
}

const refused = (s: Service, reason: string) => metricValue(s.registry, 'tokenledger_receiver_refused_requests_total', { transport: 'http', reason });

test('after a reload that shortens the timeouts, the kept server cuts slow headers (on a kept connection too) and stalled bodies', async () => {
  const port = await freePort();
  const s = await start(config(port, ', read_header_timeout: 30s, read_timeout: 60s, body_stall_timeout: 30s'));
  const kept = await client(port, '127.0.0.2');
  expect(await exportOn(kept)).toBe('200');

  writeFileSync(file, config(port, ', read_header_timeout: 1s, read_timeout: 10s, body_stall_timeout: 1s'));
  expect(await s.reload()).toBe(true);
  expect(await exportOn(kept), 'the connection opened before the reload is still served').toBe('200');

  const fresh = await client(port, '127.0.0.3');
  const stalled = await client(port, '127.0.0.4');
  stalled.socket.write(rawHead(1000));
  stalled.socket.write('x'.repeat(100));
  const head = rawHead(1000);
  let i = 0;
  // One header byte every 100 ms: far within the old 30 s, far beyond the new 1 s.
  const trickle = setInterval(() => {
    if (i < head.length) {
      if (!kept.closed()) kept.socket.write(head[i]);
      if (!fresh.closed()) fresh.socket.write(head[i]);
      i++;
    }
  }, 100);
  try {
    await waitFor('slow headers and the stalled body cut', () => kept.closed() && fresh.closed() && stalled.closed(), 15_000);
  } finally {
    clearInterval(trickle);
  }
  expect(kept.received()).toMatch(/HTTP\/1\.1 408 [^]*$/);
  expect(fresh.received()).toMatch(/^HTTP\/1\.1 408 /);
  expect(stalled.received()).toMatch(/^HTTP\/1\.1 503 /);
  expect(stalled.received()).toContain('request body stalled: no byte for 1000 ms');
  expect(await refused(s, 'request_timeout')).toBe(2);
  expect(await refused(s, 'body_stalled')).toBe(1);
}, 30_000);

test('connections kept across a reload still count against per_client.max_connections; a lowered max_connections applies to the kept server', async () => {
  const port = await freePort();
  const s = await start(config(port, '', 3));
  const held = [];
  for (let i = 0; i < 3; i++) held.push(await client(port, '127.0.0.2'));
  for (const c of held) expect(await exportOn(c)).toBe('200');

  writeFileSync(file, config(port, ', max_connections: 5', 3));
  expect(await s.reload()).toBe(true);
  for (const c of held) expect(await exportOn(c), 'kept connections are served').toBe('200');
  const fourth = await client(port, '127.0.0.2');
  expect(await exportOn(fourth), 'the client already holds its 3 connections').toBe('503');
  expect(fourth.received()).toContain('this client has 3 connections open');
  await waitFor('the connection over the share closed', () => fourth.closed(), 5000);
  expect(await metricValue(s.registry, 'tokenledger_receiver_refused_connections_total', { reason: 'client_connection_limit' })).toBe(1);

  // 3 open: two more reach max_connections 5, the next is closed at once.
  const others = [await client(port, '127.0.0.3'), await client(port, '127.0.0.3')];
  for (const c of others) expect(await exportOn(c)).toBe('200');
  const beyond = await client(port, '127.0.0.4');
  await waitFor('the connection beyond max_connections closed', () => beyond.closed(), 5000);
  expect(await metricValue(s.registry, 'tokenledger_receiver_refused_connections_total', { reason: 'max_connections' })).toBe(1);
}, 30_000);

test('over TLS, a connection over per_client.max_connections is answered 503 (counted once its handshake is done)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tl-reload-limits-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=tokenledger',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
  const port = await freePort();
  const s = await start(config(port, `, tls: { cert_file: ${join(dir, 'c.pem')}, key_file: ${join(dir, 'k.pem')} }`, 1));
  const ca = readFileSync(join(dir, 'c.pem'));
  const post = (agent: HttpsAgent) => new Promise<number | string>((resolve) => {
    const req = httpsRequest({ host: '127.0.0.1', port, localAddress: '127.0.0.2', path: '/v1/traces', method: 'POST', ca, agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': 0 } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
  const first = new HttpsAgent({ keepAlive: true, maxSockets: 1 });
  const second = new HttpsAgent({ keepAlive: true, maxSockets: 1 });
  try {
    expect(await post(first)).toBe(200);
    expect(await post(second), 'the client already holds its one connection').toBe(503);
    expect(await post(first)).toBe(200);
  } finally {
    first.destroy();
    second.destroy();
  }
  expect(await refused(s, 'client_connection_limit')).toBe(1);
}, 30_000);

/** The SETTINGS_MAX_CONCURRENT_STREAMS a new HTTP/2 connection to the gRPC port is given. */
function grpcMaxStreams(port: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.once('error', reject);
    session.once('remoteSettings', (settings) => {
      session.close();
      resolve(settings.maxConcurrentStreams);
    });
  });
}

test('a reload that changes a gRPC server option (max_concurrent_streams) re-binds the server with it', async () => {
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const withGrpc = (streams: number) => config(httpPort, '').replace('grpc: { enabled: false }', `grpc: { endpoint: 127.0.0.1:${grpcPort}, max_concurrent_streams: ${streams} }`);
  const s = await start(withGrpc(100));
  expect(await grpcMaxStreams(grpcPort)).toBe(100);
  writeFileSync(file, withGrpc(7));
  expect(await s.reload()).toBe(true);
  expect(await grpcMaxStreams(grpcPort)).toBe(7);
}, 30_000);
