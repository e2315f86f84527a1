import { describe, expect, it } from 'vitest';
import type { ExporterFactory, Factory } from '../../core/component.js';
import { ConfigError, formatDiagnostic } from '../../core/config/diagnostic.js';
import { loadConfigText } from '../../core/config/load.js';
import { Graph } from '../../core/graph.js';
import { Handoff } from '../../core/handoff.js';
import { Host } from '../../core/host.js';
import { testContext } from '../helpers/context.js';
import { fakeFactories } from './fake-components.js';

const started: string[] = [];

/** Offers a spend store, as the ClickHouse exporter does. */
const ledgerFactory: ExporterFactory<Record<string, never>> = {
  kind: 'exporter', type: 'ledger', defaults: {}, provides: ['spendStore'],
  schema: { type: 'object', additionalProperties: false, properties: {} },
  create: (_c, ctx) => {
    ctx.host.provide('spendStore', { spendBy: async () => new Map() }, ctx.id);
    return { start: async () => { started.push(ctx.id); }, consume: async () => {} };
  },
};

/** Names another exporter (`uses`; `store`: one offering a spend store, as the budget exporter names its ledger); fails to start before it. */
const readerFactory: ExporterFactory<{ uses?: string; store?: string }> = {
  kind: 'exporter', type: 'reader', defaults: {},
  schema: { type: 'object', additionalProperties: false, properties: { uses: { type: 'string' }, store: { type: 'string' } } },
  needs: (c) => [
    ...(c.uses === undefined ? [] : [{ section: 'exporters' as const, id: c.uses, path: ['uses'] }]),
    ...(c.store === undefined ? [] : [{ section: 'exporters' as const, id: c.store, path: ['store'], capability: 'spendStore' as const }]),
  ],
  create: (c, ctx) => ({
    start: async () => {
      for (const other of [c.uses, c.store]) if (other !== undefined && !started.includes(other)) throw new Error(`${other} has not started`);
      started.push(ctx.id);
    },
    consume: async () => {},
  }),
};

const factories: Factory[] = [...fakeFactories, ledgerFactory, readerFactory];

const yaml = (exporters: string, used: string[]) => `receivers:
  push:
exporters:
${exporters}service:
  pipelines:
    p:
      receivers: [push]
      exporters: [${used.join(', ')}]
`;

function problems(text: string): string[] {
  try {
    loadConfigText(text, 'pipeline.yaml', factories, {});
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
  }
}

describe('component needs (FactoryBase.needs)', () => {
  it('the graph starts an exporter after the one it names, whatever order the pipeline lists them in', async () => {
    const text = yaml('  reader/b:\n    uses: reader/a\n  reader/a:\n    store: ledger/x\n  ledger/x:\n', ['reader/b', 'reader/a', 'ledger/x']);
    const { config } = loadConfigText(text, 'pipeline.yaml', factories, {});
    const ctx = testContext('core');
    const graph = new Graph(config, factories, { logger: ctx.logger, metrics: ctx.metrics, registry: ctx.registry, host: new Host(), configDir: '.', handoff: new Handoff() });
    started.length = 0;
    await graph.start();
    expect(started).toEqual(['ledger/x', 'reader/a', 'reader/b']);
    await graph.shutdown(() => {});
  });

  it('refuses, at the line of the field, an id that is not declared, not used, itself, offers nothing, or closes a cycle', () => {
    expect(problems(yaml('  reader:\n    uses: ledgr\n  ledger:\n', ['reader', 'ledger']))).toEqual([
      "pipeline.yaml:5:11: error: exporters.reader.uses: names exporter 'ledgr', which is not declared; declared exporters: reader, ledger",
    ]);
    expect(problems(yaml('  reader:\n    uses: ledger\n  ledger:\n', ['reader']))).toEqual([
      "pipeline.yaml:5:11: error: exporters.reader.uses: names exporter 'ledger', which no pipeline uses, so it does not run: add it to a pipeline",
    ]);
    expect(problems(yaml('  reader:\n    uses: reader\n', ['reader']))).toEqual([
      "pipeline.yaml:5:11: error: exporters.reader.uses: names itself ('reader'): expected the id of another exporter",
    ]);
    expect(problems(yaml('  reader:\n    store: memory\n  memory:\n  ledger:\n', ['reader', 'memory', 'ledger']))).toEqual([
      "pipeline.yaml:5:12: error: exporters.reader.store: names exporter 'memory', which offers no spendStore; exporters that do: ledger",
    ]);
    const cycle = problems(yaml('  reader/a:\n    uses: reader/b\n  reader/b:\n    uses: reader/a\n', ['reader/a', 'reader/b']));
    expect(cycle.filter((p) => p.includes('cycle'))).toEqual([
      'pipeline.yaml:5:11: error: exporters.reader/a.uses: needs form a cycle (reader/a → reader/b → reader/a): none of them could start first',
    ]);
  });
});
