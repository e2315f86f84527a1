import { describe, expect, it } from 'vitest';
import type { Batch } from '../../../core/batch.js';
import { emptyCall } from '../../../core/llm-call.js';
import { createAjv } from '../../../core/config/ajv.js';
import { claudeNormalizerFactory } from '../../../processors/claude-normalizer/index.js';
import { entryState, JoinIndex } from '../../../processors/claude-normalizer/join-index.js';
import { isContentKey } from '../../../core/privacy.js';
import { AttributeFilter } from '../../../processors/claude-normalizer/privacy.js';
import { factories } from '../../../bin/components.js';
import { batchOf, metricValue, testContext } from '../../helpers/context.js';
import { config, normalizer } from './helpers.js';

describe('factory and config schema', () => {
  it('is registered and its schema fills every default', () => {
    expect(factories).toContain(claudeNormalizerFactory);
    const validate = createAjv().compile(claudeNormalizerFactory.schema);
    const cfg: Record<string, unknown> = {};
    expect(validate(cfg), JSON.stringify(validate.errors)).toBe(true);
    expect(cfg).toEqual(claudeNormalizerFactory.defaults);
  });

  it('rejects unknown keys, bad enums and malformed source references', () => {
    const validate = createAjv().compile(claudeNormalizerFactory.schema);
    expect(validate({ bogus: 1 })).toBe(false);
    expect(validate({ claude_code: { usage_from: 'logs' } })).toBe(false);
    expect(validate({ attribution: { team: ['team.id'] } })).toBe(false);
    expect(validate({ dimensions: { project: ['tag:project', 'resource:project'] } })).toBe(true);
  });

  it('validation refuses what the schema lets through: unknown fields, credential headers, content attributes', () => {
    const validate = (c: Parameters<typeof config>[0]) => claudeNormalizerFactory.validate!(config(c), { id: 'claude-normalizer', configDir: '.', env: {} });
    expect(validate({})).toEqual([]);
    expect(validate({ attribution: { ...config().attribution, team: ['litellm:team_alias', 'litellm:nope'] } })).toEqual([
      { path: ['attribution', 'team', 1], message: expect.stringMatching(/^"litellm:nope": litellm fields are team_id, /) },
    ]);
    const refused = ['header:X-Api-Key', 'header:authorization', 'header:proxy-authorization', 'header:cookie', 'header:set-cookie', 'header:api-key',
      'header:x-litellm-api-key', 'header:x-goog-api-key', 'header:x-openai-api-key', 'header:x-amz-security-token',
      'attribute:gen_ai.input.messages', 'attribute:gen_ai.output.messages', 'attribute:gen_ai.prompt', 'attribute:gen_ai.prompt.0.content',
      'attribute:gen_ai.completion.0.content', 'attribute:llm.input_messages.0.message.content', 'attribute:input.value', 'attribute:output.value',
      'attribute:prompt', 'attribute:tool_input', 'attribute:tool_parameters', 'resource:gen_ai.system_instructions', 'metadata:requester_metadata',
      'metadata:spend_logs_metadata', 'metadata:spend_logs_metadata.prompt'];
    const problems = validate({ dimensions: { project: refused } });
    expect(problems.map((p) => p.path)).toEqual(refused.map((_, i) => ['dimensions', 'project', i]));
    for (const p of problems) expect(p.message).toMatch(/is a (credential header|content attribute)/);
    const allowed = ['header:x-litellm-team', 'header:x-tenant-id', 'header:x-claude-code-session-id', 'attribute:gen_ai.request.model', 'attribute:prompt.id',
      'metadata:spend_logs_metadata.project', 'metadata:user_api_key_team_alias', 'resource:service.name', 'tag:project'];
    expect(validate({ dimensions: { project: allowed } })).toEqual([]);
    expect(validate({ attributes: { ...config().attributes, include: ['gen_ai.*', 'gen_ai.input.messages', 'gen_ai.input.*', 'input.value'] } }).map((p) => p.path))
      .toEqual([['attributes', 'include', 1], ['attributes', 'include', 2], ['attributes', 'include', 3]]);
  });

  it('passes a batch without LLM telemetry through unchanged, and never mutates its input', () => {
    const p = claudeNormalizerFactory.create(config(), testContext('claude-normalizer'));
    const b = batchOf({});
    expect(p.process(b)).toBe(b);
  });

  it('passes on records but not the telemetry it read when nothing after it reads telemetry', () => {
    const p = claudeNormalizerFactory.create(config(), { ...testContext('claude-normalizer'), telemetryAfter: false });
    const earlier = { ...emptyCall(), call_id: 'earlier' };
    const span = { traceId: 't', spanId: 's', parentSpanId: '', name: 'GET /health', kind: 2, startTimeUnixNano: '1', endTimeUnixNano: '2', attributes: {}, events: [], status: { code: 0, message: '' } };
    const b = batchOf({ calls: [earlier], resourceSpans: [{ resource: {}, scopeSpans: [{ scope: { name: 'http', version: '', attributes: {} }, spans: [span] }] }] });
    const before = structuredClone(b);
    const out = p.process(b) as Batch;
    expect(out.calls).toEqual([earlier]);
    expect([out.resourceSpans, out.resourceMetrics, out.resourceLogs]).toEqual([[], [], []]);
    expect(b).toEqual(before);
  });
});

