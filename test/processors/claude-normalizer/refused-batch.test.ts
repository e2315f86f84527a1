import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Batch } from '../../../core/batch.js';
import type { Factory } from '../../../core/component.js';
import { isRetryable } from '../../../core/errors.js';
import type { LlmCall } from '../../../core/llm-call.js';
import { Service } from '../../../core/service.js';
import type { ResourceLogs, ResourceSpans } from '../../../core/telemetry.js';
import { prometheusExporterFactory } from '../../../exporters/prometheus/index.js';
import { claudeNormalizerFactory } from '../../../processors/claude-normalizer/index.js';
import { batchOf, metricValue } from '../../helpers/context.js';
import { exported, fakeFactories, pushed, refuse } from '../../core/fake-components.js';
import { billing, FIXTURES, finalRecords, loadScenario, normalizer, runAll, toCumulative } from './helpers.js';

/**
 * An exporter that answers "retry later" (queue full, database down) makes the receiver answer
 * 503/UNAVAILABLE and the client re-send the same request: the normalizer must then read it as new
 * (Processor.abandon), and each call must reach the exporters exactly once.
 */
const factories: Factory[] = [...fakeFactories, claudeNormalizerFactory, prometheusExporterFactory];

const yaml = (normalizerConfig: string, exporters: string[]) => `receivers:
  push:
processors:
  claude-normalizer: ${normalizerConfig}
exporters:
${exporters.map((e) => `  ${e}:\n`).join('')}service:
  pipelines:
    llm:
      receivers: [push]
      processors: [claude-normalizer]
      exporters: [${exporters.join(', ')}]
  telemetry:
    logs: { level: error }
    admin: { endpoint: 127.0.0.1:0 }
  shutdown_timeout: 2s
`;

let service: Service | undefined;
beforeEach(() => { exported.clear(); refuse(0); });
afterEach(async () => { await service?.stop(); service = undefined; refuse(0); });

async function start(normalizerConfig: string, exporters: string[] = ['refusing']): Promise<Service> {
  const path = join(mkdtempSync(join(tmpdir(), 'tl-refused-')), 'pipeline.yaml');
  writeFileSync(path, yaml(normalizerConfig, exporters));
  service = new Service(path, factories);
  await service.start();
  return service;
}

/** The client: sends a request, and sends it again (a fresh decode of the same bytes) while told to retry later. */
async function deliver(b: Batch): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      await pushed.get('push')!.next.consume(structuredClone(b));
      return attempt;
    } catch (err) {
      if (!isRetryable(err) || attempt > 3) throw err;
    }
  }
}

const accepted = (id = 'refusing') => exported.get(id) ?? [];
const ids = (cs: LlmCall[]) => cs.map((c) => c.call_id).sort();
const byId = (cs: LlmCall[]) => [...cs].sort((a, b) => a.call_id.localeCompare(b.call_id));

/** What the normalizer emits for these requests when nothing is refused. */
function reference(normalizerConfig: Parameters<typeof normalizer>[0], batches: Batch[]) {
  const out = runAll(normalizer(normalizerConfig).n, batches.map((b) => structuredClone(b)));
  return { calls: out.flatMap((b) => b.calls), updates: out.flatMap((b) => b.updates), final: finalRecords(out) };
}

const LITELLM = ['1.80.11', '1.81.3', '1.108.7'];
const viaLiteLLM = (file: string) => readFileSync(join(FIXTURES, 'claude-code-via-litellm', file), 'utf8').trim().split('\n')
  .map((l) => batchOf(JSON.parse(l) as { resourceSpans: ResourceSpans[]; resourceLogs: ResourceLogs[] }));
const ccDelta = () => loadScenario(join(FIXTURES, 'claude-code/otlp/v2.1.330-delta-multi-export'));

const scenarios: [name: string, config: Parameters<typeof normalizer>[0], yamlConfig: string, batches: () => Batch[]][] = [
  ...LITELLM.map((v) => [`LiteLLM ${v}`, {}, '', () => loadScenario(join(FIXTURES, 'litellm', v, 'default'))] as const),
  ['Claude Code events', {}, '', ccDelta],
  ['Claude Code cumulative metrics', { claude_code: { usage_from: 'metrics' } }, '{ claude_code: { usage_from: metrics } }', () => toCumulative(ccDelta())],
  ...readdirSync(join(FIXTURES, 'claude-code-via-litellm')).filter((f) => f.endsWith('.jsonl')).map((f) => [`Claude Code via LiteLLM (${f})`, {}, '', () => viaLiteLLM(f)] as const),
];

