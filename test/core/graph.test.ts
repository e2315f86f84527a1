import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyBatch } from '../../core/batch.js';
import { emptyCall } from '../../core/llm-call.js';
import { Service } from '../../core/service.js';
import { metricValue } from '../helpers/context.js';
import { events, exported, fakeFactories, pushed, refuse, setGate } from './fake-components.js';

/** `pipelines` maps a pipeline name to its exporter; every pipeline reads `push` and runs `once` then `tag`. */
const config = (pipelines: Record<string, string>) => `receivers:
  push:
processors:
  once:
  tag:
exporters:
${Object.values(pipelines).map((e) => `  ${e}:\n`).join('')}service:
  pipelines:
${Object.entries(pipelines).map(([name, e]) => `    ${name}:\n      receivers: [push]\n      processors: [once, tag]\n      exporters: [${e}]\n`).join('')}  telemetry:
    logs: { level: error }
    admin: { endpoint: 127.0.0.1:0 }
  shutdown_timeout: 2s
`;

let service: Service | undefined;
let configPath: string | undefined;
beforeEach(() => {
  events.length = 0;
  exported.clear();
  setGate(undefined);
  refuse(0);
});
afterEach(async () => {
  await service?.stop();
  service = undefined;
});

async function start(pipelines: Record<string, string>): Promise<Service> {
  configPath = join(mkdtempSync(join(tmpdir(), 'tl-graph-')), 'pipeline.yaml');
  writeFileSync(configPath, config(pipelines));
  service = new Service(configPath, fakeFactories);
  await service.start();
  return service;
}

async function send(...ids: string[]): Promise<void> {
  const calls = ids.map((call_id) => ({ ...emptyCall(), call_id }));
  await pushed.get('push')!.next.consume({ ...emptyBatch({ receiver: 'push', transport: 'test' }), calls });
}

/** call_ids an exporter received, in order (the `tag` processor's own record left out). */
function received(exporter: string): string[] {
  return (exported.get(exporter) ?? []).flatMap((b) => b.calls.map((c) => c.call_id)).filter((id) => !/^c\d+$/.test(id));
}

describe.each([
  ['two', { ch: 'memory', debug: 'memory/debug' }],
  ['three', { ch: 'memory', debug: 'memory/debug', prom: 'memory/prom' }],
])('%s pipelines sharing a receiver and their processor ids', (_n, pipelines: Record<string, string>) => {
  it('every exporter of every pipeline gets every call exactly once; a re-send is dropped in each', async () => {
    const s = await start(pipelines);
    await send('a', 'b');
    await send('b', 'c');
    await send('a');
    for (const exporter of Object.values(pipelines)) expect(received(exporter), exporter).toEqual(['a', 'b', 'c']);
    for (const pipeline of Object.keys(pipelines)) {
      expect(await metricValue(s.registry, 'fake_once_dropped_total', { pipeline }), pipeline).toBe(2);
      expect(await metricValue(s.registry, 'fake_once_seen', { pipeline }), pipeline).toBe(3);
    }
    const dropped = await s.registry.getSingleMetric('fake_once_dropped_total')!.get();
    expect(dropped.values.map((v) => v.labels.pipeline).sort()).toEqual(Object.keys(pipelines).sort());
  });

  it('starts and stops one instance of each processor per pipeline, after the exporters and before the receivers', async () => {
    const n = Object.keys(pipelines).length;
    const s = await start(pipelines);
    const processorStarts = events.flatMap((e, i) => (/^start (once|tag)$/.test(e) ? [i] : []));
    expect(processorStarts).toHaveLength(2 * n);
    expect(Math.min(...processorStarts)).toBe(n);
    expect(events.at(-1)).toBe('start push');
    events.length = 0;
    await s.stop();
    expect(events[0]).toBe('stop push');
    expect(events.filter((e) => /^stop (once|tag)$/.test(e))).toHaveLength(2 * n);
  });
});

describe('one pipeline', () => {
  it('labels its processor metrics with the pipeline it runs in, and keeps counting across a reload', async () => {
    const s = await start({ llm: 'memory' });
    await send('a');
    await send('a');
    expect(await s.reload()).toBe(true);
    await send('b');
    await send('b');
    expect(await metricValue(s.registry, 'fake_once_dropped_total', { pipeline: 'llm' })).toBe(2);
    expect(received('memory')).toEqual(['a', 'b']);
  });

  it('drops the series of a pipeline a reload removes, and keeps counting the others', async () => {
    const s = await start({ llm: 'memory', audit: 'memory/debug' });
    await send('a');
    await send('a');
    writeFileSync(configPath!, config({ llm: 'memory' }));
    expect(await s.reload()).toBe(true);
    await send('b');
    await send('b');
    expect(await metricValue(s.registry, 'fake_once_dropped_total', { pipeline: 'llm' })).toBe(2);
    const seen = await s.registry.getSingleMetric('fake_once_seen')!.get();
    expect(seen.values.map((v) => v.labels.pipeline)).toEqual(['llm']);
  });
});

describe('a batch an exporter refused (retry later)', () => {
  it('is abandoned by the processors that ran, last first, each awaited, and the re-send goes through once', async () => {
    const s = await start({ llm: 'refusing' });
    events.length = 0;
    refuse(1);
    await expect(send('a', 'b')).rejects.toThrow('queue full');
    expect(events).toEqual(['abandon tag', 'abandon once']);
    await send('a', 'b');
    await send('a', 'b');
    expect(received('refusing')).toEqual(['a', 'b']);
    expect(await metricValue(s.registry, 'fake_once_dropped_total', { pipeline: 'llm' })).toBe(2);
  });

  it('is abandoned only in the pipeline that refused it: the other keeps its state and drops the re-send', async () => {
    const s = await start({ llm: 'memory', audit: 'refusing' });
    events.length = 0;
    refuse(1);
    await expect(send('a')).rejects.toThrow('queue full');
    expect(events).toEqual(['abandon tag', 'abandon once']);
    await send('a');
    expect([received('memory'), received('refusing')]).toEqual([['a'], ['a']]);
    expect(await metricValue(s.registry, 'fake_once_dropped_total', { pipeline: 'llm' })).toBe(1);
    expect(await metricValue(s.registry, 'fake_once_dropped_total', { pipeline: 'audit' })).toBe(0);
  });
});
