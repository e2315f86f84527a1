import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { emptyBatch } from '../../../core/batch.js';
import { Service } from '../../../core/service.js';
import { budgetExporterFactory } from '../../../exporters/budget/index.js';
import { fakeFactories, pushed } from '../../core/fake-components.js';
import { llmCall } from './helpers.js';

const yaml = (limit: number) => `receivers:
  push:
exporters:
  budget:
    budgets: [{ name: teams, scope: { team: '*' }, limit_usd: ${limit} }]
service:
  pipelines:
    p: { receivers: [push], exporters: [budget] }
  telemetry:
    logs: { level: error }
    admin: { endpoint: 127.0.0.1:0 }
  shutdown_timeout: 2s
`;

const dir = mkdtempSync(join(tmpdir(), 'tl-budget-reload-'));
let service: Service | undefined;
afterAll(async () => {
  await service?.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Check = { allowed: boolean; exhausted: { spent_usd: number; limit_usd: number }[] };

describe('budget exporter across a reload (SIGHUP) of the whole service', () => {
  it('keeps the spend counted so far, applies the new limit, and the new instance serves the admin routes', async () => {
    const file = join(dir, 'pipeline.yaml');
    writeFileSync(file, yaml(10));
    service = new Service(file, [...fakeFactories, budgetExporterFactory], {});
    await service.start();
    const check = async (): Promise<Check> => (await (await fetch(`http://${service!.adminAddress()}/api/v1/budgets/check?team=alpha`)).json()) as Check;
    const bill = (usd: number) => pushed.get('push')!.next.consume({ ...emptyBatch({ receiver: 'push', transport: 'test' }), calls: [llmCall({ team: 'alpha', cost_usd: usd })] });

    await bill(6);
    expect((await check()).allowed).toBe(true); // $6 of $10
    writeFileSync(file, yaml(5));
    expect(await service.reload()).toBe(true);
    const after = await check();
    expect(after.allowed).toBe(false); // the $6 counted before the reload, against the new $5
    expect(after.exhausted.map((e) => [e.spent_usd, e.limit_usd])).toEqual([[6, 5]]);
    await bill(1);
    expect((await check()).exhausted.map((e) => e.spent_usd)).toEqual([7]);
  });
});
