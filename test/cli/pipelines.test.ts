import { Session } from 'chdb';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LlmCall } from '../../core/llm-call.js';
import { metricSum } from '../e2e/harness/tokenledger.js';
import { httpPipelineYaml } from '../helpers/pipeline-yaml.js';
import { freePort, runCli, RunningCli } from './cli-process.js';

/**
 * Fan-out with the shipped components: one OTLP receiver feeding two or three pipelines, each with
 * its own claude-normalizer and cost-enrichment, ending in embedded ClickHouse, Prometheus and debug.
 * Every exporter of every pipeline must get every call of real captures exactly once.
 */

const LITELLM = 'test/fixtures/litellm/1.81.3/default';
const CLAUDE_CODE = 'test/fixtures/claude-code/otlp/v2.1.330-write-tool-with-traces/002-logs.json';
const FILES: { path: string; signal: 'traces' | 'logs' }[] = [
  ...readdirSync(LITELLM).filter((f) => f.endsWith('-traces.pb')).sort().map((f) => ({ path: join(LITELLM, f), signal: 'traces' as const })),
  { path: CLAUDE_CODE, signal: 'logs' },
];

const PIPELINES: Record<string, Record<string, string[]>> = {
  two: { billing: ['clickhouse', 'prometheus'], audit: ['debug'] },
  three: { billing: ['clickhouse'], metrics: ['prometheus'], audit: ['debug'] },
};

function config(pipelines: Record<string, string[]>, http: number, admin: number): string {
  return httpPipelineYaml({ http, admin, pipelines, exporters: '  clickhouse: { mode: embedded, path: ./ch, queue: { type: disk, path: ./queue } }\n  prometheus:\n  debug:' });
}

describe.each(Object.keys(PIPELINES))('%s pipelines sharing the otlp receiver and processor ids', (shape) => {
  it('every exporter of every pipeline gets every call of the captures exactly once', async () => {
    const pipelines = PIPELINES[shape];
    const dir = mkdtempSync(join(tmpdir(), `tl-fanout-${shape}-`));
    const [http, admin] = [await freePort(), await freePort()];
    const file = join(dir, 'pipeline.yaml');
    writeFileSync(file, config(pipelines, http, admin));

    // What one pipeline's processors make of these captures, in this order.
    const reference = runCli(['process', '-c', file, '-p', 'billing', ...FILES.map((f) => f.path)]);
    expect(reference.status, reference.stderr).toBe(0);
    const expected = reference.stdout.trim().split('\n').map((l) => (JSON.parse(l) as LlmCall).call_id).sort();
    expect(expected.length).toBeGreaterThan(10);
    expect(new Set(expected).size).toBe(expected.length);

    const cli = new RunningCli(['run', '-c', file], { TOKENLEDGER_LOG_LEVEL: 'info' });
    let metrics = '';
    try {
      await cli.waitFor('stderr', '"msg":"pipeline running"', 60_000);
      for (const f of FILES) {
        const res = await fetch(`http://127.0.0.1:${http}/v1/${f.signal}`, {
          method: 'POST', headers: { 'content-type': f.path.endsWith('.pb') ? 'application/x-protobuf' : 'application/json' }, body: readFileSync(f.path),
        });
        expect(res.status, f.path).toBe(200);
      }
      metrics = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
    } finally {
      expect(await cli.stop('SIGTERM')).toBe(0);
    }

    const debugged = cli.stdout.trim().split('\n').map((l) => JSON.parse(l) as LlmCall & { update?: boolean }).filter((c) => !c.update).map((c) => c.call_id).sort();
    expect(debugged, 'debug').toEqual(expected);

    expect(metricSum(metrics, 'tokenledger_llm_calls_total'), 'prometheus').toBe(expected.length);

    const session = new Session(join(dir, 'ch'));
    let rows: string[];
    try {
      const text = session.query('SELECT call_id, count() AS versions FROM tokenledger.llm_calls FINAL GROUP BY call_id ORDER BY call_id', 'JSONEachRow');
      rows = text.split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { call_id: string }).call_id);
    } finally {
      session.close();
    }
    expect(rows, 'clickhouse').toEqual(expected);

    // Each pipeline's normalizer saw the data once: its own counters, labelled by pipeline.
    for (const pipeline of Object.keys(pipelines)) {
      expect(metricSum(metrics, 'tokenledger_normalizer_duplicates_total', { pipeline }), pipeline).toBe(0);
      expect(metricSum(metrics, 'tokenledger_normalizer_records_total', { pipeline, record_type: 'call' }), pipeline).toBe(expected.length);
    }
  }, 120_000);
});
