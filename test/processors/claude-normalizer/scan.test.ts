import { describe, expect, it } from 'vitest';
import { dictField, numberField, stringField } from '../../../processors/claude-normalizer/scan.js';

describe('field scans of LiteLLM blobs', () => {
  const repr = "{'completion_tokens': 22, 'prompt_tokens': 4308, 'completion_tokens_details': {'text_tokens': 22}, 'prompt_tokens_details': {'cached_tokens': 3002, 'text_tokens': None, 'cache_creation_token_details': {'ephemeral_5m_input_tokens': 502}}, 'x': -1.5e2}";
  const json = '{"model_id": null, "api_base": "http://127.0.0.1:43113", "response_cost": 0.0034191, "additional_headers": {"llm_provider-request-id": "req_1", "bad": "a\\"b"}, "compact":7}';

  it('numbers by exact key, in either quote style', () => {
    expect(numberField(repr, 'prompt_tokens')).toBe(4308);
    expect(numberField(repr, 'completion_tokens')).toBe(22);
    expect(numberField(repr, 'ephemeral_5m_input_tokens')).toBe(502);
    expect(numberField(repr, 'x')).toBe(-150);
    expect(numberField(json, 'response_cost')).toBe(0.0034191);
    expect(numberField(json, 'compact')).toBe(7);
    expect(numberField(json, 'model_id')).toBeUndefined();
    expect(numberField(repr, 'missing')).toBeUndefined();
  });

  it('a key inside one dict only', () => {
    const d = dictField(repr, 'prompt_tokens_details');
    expect(d).not.toBeNull();
    const [from, to] = d ?? [0, 0];
    expect(numberField(repr, 'text_tokens', from, to)).toBeUndefined();
    expect(numberField(repr, 'cached_tokens', from, to)).toBe(3002);
    expect(numberField(repr, 'text_tokens')).toBe(22);
    expect(dictField(repr, 'prompt_tokens')).toBeNull();
  });

  it('strings; escaped values are refused rather than misread', () => {
    expect(stringField(json, 'api_base')).toBe('http://127.0.0.1:43113');
    expect(stringField(json, 'llm_provider-request-id')).toBe('req_1');
    expect(stringField(json, 'bad')).toBe('');
    expect(stringField(json, 'model_id')).toBe('');
    expect(stringField('', 'x')).toBe('');
  });
});
