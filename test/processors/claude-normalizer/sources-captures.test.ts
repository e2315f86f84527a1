import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LlmCall } from '../../../core/llm-call.js';
import { finalRecords, FIXTURES, loadScenario, normalizer, runAll } from './helpers.js';
import { LOSSES, lossesOf, type SourceManifest } from '../../e2e/sources/losses.js';

/**
 * Every real capture of an instrumentation library under test/fixtures/sources/<lib>/<version>/
 * (see its README), checked against what the mock upstream served: one record per call the
 * library reported, with exactly the upstream's tokens in Anthropic meaning, the model, provider,
 * streaming flag, status, and the app's resource attribution (service.name, team.id,
 * deployment.environment); nothing else billed. What a library itself gets wrong is listed in
 * test/e2e/sources/losses.ts, each one seen in its capture.
 */
const ROOT = join(FIXTURES, 'sources');
const MODEL: Record<string, string> = { anthropic: 'claude-sonnet-4-5', openai: 'gpt-4o-mini', bedrock: 'claude-sonnet-4-5' };

function captures(): { lib: string; version: string; dir: string }[] {
  if (!existsSync(ROOT)) return [];
  return readdirSync(ROOT).filter((l) => !l.includes('.')).flatMap((lib) => readdirSync(join(ROOT, lib)).map((version) => ({ lib, version, dir: join(ROOT, lib, version) })));
}

/**
 * The records of one call: by a provider id the record carries, else (libraries that keep none) by
 * its output count, unique per call in the plan, or by its error status for a failed call.
 */
function recordOf(records: LlmCall[], ids: string[], output: number | null, errors: number): LlmCall[] {
  const byId = records.filter((r) => ids.includes(r.call_id) || Object.values(r.attributes).some((v) => ids.includes(v)));
  if (byId.length > 0) return byId;
  if (output === null) return records.filter((r) => r.status === 'error').slice(0, errors);
  return records.filter((r) => r.status === 'ok' && r.output_tokens === output);
}

describe('real instrumentation-library captures', () => {
  it('has captures to check', () => expect(captures().length).toBeGreaterThanOrEqual(5));

  for (const { lib, version, dir } of captures()) {
    it(`${lib} ${version}: one exact record per reported call, with the app's attribution`, () => {
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as SourceManifest;
      const { n } = normalizer({ dimensions: { env: ['resource:deployment.environment'] } });
      const records = finalRecords(runAll(n, loadScenario(dir)));
      const claimed = new Set<LlmCall>();
      const problems: string[] = [];
      for (const c of manifest.calls) {
        const losses = lossesOf(lib, c);
        const served = c.attempts.find((a) => a.status === 200 && a.usage !== null);
        const ids = c.attempts.flatMap((a) => [a.requestId, a.responseId]).filter((x) => x !== '');
        const output = served ? served.usage!.output + (losses.includes('output_plus_one') ? 1 : 0) : null;
        const errors = losses.includes('error') || losses.includes('span') ? 0 : 1;
        const mine = recordOf(records.filter((r) => !claimed.has(r)), ids, output, errors);
        for (const r of mine) claimed.add(r);
        const where = `${c.id}:`;
        if (losses.includes('span')) {
          if (mine.length > 0) problems.push(`${where} the library reports no span here, yet ${mine.length} record(s): update losses.ts`);
          continue;
        }
        if (served === undefined) {
          if (losses.includes('error')) continue;
          if (mine.length !== errors || mine.some((r) => r.status !== 'error')) problems.push(`${where} want one error record, got ${mine.map((r) => r.status).join(',') || 'none'}`);
          else if (mine.some((r) => r.input_tokens + r.output_tokens > 0)) problems.push(`${where} tokens billed on an error`);
          continue;
        }
        if (mine.length !== 1) {
          problems.push(`${where} ${mine.length} records for one call`);
          continue;
        }
        const r = mine[0];
        const u = served.usage!;
        const want = {
          input: losses.includes('cache_reads_in_input') ? u.input + u.cacheRead : u.input,
          output: losses.includes('output_plus_one') ? u.output + 1 : u.output,
          cache_read: losses.includes('cache_reads_in_input') || losses.includes('cache') ? 0 : u.cacheRead,
          cache_write: losses.includes('cache') ? 0 : u.cacheWrite5m + u.cacheWrite1h,
        };
        const got = { input: r.input_tokens, output: r.output_tokens, cache_read: r.cache_read_tokens, cache_write: r.cache_write_5m_tokens + r.cache_write_1h_tokens };
        for (const k of Object.keys(want) as (keyof typeof want)[]) if (want[k] !== got[k]) problems.push(`${where} ${k} ${got[k]} != mock ${want[k]}`);
        if (!losses.includes('cache_split') && !losses.includes('cache') && (r.cache_write_1h_tokens !== u.cacheWrite1h)) problems.push(`${where} 1h writes ${r.cache_write_1h_tokens} != ${u.cacheWrite1h}`);
        if (r.model !== MODEL[c.sdk]) problems.push(`${where} model ${r.model}`);
        if (r.provider !== c.provider) problems.push(`${where} provider ${r.provider} != ${c.provider}`);
        if (r.status !== 'ok') problems.push(`${where} status ${r.status}`);
        if (r.streaming !== c.stream && !losses.includes('streaming')) problems.push(`${where} streaming ${String(r.streaming)}`);
        if (r.service_name !== manifest.identity.service) problems.push(`${where} service ${r.service_name}`);
        if (r.team !== manifest.identity.team) problems.push(`${where} team ${r.team}`);
        if (r.dimensions.env !== manifest.identity.environment) problems.push(`${where} env ${r.dimensions.env}`);
        if (r.source !== 'otel_genai') problems.push(`${where} source ${r.source}`);
      }
      const extra = records.filter((r) => !claimed.has(r));
      for (const r of extra) problems.push(`extra record ${r.call_id} (${r.model}, ${r.status}, out ${r.output_tokens})`);
      expect(problems).toEqual([]);
    });
  }

  it('lists losses only for libraries and calls that exist', () => {
    const libs = new Set(captures().map((c) => c.lib));
    for (const l of LOSSES) expect(libs.has(l.lib), l.lib).toBe(true);
  });
});