describe('join index bounds', () => {
  it('forgets calls after the window and beyond max_entries, oldest first', () => {
    const idx = new JoinIndex(1000, 2);
    idx.add(emptyCall(), 'litellm_v2', ['a'], 0, true, 1, 0);
    idx.add(emptyCall(), 'litellm_v2', ['b'], 500, true, 1, 1);
    idx.add(emptyCall(), 'litellm_v2', ['c'], 600, true, 1, 2);
    expect([idx.find(['a']), idx.size, idx.evictions]).toEqual([undefined, 2, 1]);
    idx.expire(1500);
    expect([idx.find(['b']), idx.find(['c'])?.key, idx.size]).toEqual([undefined, 'c', 1]);
    idx.expire(1600);
    expect(idx.size).toBe(0);
  });

  it('remove takes an entry back without counting an eviction, also after the queue was compacted', () => {
    const evicted: string[] = [];
    const idx = new JoinIndex(1000, 5000, (e) => evicted.push(e.keys[0]));
    const entries = Array.from({ length: 3000 }, (_, i) => idx.add(emptyCall(), 'litellm_v2', [`k${i}`], i < 2500 ? 0 : 500, true, 1, i));
    idx.expire(1000); // 2500 evicted: the queue is compacted
    idx.remove(entries[2700], entryState(entries[2700]));
    idx.remove(entries[10], entryState(entries[10])); // already evicted: nothing happens
    expect([idx.find(['k2700']), idx.find(['k2701'])?.key, idx.size, idx.evictions]).toEqual([undefined, 'k2701', 499, 2500]);
    idx.expire(1500);
    expect([idx.size, evicted.length, evicted.includes('k2700')]).toEqual([0, 2999, false]);
  });

  it('revert takes back the keys, shapes and record a batch gave an existing entry, and gives moved keys back', () => {
    const idx = new JoinIndex(1000, 100);
    const link = idx.add(emptyCall(), 'claude_code_span', ['span:1'], 0, false, 1, -1);
    const call = idx.add(emptyCall(), 'claude_code_event', ['req:1'], 0, true, 1, 0);
    const [linkBefore, callBefore] = [entryState(link), entryState(call)];
    idx.addKeys(call, ['span:1', 'lcid:9']);
    call.shapes.push('litellm_v2');
    call.record = { ...call.record, team: 'ads' };
    link.billed = true;
    idx.revert([
      { entry: call, before: callBefore, after: entryState(call) },
      { entry: link, before: linkBefore, after: entryState(link) },
    ]);
    expect([idx.find(['span:1'])?.entry, idx.find(['lcid:9']), idx.find(['req:1'])?.entry]).toEqual([link, undefined, call]);
    expect([call.shapes, call.record.team, link.billed]).toEqual([['claude_code_event'], '', false]);
  });

  it('remove keeps an entry a later batch joined, for that batch: without the refused shapes, to be billed again', () => {
    const idx = new JoinIndex(1000, 100);
    const e = idx.add(emptyCall(), 'claude_code_event', ['fp:1'], 0, true, 1, 0);
    const end = entryState(e);
    idx.addKeys(e, ['lcid:9']);
    e.shapes.push('litellm_legacy');
    idx.remove(e, end);
    expect([idx.size, idx.find(['fp:1'])?.entry, idx.find(['lcid:9'])?.entry, e.shapes, e.billed]).toEqual([1, e, e, ['litellm_legacy'], false]);
    const f = idx.add(emptyCall(), 'claude_code_event', ['fp:2'], 0, true, 2, 0);
    idx.remove(f, entryState(f));
    expect([idx.size, idx.find(['fp:2'])]).toEqual([1, undefined]);
  });

  it('revert leaves what a later batch did to the entry: its keys, its shapes and its record', () => {
    const idx = new JoinIndex(1000, 100);
    const e = idx.add(emptyCall(), 'claude_code_event', ['req:1'], 0, true, 1, 0);
    const before = entryState(e);
    idx.addKeys(e, ['lcid:9']);
    e.shapes.push('litellm_v2');
    e.record = { ...e.record, team: 'ads' };
    const after = entryState(e); // the refused batch ends here; a later one (accepted) joins too
    idx.addKeys(e, ['span:1']);
    e.shapes.push('claude_code_span');
    e.record = { ...e.record, session_id: 's1' };
    idx.revert([{ entry: e, before, after }]);
    expect([idx.find(['lcid:9']), idx.find(['span:1'])?.entry, e.shapes, e.record.session_id]).toEqual([undefined, e, ['claude_code_event', 'claude_code_span'], 's1']);
  });

  it('a re-send after the window is billed again (documented), and the eviction is counted', async () => {
    let now = 0;
    const { n, ctx } = normalizer({ dedupe: { ...config().dedupe, window: '1m', max_entries: 10 } }, () => now);
    const span = () => batchOf({ resourceSpans: [{ resource: {}, scopeSpans: [{ scope: { name: 's', version: '', attributes: {} }, spans: [{
      traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), parentSpanId: '', name: 'chat', kind: 3, startTimeUnixNano: '1', endTimeUnixNano: '2',
      events: [], status: { code: 0, message: '' },
      attributes: { 'gen_ai.request.model': 'gpt-4o', 'gen_ai.response.id': 'chatcmpl-1', 'gen_ai.usage.input_tokens': 5, 'gen_ai.usage.output_tokens': 1 },
    }] }] }] });
    expect(n.process(span()).calls).toHaveLength(1);
    now = 30_000;
    expect(n.process(span()).calls).toHaveLength(0);
    now = 61_000;
    expect(n.process(span()).calls).toHaveLength(1);
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_index_evictions_total')).toBe(1);
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_index_entries')).toBe(1);
  });
});

