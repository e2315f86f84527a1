import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LlmCall } from '../../core/llm-call.js';
import { metricSum } from '../e2e/harness/tokenledger.js';
import { httpPipelineYaml } from '../helpers/pipeline-yaml.js';
import { freePort, runCli, RunningCli } from './cli-process.js';

/**
 * The symptom of issue 13 §3 as a user saw it: LiteLLM 1.81.3 re-sending its exports (its Bedrock
 * pass-through and error spans carry no provider or LiteLLM id) made /metrics count those calls
 * again. Here every captured export reaches `tokenledger run` twice, over HTTP as LiteLLM sends it.
 */
const CAPTURE = join(import.meta.dirname, '../fixtures/litellm/1.81.3/default');

let cli: RunningCli | undefined;
afterEach(async () => { await cli?.stop('SIGKILL'); cli = undefined; });

describe('tokenledger run, exports re-sent', () => {
  it('/metrics counts every call, its tokens and cost once', async () => {
    const files = readdirSync(CAPTURE).filter((f) => /^\d+-traces\.pb$/.test(f)).sort().map((f) => join(CAPTURE, f));
    const expected = runCli(['process', ...files]).stdout.trim().split('\n').map((l) => JSON.parse(l) as LlmCall);
    expect(expected.filter((c) => c.route === 'bedrock_passthrough').length).toBeGreaterThan(0);
    expect(expected.filter((c) => c.status === 'error').length).toBeGreaterThan(0);

    const [http, admin] = [await freePort(), await freePort()];
    const config = join(mkdtempSync(join(tmpdir(), 'tl-run-resend-')), 'pipeline.yaml');
    writeFileSync(config, httpPipelineYaml({ http, admin, exporters: '  prometheus:', pipelines: { llm: ['prometheus'] } }));
    cli = new RunningCli(['run', '-c', config]);
    await cli.waitFor('stderr', '"msg":"pipeline running"', 30_000);
    for (const round of [1, 2]) {
      for (const f of files) {
        const res = await fetch(`http://127.0.0.1:${http}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: readFileSync(f) });
        expect(res.status, `${f}, round ${round}`).toBe(200);
      }
    }
    const metrics = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
    expect(metricSum(metrics, 'tokenledger_llm_calls_total')).toBe(expected.length);
    expect(metricSum(metrics, 'tokenledger_llm_calls_total', { status: 'error' })).toBe(expected.filter((c) => c.status === 'error').length);
    expect(metricSum(metrics, 'tokenledger_llm_calls_total', { route: 'bedrock_passthrough' })).toBe(expected.filter((c) => c.route === 'bedrock_passthrough').length);
    expect(metricSum(metrics, 'tokenledger_llm_tokens_total', { token_type: 'input' })).toBe(expected.reduce((s, c) => s + c.input_tokens, 0));
    expect(metricSum(metrics, 'tokenledger_llm_cost_usd_total')).toBeCloseTo(expected.reduce((s, c) => s + c.cost_usd, 0), 9);
    expect(metricSum(metrics, 'tokenledger_normalizer_duplicates_total')).toBeGreaterThanOrEqual(expected.length);
    expect(await cli.stop('SIGTERM')).toBe(0);
  }, 90_000);
});
