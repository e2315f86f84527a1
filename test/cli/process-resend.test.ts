import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Batch } from '../../core/batch.js';
import type { LlmCall } from '../../core/llm-call.js';
import { createProcessors, readExport, runProcessors } from '../../bin/commands/process.js';
import { batchOf } from '../helpers/context.js';
import { runCli } from './cli-process.js';

/**
 * An OTLP exporter re-sends a request whose acknowledgement it did not see: `tokenledger process F F`
 * must print exactly the records of `tokenledger process F`, for every capture in test/fixtures/.
 * Both runs go through the same code as the CLI (its processors, from ./pipeline.yaml, and its file
 * reader), the second with every export of the set sent twice in one process. Claude Code's usage is
 * billed from its events by default, from its metrics' data points with `usage_from: metrics`: both.
 */
const FIXTURES = join(import.meta.dirname, '../fixtures');
const EXPORT_FILE = /^\d+-(traces|logs|metrics)\.(pb|json)$/;

interface FixtureSet { name: string; batches: () => Batch[] }

/** Every fixture set: a folder of captured export requests, or a JSONL file of decoded batches (claude-code-via-litellm). */
function fixtureSets(dir: string, out: FixtureSet[] = []): FixtureSet[] {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  const exports = entries.filter((e) => e.isFile() && EXPORT_FILE.test(e.name)).map((e) => join(dir, e.name));
  if (exports.length > 0) out.push({ name: relative(FIXTURES, dir), batches: () => exports.map((f) => readExport(f)) });
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) fixtureSets(path, out);
    else if (e.name.endsWith('.jsonl') && isDecodedBatches(path)) {
      out.push({ name: relative(FIXTURES, path), batches: () => jsonLines(path).map((b) => batchOf(b as Partial<Batch>)) });
    }
  }
  return out;
}

function jsonLines(file: string): unknown[] {
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown);
}

function isDecodedBatches(file: string): boolean {
  const first = JSON.parse(readFileSync(file, 'utf8').split('\n', 1)[0] || 'null') as Record<string, unknown> | null;
  return first !== null && typeof first === 'object' && ['resourceSpans', 'resourceLogs', 'resourceMetrics'].some((k) => k in first);
}

/** What `process` prints (calls) and what a row store ends with (each call as last emitted). */
async function processAll(batches: Batch[], config?: string): Promise<{ printed: LlmCall[]; final: Map<string, LlmCall> }> {
  const { processors } = await createProcessors({ config });
  const printed: LlmCall[] = [];
  const final = new Map<string, LlmCall>();
  for (const b of batches) {
    const out = await runProcessors(processors, b);
    printed.push(...out.calls);
    for (const c of [...out.calls, ...out.updates]) final.set(c.call_id, c);
  }
  for (const p of processors) await p.shutdown?.();
  return { printed, final };
}

function summary(calls: LlmCall[]) {
  const r = (x: number) => Math.round(x * 1e9) / 1e9;
  return {
    records: calls.length,
    callIds: calls.map((c) => c.call_id).sort(),
    errors: calls.filter((c) => c.status === 'error').length,
    input: calls.reduce((s, c) => s + c.input_tokens, 0),
    output: calls.reduce((s, c) => s + c.output_tokens, 0),
    cacheRead: calls.reduce((s, c) => s + c.cache_read_tokens, 0),
    cacheWrite5m: calls.reduce((s, c) => s + c.cache_write_5m_tokens, 0),
    cacheWrite1h: calls.reduce((s, c) => s + c.cache_write_1h_tokens, 0),
    costUsd: r(calls.reduce((s, c) => s + c.cost_usd, 0)),
  };
}

const SETS = fixtureSets(FIXTURES);

function metricsConfig(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'tl-resend-')), 'pipeline.yaml');
  writeFileSync(file, `receivers: { otlp: {} }
processors:
  claude-normalizer: { claude_code: { usage_from: metrics } }
  cost-enrichment:
exporters: { debug: {} }
service:
  pipelines:
    llm: { receivers: [otlp], processors: [claude-normalizer, cost-enrichment], exporters: [debug] }
`);
  return file;
}

describe('process F F = process F (re-sent exports are billed once)', () => {
  it('finds every kind of capture', () => {
    const names = SETS.map((s) => s.name);
    for (const kind of ['litellm/1.80.11/', 'litellm/1.81.3/', 'litellm/1.108.7/', 'claude-code/otlp/', 'claude-code/e2e-captures/', 'claude-code-via-litellm/']) {
      expect(names.filter((n) => n.startsWith(kind)).length, kind).toBeGreaterThan(0);
    }
  });

  it.each(SETS.map((s) => [s.name, s] as const))('%s', async (_name, set) => {
    const once = await processAll(set.batches());
    expect(once.printed.length).toBeGreaterThan(0);
    const twice = await processAll([...set.batches(), ...set.batches()]);
    expect(summary(twice.printed)).toEqual(summary(once.printed));
    expect(twice.printed).toEqual(once.printed);
    expect([...twice.final.values()]).toEqual([...once.final.values()]);
  }, 60_000);

  it.each(SETS.filter((s) => s.name.startsWith('claude-code/')).map((s) => [s.name, s] as const))('%s, usage from metrics', async (_name, set) => {
    const config = metricsConfig();
    const once = await processAll(set.batches(), config);
    const twice = await processAll([...set.batches(), ...set.batches()], config);
    expect(summary(twice.printed)).toEqual(summary(once.printed));
    expect([...twice.final.values()]).toEqual([...once.final.values()]);
  }, 60_000);

  it('the built CLI: `process F F` prints what `process F` prints (LiteLLM 1.81.3, whose Bedrock pass-through and error spans carry no id)', () => {
    const dir = join(FIXTURES, 'litellm/1.81.3/default');
    const files = readdirSync(dir).filter((f) => EXPORT_FILE.test(f)).sort().map((f) => join(dir, f));
    const once = runCli(['process', ...files]);
    const twice = runCli(['process', ...files, ...files]);
    expect([once.status, twice.status]).toEqual([0, 0]);
    expect(once.stdout.trim().split('\n').length).toBeGreaterThan(50);
    expect(twice.stdout).toBe(once.stdout);
  }, 60_000);

  it('usage from metrics bills usage intervals in the captures that export token usage', async () => {
    const set = SETS.find((s) => s.name === 'claude-code/otlp/v2.1.330-delta-multi-export')!;
    const once = await processAll(set.batches(), metricsConfig());
    expect(once.printed.filter((c) => c.record_type === 'usage_interval').length).toBeGreaterThan(0);
  });
});