describe('kept attributes', () => {
  it('only listed keys, content never, bounded in count and length', () => {
    const f = new AttributeFilter(['a', 'long', 'gen_ai.input.messages', 'prompt', 'x.*'], 3, 5);
    const kept = f.pick({ a: 1, long: 'abcdefghij', 'gen_ai.input.messages': 'SECRET', prompt: 'SECRET', 'x.1': 'y', 'x.2': 'z', other: 'o' }, { 'x.3': 'r' });
    expect(kept).toEqual({ a: '1', long: 'abcde', 'x.1': 'y' });
  });

  it('content keys of every source are recognized', () => {
    for (const k of ['gen_ai.input.messages', 'gen_ai.output.messages', 'gen_ai.system_instructions', 'gen_ai.prompt.0.content', 'gen_ai.completion.0.content',
      'llm.input_messages.0.message.content', 'llm.output_messages', 'input.value', 'output.value', 'llm.anthropic.messages', 'llm.None.usage',
      'SpanAttributes.LLM_PROMPTS.0.content', 'prompt', 'prompt_text', 'response', 'user_prompt', 'tool_input', 'metadata.requester_metadata', 'hidden_params']) {
      expect(isContentKey(k), k).toBe(true);
    }
    for (const k of ['gen_ai.request.model', 'llm.token_count.prompt', 'llm.request.type', 'prompt.id', 'query_source', 'metadata.user_api_key_alias']) {
      expect(isContentKey(k), k).toBe(false);
    }
  });
});
