import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { factories } from '../../bin/components.js';
import type { Factory } from '../../core/component.js';
import { Service } from '../../core/service.js';
import { REFUSED_AT_VALIDATION } from '../cli/broken-configs.js';
import { metricValue } from '../helpers/context.js';

/**
 * A SIGHUP reload with a file that `validate` refuses leaves the running pipeline alone: the real
 * components, of which every create() and shutdown() is recorded, are neither recreated nor stopped.
 */
const created: string[] = [];
const stopped: string[] = [];
const recorded: Factory[] = factories.map((f) => ({
  ...f,
  create: (config: unknown, ctx: never) => {
    const component = (f.create as (c: unknown, x: never) => { shutdown?(): Promise<void> })(config, ctx);
    created.push((ctx as { id: string }).id);
    const shutdown = component.shutdown?.bind(component);
    component.shutdown = async () => { stopped.push((ctx as { id: string }).id); await shutdown?.(); };
    return component;
  },
}) as Factory);

const VALID = readFileSync(new URL('../fixtures/config/valid.yaml', import.meta.url), 'utf8');
let dir: string;
let file: string;
let service: Service;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tl-reload-'));
  file = join(dir, 'pipeline.yaml');
  writeFileSync(file, VALID);
  service = new Service(file, recorded, {});
  await service.start();
});
afterAll(async () => {
  await service?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('reload with a configuration validation refuses', () => {
  it.each(REFUSED_AT_VALIDATION)('$name: refused before anything running is touched', async ({ text }) => {
    const before = { created: created.length, invalid: await metricValue(service.registry, 'tokenledger_config_reloads_total', { result: 'invalid' }) };
    writeFileSync(file, text);
    expect(await service.reload()).toBe(false);
    expect(stopped).toEqual([]);
    expect(created.length).toBe(before.created);
    expect(await metricValue(service.registry, 'tokenledger_config_reloads_total', { result: 'invalid' })).toBe(before.invalid + 1);
    expect((await fetch(`http://${service.adminAddress()}/readyz`)).status).toBe(200);
  });

  it('a valid file still replaces the pipeline afterwards (the old one drained first)', async () => {
    writeFileSync(file, VALID);
    const n = created.length;
    expect(await service.reload()).toBe(true);
    expect(stopped.sort()).toEqual(['claude-normalizer', 'debug', 'debug/calls', 'otlp']);
    expect(created.length).toBe(n + 4);
  });
});
