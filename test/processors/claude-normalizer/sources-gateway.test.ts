import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSource, problemsOf } from '../../e2e/sources/check.js';
import type { SourceManifest } from '../../e2e/sources/losses.js';
import { finalRecords, FIXTURES, loadScenario, normalizer, runAll } from './helpers.js';
import { metricValue } from '../../helpers/context.js';

/**
 * An app instrumented with OpenLLMetry calling through a real LiteLLM proxy, both exporting to
 * tokenledger (test/fixtures/sources/gateway/, README there): every call is reported by the
 * library, by the Anthropic SDK's own tracing (Anthropic SDK calls) and by LiteLLM. The Anthropic
 * SDK propagates its span's traceparent into LiteLLM (LiteLLM's request span is its child) and
 * shares the response id with the library; the OpenAI SDK's calls share LiteLLM's response id.
 * One billed record per call, with the finest token breakdown any report had, the app's service,
 * team and environment, and the gateway's route and provider.
 */
const ROOT = join(FIXTURES, 'sources/gateway');

describe('an instrumented app calling through LiteLLM', () => {
  for (const capture of readdirSync(ROOT).filter((d) => !d.includes('.md'))) {
    const dir = join(ROOT, capture);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as SourceManifest;

    it(`${capture}: one billed record per call, joined, with both sources' attribution`, async () => {
      const { n, ctx } = normalizer({ dimensions: { env: ['resource:deployment.environment'] } });
      const out = runAll(n, loadScenario(dir));
      const records = finalRecords(out);
      expect(problemsOf(checkSource('openllmetry', manifest, records, ['otel_genai', 'litellm']))).toEqual([]);
      expect(out.flatMap((b) => b.calls).length, 'billed records').toBe(manifest.calls.length);
      const routes = records.map((r) => r.route).sort();
      expect(routes).toEqual(manifest.calls.map((c) => (c.sdk === 'anthropic' ? 'anthropic_messages' : 'openai_chat')).sort());
      // Each call joined LiteLLM's report: the app's (or the SDK's) first, or LiteLLM's first.
      const joinsWithLiteLLM = await metricValue(ctx.registry, 'tokenledger_normalizer_joins_total', { first: 'otel_genai', second: 'litellm' })
        + await metricValue(ctx.registry, 'tokenledger_normalizer_joins_total', { first: 'litellm', second: 'otel_genai' });
      expect(joinsWithLiteLLM).toBeGreaterThanOrEqual(manifest.calls.length);
    });
  }
});