describe.each(scenarios)('%s: every request refused once, then re-sent', (_name, cfg, yamlCfg, batches) => {
  it('each call reaches the exporter exactly once, as it would without the refusal', async () => {
    const want = reference(cfg, batches());
    expect(want.calls.length).toBeGreaterThan(0);
    const s = await start(yamlCfg);
    for (const b of batches()) {
      refuse(1);
      expect(await deliver(b)).toBe(2);
    }
    const got = accepted();
    expect(ids(got.flatMap((b) => b.calls))).toEqual(ids(want.calls));
    expect(ids(got.flatMap((b) => b.updates))).toEqual(ids(want.updates));
    expect(finalRecords(got)).toEqual(want.final);
    expect(await metricValue(s.registry, 'tokenledger_normalizer_abandoned_records_total')).toBeGreaterThan(0);
  });

  it('a whole run refused, then re-sent, gives the same calls', async () => {
    const want = reference(cfg, batches());
    await start(yamlCfg);
    const all = batches();
    refuse(all.length);
    for (const b of all) await expect(pushed.get('push')!.next.consume(structuredClone(b))).rejects.toThrow('queue full');
    for (const b of all) expect(await deliver(b)).toBe(1);
    expect(finalRecords(accepted())).toEqual(want.final);
    expect(ids(accepted().flatMap((b) => b.calls))).toEqual(ids(want.calls));
  });
});

/** Requests in flight two at a time: `refused(i)` says which of a pair its exporters refuse, abandoned in `order`. */
describe.each(scenarios)('%s: batches in flight in pairs', (_name, cfg, _yaml, batches) => {
  it.each([
    ['both refused, abandoned first to last', [0, 1]],
    ['both refused, abandoned last to first', [1, 0]],
    ['the first refused, the second accepted', [0]],
    ['the first accepted, the second refused', [1]],
  ])('%s: each call is emitted once, as without the refusals', (_case, refused: number[]) => {
    const want = reference(cfg, batches());
    const { n } = normalizer(cfg);
    const all = batches();
    const accepted: Batch[] = [];
    for (let i = 0; i < all.length; i += 2) {
      const pair = all.slice(i, i + 2);
      const outs = pair.map((b) => n.process(structuredClone(b)) as Batch);
      for (const [j, out] of outs.entries()) if (!refused.includes(j)) accepted.push(out);
      for (const j of refused) if (outs[j]) n.abandon(outs[j]);
      for (const j of [...refused].sort()) if (pair[j]) accepted.push(n.process(structuredClone(pair[j])) as Batch);
    }
    expect(ids(accepted.flatMap((b) => b.calls))).toEqual(ids(want.calls));
    // The one case that may lose attribution, never tokens (README, "Exactly once"): a later batch,
    // accepted, joined the refused one's new call, which a re-sent report without an id does not rejoin.
    const view = refused.length === 1 && refused[0] === 0 ? billing : (c: LlmCall) => c;
    expect(byId(finalRecords(accepted)).map(view)).toEqual(byId(want.final).map(view));
  });
});

describe('batches in flight together', () => {
  it('abandoning one takes back only its own calls', () => {
    const { n } = normalizer();
    const [a, b] = loadScenario(join(FIXTURES, 'litellm', '1.108.7', 'default')).filter((x) => runAll(normalizer().n, [x])[0].calls.length > 0);
    const outA = n.process(structuredClone(a)) as Batch;
    const outB = n.process(structuredClone(b)) as Batch;
    n.abandon(outA);
    expect(ids((n.process(structuredClone(a)) as Batch).calls)).toEqual(ids(outA.calls));
    expect((n.process(structuredClone(b)) as Batch).calls).toEqual([]);
  });
});

describe('fan-out: prometheus accepted, the other exporter refused', () => {
  it('the re-send is counted once in /metrics and the other exporter gets every call', async () => {
    const all = loadScenario(join(FIXTURES, 'litellm', '1.108.7', 'default'));
    const want = reference({}, all);
    const s = await start('', ['prometheus', 'refusing']);
    for (const b of all) {
      refuse(1);
      await deliver(b);
    }
    expect(ids(accepted().flatMap((b) => b.calls))).toEqual(ids(want.calls));
    const counted = (await s.registry.getSingleMetric('tokenledger_llm_calls_total')!.get()).values.reduce((n, v) => n + v.value, 0);
    expect(counted).toBe(want.calls.length);
    expect(await metricValue(s.registry, 'tokenledger_prometheus_resent_calls_total', { exporter: 'prometheus' })).toBe(want.calls.length);
  });
});

describe('what the normalizer counts for a refused batch', () => {
  it.each([
    ['events', {}, () => loadScenario(join(FIXTURES, 'claude-code/otlp/v2.1.330-delta-multi-export'))],
    ['cumulative metrics', { claude_code: { usage_from: 'metrics' as const } }, () => toCumulative(loadScenario(join(FIXTURES, 'claude-code/otlp/v2.1.330-delta-multi-export')))],
  ])('Claude Code tokens (%s) of a refused batch are not counted again for its re-send', async (_name, cfg, batches) => {
    const once = normalizer(cfg);
    runAll(once.n, batches());
    const want = await metricValue(once.ctx.registry, 'tokenledger_normalizer_claude_code_tokens_total');
    expect(want).toBeGreaterThan(0);
    const { n, ctx } = normalizer(cfg);
    for (const b of batches()) {
      n.abandon(n.process(structuredClone(b)) as Batch);
      n.process(structuredClone(b));
    }
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_claude_code_tokens_total')).toBe(want);
    for (const type of ['input', 'output', 'cache_read', 'cache_write_5m']) {
      expect(await metricValue(ctx.registry, 'tokenledger_normalizer_claude_code_drift_tokens', { type })).toBe(await metricValue(once.ctx.registry, 'tokenledger_normalizer_claude_code_drift_tokens', { type }));
    }
  });
});
