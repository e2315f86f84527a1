import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LlmCall } from '../../core/llm-call.js';
import { httpPipelineYaml } from '../helpers/pipeline-yaml.js';
import { freePort, runCli, RunningCli } from './cli-process.js';

const CAPTURE = 'test/fixtures/claude-code/otlp/v2.1.330-write-tool-with-traces';

/** The api_request events of a Claude Code logs export: what `process` must turn into records. */
function apiRequests(file: string): Record<string, string | number>[] {
  const body = JSON.parse(readFileSync(file, 'utf8')) as { resourceLogs: { scopeLogs: { logRecords: { attributes: { key: string; value: { stringValue?: string; intValue?: number | string; doubleValue?: number } }[] }[] }[] }[] };
  return body.resourceLogs.flatMap((r) => r.scopeLogs.flatMap((s) => s.logRecords))
    .map((l) => Object.fromEntries(l.attributes.map((a) => [a.key, a.value.stringValue ?? a.value.intValue ?? a.value.doubleValue ?? ''])))
    .filter((a) => a['event.name'] === 'api_request');
}

describe('tokenledger process', () => {
  it('prints one LlmCall per Claude Code api_request, with its tokens and cost, and nothing from the metrics of the same calls', () => {
    const events = apiRequests(`${CAPTURE}/002-logs.json`);
    expect(events.length).toBeGreaterThan(0);
    const r = runCli(['process', `${CAPTURE}/002-logs.json`, `${CAPTURE}/003-metrics.json`]);
    expect(r.status).toBe(0);
    const calls = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as LlmCall);
    expect(calls).toHaveLength(events.length);
    for (const [i, e] of events.entries()) {
      expect(calls[i]).toMatchObject({ source: 'claude_code', input_tokens: Number(e.input_tokens), output_tokens: Number(e.output_tokens), reported_cost_usd: Number(e.cost_usd) });
      expect(calls[i].cost_usd).toBeCloseTo(Number(e.cost_usd), 9);
    }
    expect(r.stderr).toContain(`tokenledger process: 2 file(s), ${events.length} call record(s)`);
  });

  it('names a file it cannot read or decode, goes on with the others and exits 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-process-'));
    writeFileSync(join(dir, 'junk-logs.pb'), Buffer.from([0x0a, 0xff, 0xff, 0x01]));
    const r = runCli(['process', join(dir, 'absent-traces.json'), join(dir, 'junk-logs.pb'), `${CAPTURE}/002-logs.json`]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${join(dir, 'absent-traces.json')}: cannot read: ENOENT`);
    expect(r.stderr).toContain(`${join(dir, 'junk-logs.pb')}: not a valid OTLP logs export (protobuf)`);
    expect(r.stdout.trim().split('\n').length).toBe(apiRequests(`${CAPTURE}/002-logs.json`).length);
  });
});

describe('tokenledger process prices as run does in the same folder', () => {
  /** The capture's calls as a model the bundled catalog lacks, which genai-prices would prefix-match to Sonnet 5. */
  function sonnet55Capture(dir: string): string {
    const file = join(dir, 'sonnet-5-5-logs.json');
    const body = readFileSync(`${CAPTURE}/002-logs.json`, 'utf8');
    expect(body).toContain('"claude-opus-5-5"');
    writeFileSync(file, body.replaceAll('"claude-opus-5-5"', '"claude-sonnet-5-5"'));
    return file;
  }
  const processIn = (cwd: string, args: string[]) => {
    const r = runCli(['process', ...args], {}, cwd);
    expect(r.status, r.stderr).toBe(0);
    return { stderr: r.stderr, calls: r.stdout.trim().split('\n').map((l) => JSON.parse(l) as LlmCall) };
  };

  it('without -c it uses ./pipeline.yaml and its price overrides; with no ./pipeline.yaml the defaults, which leave Sonnet 5.5 unpriced', () => {
    const events = apiRequests(`${CAPTURE}/002-logs.json`);
    const withConfig = mkdtempSync(join(tmpdir(), 'tl-process-cfg-'));
    writeFileSync(join(withConfig, 'pipeline.yaml'), readFileSync('pipeline.yaml'));
    const input = sonnet55Capture(withConfig);

    const configured = processIn(withConfig, [input]);
    expect(configured.stderr).toContain('tokenledger process: processors of pipeline.yaml, pipeline llm: claude-normalizer, cost-enrichment');
    expect(configured.calls).toHaveLength(events.length);
    for (const [i, e] of events.entries()) {
      // pipeline.yaml's Sonnet 5.5 price from 2026-10-07, per million tokens: input 2, output 10, cache read 0.10, 5m write 2.50, 1h write 4.
      const usd = (Number(e.input_tokens) * 2 + Number(e.output_tokens) * 10 + Number(e.cache_read_tokens) * 0.1 + Number(e.cache_creation_5m_tokens) * 2.5 + Number(e.cache_creation_1h_tokens) * 4) / 1e6;
      expect(configured.calls[i]).toMatchObject({ model: 'claude-sonnet-5-5', price_ref: 'override:claude-sonnet-5-5-from-2026-10-07' });
      expect(configured.calls[i].cost_usd).toBeCloseTo(usd, 12);
    }
    expect(processIn(mkdtempSync(join(tmpdir(), 'tl-process-elsewhere-')), ['-c', join(withConfig, 'pipeline.yaml'), input]).calls).toEqual(configured.calls);

    const bare = processIn(mkdtempSync(join(tmpdir(), 'tl-process-bare-')), [input]);
    expect(bare.stderr).toContain('tokenledger process: processors of the built-in defaults (no --config, no ./pipeline.yaml)');
    expect(bare.calls.map((c) => [c.model, c.cost_usd, c.price_ref])).toEqual(events.map(() => ['claude-sonnet-5-5', 0, '']));
  });

  it('an invalid ./pipeline.yaml is reported, not skipped', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-process-bad-'));
    writeFileSync(join(dir, 'pipeline.yaml'), 'processors:\n  cost-enrichment:\n    overrides: 7\n');
    const r = runCli(['process', `${CAPTURE}/002-logs.json`], {}, dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('pipeline.yaml');
    expect(r.stdout).toBe('');
  });
});

describe('tokenledger report', () => {
  it('reports what a run of the pipeline stored, from its embedded ClickHouse', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-report-'));
    const [http, admin] = [await freePort(), await freePort()];
    const config = join(dir, 'pipeline.yaml');
    writeFileSync(config, httpPipelineYaml({ http, admin, exporters: '  clickhouse: { mode: embedded, path: ./ch, queue: { type: disk, path: ./queue } }', pipelines: { llm: ['clickhouse'] } }));
    const cli = new RunningCli(['run', '-c', config]);
    try {
      await cli.waitFor('stderr', '"msg":"pipeline running"', 30_000);
      const res = await fetch(`http://127.0.0.1:${http}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: readFileSync(`${CAPTURE}/002-logs.json`) });
      expect(res.status).toBe(200);
    } finally {
      expect(await cli.stop('SIGTERM')).toBe(0);
    }
    const events = apiRequests(`${CAPTURE}/002-logs.json`);
    const r = runCli(['report', '-c', config, '--from', '2020-01-01', '-g', 'model', '-f', 'json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rows = JSON.parse(r.stdout) as { model: string; calls: number; input_tokens: number; cost_usd: number }[];
    expect(rows).toHaveLength(1);
    expect(rows[0].calls).toBe(events.length);
    expect(rows[0].input_tokens).toBe(events.reduce((n, e) => n + Number(e.input_tokens), 0));
    expect(rows[0].cost_usd).toBeCloseTo(events.reduce((n, e) => n + Number(e.cost_usd), 0), 9);

    const bad = runCli(['report', '-c', config, '--from', 'yesterday']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--from "yesterday" is not a date');
  }, 60_000);
});
