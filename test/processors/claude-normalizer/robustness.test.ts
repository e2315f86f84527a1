import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AnyValue, Attributes, LogRecord, Span } from '../../../core/telemetry.js';
import { batchOf } from '../../helpers/context.js';
import { normalizer } from './helpers.js';

/** Keys the shapes read, with values of any type: malformed telemetry must never crash the pipeline. */
const KEYS = [
  'gen_ai.system', 'gen_ai.provider.name', 'gen_ai.request.model', 'gen_ai.response.model', 'gen_ai.response.id', 'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens', 'gen_ai.usage.prompt_tokens', 'gen_ai.usage.cache_read.input_tokens', 'gen_ai.usage.cache_creation.input_tokens',
  'gen_ai.operation.name', 'llm.request.type', 'llm.is_streaming', 'hidden_params', 'metadata.usage_object', 'metadata.requester_custom_headers',
  'metadata.requester_metadata', 'metadata.user_api_key_end_user_id', 'metadata.user_api_key_hash', 'litellm.call_type', 'litellm.call_id',
  'litellm.provider.model', 'litellm.request.streaming', 'litellm.cost.total', 'llm.token_count.prompt', 'llm.model_name', 'openinference.span.kind',
  'event.name', 'model', 'input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_creation_tokens', 'cache_creation_5m_tokens', 'request_id',
  'duration_ms', 'cost_usd', 'session.id', 'gen_ai.response.time_to_first_chunk',
];
const value: fc.Arbitrary<AnyValue> = fc.oneof(
  fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
  fc.constantFrom('True', 'False', 'None', '', '{', "{'prompt_tokens': ", "{'a': [1, {'b': None}]}", '{"llm_provider-request-id": "req_x"}', 'NaN', '-5', '1e400'),
  fc.array(fc.string(), { maxLength: 3 }),
);
const attrs: fc.Arbitrary<Attributes> = fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 20 });
const nanos = fc.oneof(fc.constant(''), fc.constant('0'), fc.bigInt({ min: 0n, max: 2n ** 64n }).map(String), fc.string());

describe('malformed telemetry', () => {
  it('never throws, and every record has non-negative integer tokens', () => {
    const { n } = normalizer();
    fc.assert(fc.property(attrs, attrs, nanos, nanos, fc.integer({ min: 0, max: 2 }), (a, rec, start, end, code) => {
      const span: Span = { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), parentSpanId: '', name: 'x', kind: 2, startTimeUnixNano: start, endTimeUnixNano: end, attributes: a, events: [], status: { code, message: '' } };
      const log: LogRecord = { timeUnixNano: end, observedTimeUnixNano: '', severityNumber: 0, severityText: '', body: 'claude_code.api_request', attributes: { ...rec, 'event.name': 'api_request' }, traceId: '', spanId: '', eventName: '' };
      const out = n.process(batchOf({
        resourceSpans: [{ resource: {}, scopeSpans: [{ scope: { name: 'litellm', version: '', attributes: {} }, spans: [span] }] }],
        resourceLogs: [{ resource: {}, scopeLogs: [{ scope: { name: 'com.anthropic.claude_code.events', version: '', attributes: {} }, logRecords: [log] }] }],
      }));
      for (const c of [...out.calls, ...out.updates]) {
        for (const t of [c.input_tokens, c.output_tokens, c.cache_read_tokens, c.cache_write_5m_tokens, c.cache_write_1h_tokens]) {
          expect(Number.isInteger(t) && t >= 0).toBe(true);
        }
        expect(typeof c.timestamp).toBe('string');
      }
    }), { numRuns: 400 });
  });
});
