import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { call, pricer, TOLERANCE } from './calls.js';
import { loadOverrides } from './default-overrides.js';

/**
 * Claude Code prices each call client-side from the same list prices: for every `api_request` event
 * in the captured fixtures (the repo's copy of the shared Claude Code captures, plus the e2e
 * captures of 2.1.197 and 2.1.330), the computed cost must equal the event's own `cost_usd`.
 */
const FIXTURES = fileURLToPath(new URL('../../fixtures/claude-code', import.meta.url));

interface AnyValue { stringValue?: string; intValue?: number | string; doubleValue?: number }
interface LogRecord { timeUnixNano: string; attributes: { key: string; value: AnyValue }[] }
interface LogsRequest { resourceLogs: { scopeLogs: { logRecords: LogRecord[] }[] }[] }

function value(v: AnyValue): string | number {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.doubleValue !== undefined) return v.doubleValue;
  return Number(v.intValue);
}

function apiRequests(): { file: string; at: string; attrs: Record<string, string | number> }[] {
  const out = [];
  for (const file of readdirSync(FIXTURES, { recursive: true, encoding: 'utf8' }).filter((n) => n.endsWith('-logs.json')).sort()) {
    const req = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as LogsRequest;
    for (const rl of req.resourceLogs) for (const sl of rl.scopeLogs) for (const lr of sl.logRecords) {
      const attrs = Object.fromEntries(lr.attributes.map((a) => [a.key, value(a.value)]));
      if (attrs['event.name'] !== 'api_request') continue;
      const at = new Date(Number(BigInt(lr.timeUnixNano) / 1_000_000n)).toISOString();
      out.push({ file, at, attrs });
    }
  }
  return out;
}

describe('cost-enrichment against Claude Code api_request events', () => {
  const events = apiRequests();
  const p = pricer(loadOverrides());

  it('finds the captured api_request events', () => {
    expect(events.length).toBeGreaterThanOrEqual(8);
  });

  it.each(events)('$file at $at', ({ at, attrs }) => {
    const raw = String(attrs.model);
    const r = p.price(call({
      source: 'claude_code',
      provider: 'anthropic',
      model: raw.replace(/-\d{8}$/, ''),
      model_raw: raw,
      timestamp: at,
      input_tokens: Number(attrs.input_tokens),
      output_tokens: Number(attrs.output_tokens),
      cache_read_tokens: Number(attrs.cache_read_tokens),
      // 2.1.197 reports no 5m/1h split: all cache creation is 5-minute then (the LlmCall contract's rule).
      cache_write_5m_tokens: Number(attrs.cache_creation_5m_tokens ?? attrs.cache_creation_tokens),
      cache_write_1h_tokens: Number(attrs.cache_creation_1h_tokens ?? 0),
      attributes: { speed: String(attrs.speed) },
    }));
    expect(r.ref).not.toBe('');
    expect(Math.abs(r.costUsd - Number(attrs.cost_usd))).toBeLessThanOrEqual(TOLERANCE);
    expect(Math.round(r.costUsd * 1e6)).toBe(Number(attrs.cost_usd_micros));
  });
});
