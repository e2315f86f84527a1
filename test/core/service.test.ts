import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyBatch } from '../../core/batch.js';
import { RetryableError } from '../../core/errors.js';
import { Service } from '../../core/service.js';
import { metricValue } from '../helpers/context.js';
import { events, exported, fakeFactories, pushed, setGate } from './fake-components.js';

const config = (model: string, extra = '') => `receivers:
  push:
processors:
  tag:
    model: ${model}
exporters:
  memory:
  memory/b:
service:
  pipelines:
    one:
      receivers: [push]
      processors: [tag]
      exporters: [memory, memory/b]
  telemetry:
    logs: { level: error }
    admin: { endpoint: 127.0.0.1:0 }
  shutdown_timeout: 2s
${extra}`;

let dir: string;
let file: string;
let service: Service;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tl-service-'));
  file = join(dir, 'pipeline.yaml');
  events.length = 0;
  exported.clear();
  setGate(undefined);
});
afterEach(async () => { await service?.stop(); });

async function send(): Promise<void> {
  await pushed.get('push')!.next.consume(emptyBatch({ receiver: 'push', transport: 'test' }));
}

describe('Service lifecycle', () => {
  it('starts exporters, then processors, then receivers, and stops in reverse', async () => {
    writeFileSync(file, config('m1'));
    service = new Service(file, fakeFactories);
    await service.start();
    expect(events).toEqual(['start memory', 'start memory/b', 'start tag', 'start push']);
    await send();
    expect(exported.get('memory')![0].calls[0].model).toBe('m1');
    expect(exported.get('memory/b')).toHaveLength(1);
    events.length = 0;
    expect(await service.stop()).toBe(true);
    expect(events).toEqual(['stop push', 'stop tag', 'stop memory/b', 'stop memory']);
  });

  it('serves /metrics, /healthz and /readyz on the admin endpoint', async () => {
    writeFileSync(file, config('m1'));
    service = new Service(file, fakeFactories);
    await service.start();
    const base = `http://${service.adminAddress()}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, reason: 'all components started' });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^tokenledger_build_info\{version="[^"]+"\} 1$/m);
    expect(metrics).toContain('tokenledger_ready 1');
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('keeps the old pipeline when the reloaded file is invalid, and counts it', async () => {
    writeFileSync(file, config('m1'));
    service = new Service(file, fakeFactories);
    await service.start();
    writeFileSync(file, config('m2').replace('memory/b:', 'memory/b:\n    mode: warp'));
    expect(await service.reload()).toBe(false);
    expect(await metricValue(service.registry, 'tokenledger_config_reloads_total', { result: 'invalid' })).toBe(1);
    await send();
    expect(exported.get('memory')!.at(-1)!.calls[0].model).toBe('m1');
  });

  it('replaces the pipeline when the reloaded file is valid', async () => {
    writeFileSync(file, config('m1'));
    service = new Service(file, fakeFactories);
    await service.start();
    writeFileSync(file, config('m2'));
    expect(await service.reload()).toBe(true);
    expect(await metricValue(service.registry, 'tokenledger_config_reloads_total', { result: 'ok' })).toBe(1);
    await send();
    expect(exported.get('memory')!.at(-1)!.calls[0].model).toBe('m2');
  });

  it('answers a receiver only when every exporter of every pipeline accepted, preferring a retryable failure', async () => {
    writeFileSync(file, config('m1'));
    service = new Service(file, fakeFactories);
    await service.start();
    let release!: () => void;
    setGate(new Promise<void>((r) => { release = r; }));
    let done = false;
    const pending = send().then(() => { done = true; });
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false);
    release();
    await pending;
    expect(exported.get('memory/b')).toHaveLength(1);

    setGate(Promise.reject(new RetryableError('queue full', 7)));
    await expect(send()).rejects.toBeInstanceOf(RetryableError);
  });
});
