import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { messages } from '../../../receivers/otlp/codec/proto.js';
import { selfSignedCert } from '../../helpers/tls.js';
import { startReceiver, type Started } from './helpers.js';

/** TLS on both transports with a throw-away self-signed certificate; request headers copied into resources. */

let dir: string;
let ca: Buffer;
let rx: Started;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'otlp-tls-'));
  const { ca: pem, ...tls } = selfSignedCert(dir);
  ca = pem;
  rx = await startReceiver({ http: { tls }, grpc: { tls }, headers_to_resource_attributes: { 'x-tenant-id': 'tenant.id' } });
});
afterAll(async () => {
  await rx.receiver.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

const body = JSON.stringify({ resourceLogs: [{ resource: { attributes: [{ key: 'tenant.id', value: { stringValue: 'spoofed' } }] }, scopeLogs: [{ logRecords: [{ body: { stringValue: 'hi' } }] }] }] });

test('HTTPS with the configured certificate; the header overrides the attribute the client set', async () => {
  const port = new URL(rx.httpUrl).port;
  const status = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/v1/logs', method: 'POST', ca, headers: { 'content-type': 'application/json', 'x-tenant-id': 'acme' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
  expect(status).toBe(200);
  expect(rx.ctx.received.at(-1)!.resourceLogs[0].resource['tenant.id']).toBe('acme');
});

test('gRPC over TLS; metadata copied into resources', async () => {
  const client = new grpc.Client(rx.grpcTarget, grpc.credentials.createSsl(ca));
  const md = new grpc.Metadata();
  md.set('x-tenant-id', 'globex');
  const pb = messages.logsRequest.encode({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'hi' } }] }] }] }).finish();
  const raw = (b: Buffer) => b;
  const err = await new Promise<grpc.ServiceError | null>((resolve) => {
    client.makeUnaryRequest('/opentelemetry.proto.collector.logs.v1.LogsService/Export', raw, raw, Buffer.from(pb), md, { deadline: Date.now() + 10_000 }, (e) => resolve(e));
  });
  client.close();
  expect(err).toBeNull();
  expect(rx.ctx.received.at(-1)!.resourceLogs[0].resource['tenant.id']).toBe('globex');
});
