import { describe, expect, it } from 'vitest';
import { claudeCodeLogs, instance, liteLLMTraces, stamp, type Payload } from '../../bench/payload.js';
import type { LlmCall } from '../../core/llm-call.js';
import { defaults } from '../../processors/claude-normalizer/config.js';
import { ClaudeNormalizer } from '../../processors/claude-normalizer/normalizer.js';
import { decodeExport } from '../../receivers/otlp/codec/codec.js';
import { batchOf, testContext } from '../helpers/context.js';

/** The load of `npm run bench` must be N distinct, correct calls, not N re-sends of one. */
describe('bench payloads', () => {
  const normalize = (n: ClaudeNormalizer, p: Payload, seq: number): LlmCall[] => {
    const body = instance(p);
    stamp(body, p.patches, seq);
    return n.process(batchOf(decodeExport(p.signal, body, 'protobuf'))).calls;
  };

  it('a stamped LiteLLM request yields B new calls per send, each with the captured usage', () => {
    const p = liteLLMTraces({ calls: 50 });
    expect(p.items).toBe(50 * 6);
    const n = new ClaudeNormalizer(structuredClone(defaults), testContext('claude-normalizer'));
    const first = normalize(n, p, 1);
    const second = normalize(n, p, 2);
    expect(first).toHaveLength(50);
    expect(second).toHaveLength(50);
    const all = [...first, ...second];
    expect(new Set(all.map((c) => c.call_id)).size).toBe(100);
    expect(new Set(all.map((c) => c.trace_id)).size).toBe(100);
    for (const c of all) {
      expect(c).toMatchObject({ source: 'litellm', status: 'ok', model: 'claude-sonnet-4-5', input_tokens: 102, output_tokens: 22, cache_read_tokens: 3002, cache_write_5m_tokens: 502, cache_write_1h_tokens: 702 });
    }
    expect(normalize(n, p, 1)).toHaveLength(0); // the same counter again is a re-send: the ids are what de-duplicates
  });

  it('the large-content variant carries the same calls with tens of KB of content per span', () => {
    const small = liteLLMTraces({ calls: 4 });
    const large = liteLLMTraces({ calls: 4, contentBytes: 32_768, copyBase: 0x8000 });
    expect(large.bytes.length - small.bytes.length).toBeGreaterThan(4 * 64_000);
    const calls = normalize(new ClaudeNormalizer(structuredClone(defaults), testContext('claude-normalizer')), large, 7);
    expect(calls).toHaveLength(4);
    expect(JSON.stringify(calls)).not.toContain('TLBENCH');
  });

  it('Claude Code log copies yield one api_request call each, new on every send', () => {
    const p = claudeCodeLogs(3);
    expect(p.calls).toBe(3);
    const n = new ClaudeNormalizer(structuredClone(defaults), testContext('claude-normalizer'));
    const calls = [...normalize(n, p, 1), ...normalize(n, p, 2)];
    expect(calls.filter((c) => c.source === 'claude_code' && c.record_type === 'call')).toHaveLength(6);
    expect(new Set(calls.map((c) => c.call_id)).size).toBe(6);
  });
});
