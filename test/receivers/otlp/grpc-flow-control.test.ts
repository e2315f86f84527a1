import type * as grpc from '@grpc/grpc-js';
import http2 from 'node:http2';
import { afterEach, expect, test } from 'vitest';
import { widenFlowControl } from '../../../receivers/otlp/grpc-flow-control.js';
import { sampleTraceRequest } from '../../helpers/sample-trace-request.js';
import { grpcExport, startReceiver, waitFor, type Started } from './helpers.js';

let rx: Started | undefined;
afterEach(async () => {
  await rx?.receiver.shutdown();
  rx = undefined;
});

/** The windows a new HTTP/2 connection to `port` is granted: each stream's (SETTINGS) and the connection's (WINDOW_UPDATE). */
async function grantedWindows(port: string): Promise<{ stream: number | undefined; connection: number }> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const settings = await new Promise<http2.Settings>((resolve, reject) => {
      session.once('error', reject);
      session.once('remoteSettings', resolve);
    });
    let connection = 0;
    // The connection's WINDOW_UPDATE may follow the SETTINGS frame.
    await waitFor('the connection window', () => (connection = session.state.remoteWindowSize ?? 0) > 65_535, 5_000).catch(() => undefined);
    return { stream: settings.initialWindowSize, connection };
  } finally {
    session.close();
  }
}

test('the gRPC server grants 16 MiB flow-control windows by default, to each connection and each call', async () => {
  rx = await startReceiver();
  const port = rx.grpcTarget.split(':')[1];
  expect(await grantedWindows(port)).toEqual({ stream: 16 * 1024 * 1024, connection: 16 * 1024 * 1024 });
});

test('flow_control_window_mib sets them; an export larger than the window still arrives whole', async () => {
  rx = await startReceiver({ grpc: { flow_control_window_mib: 0.25, max_recv_msg_size_mib: 16 } });
  const port = rx.grpcTarget.split(':')[1];
  expect(await grantedWindows(port)).toEqual({ stream: 262_144, connection: 262_144 });
  const body = sampleTraceRequest(3000).protobuf;
  expect(body.length).toBeGreaterThan(4 * 262_144);
  const r = await grpcExport(rx.grpcTarget, 'traces', body);
  expect(r.ok).toBe(true);
  expect(rx.ctx.received.reduce((n, b) => n + b.resourceSpans.reduce((m, r) => m + r.scopeSpans.reduce((k, s) => k + s.spans.length, 0), 0), 0)).toBe(3000);
});

test('a grpc-js without the HTTP/2 server map it reaches into is reported, not a crash', () => {
  expect(widenFlowControl({} as grpc.Server, 1 << 20)).toBe(false);
});
