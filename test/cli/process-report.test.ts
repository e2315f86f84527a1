import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LlmCall } from '../../core/llm-call.js';
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

describe('tokenledger report', () => {
  it('reports what a run of the pipeline stored, from its embedded ClickHouse', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-report-'));
    const [http, admin] = [await freePort(), await freePort()];
    const config = join(dir, 'pipeline.yaml');
    writeFileSync(config, `receivers:
  otlp:
    protocols:
      grpc: { enabled: false }
      http: { endpoint: 127.0.0.1:${http} }
processors:
  claude-normalizer:
  cost-enrichment:
exporters:
  clickhouse:
    mode: embedded
    path: ./ch
    queue: { type: disk, path: ./queue }
service:
  pipelines:
    llm: { receivers: [otlp], processors: [claude-normalizer, cost-enrichment], exporters: [clickhouse] }
  telemetry: { admin: { endpoint: 127.0.0.1:${admin} } }
`);
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
