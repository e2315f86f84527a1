import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyCall } from '../../../core/llm-call.js';
import { parsePythonDict, parsePythonLiteral } from '../../../processors/claude-normalizer/python-repr.js';
import { applyUsage } from '../../../processors/claude-normalizer/tokens.js';
import { splitTags } from '../../../processors/claude-normalizer/litellm-identity.js';

describe('Python repr literals (LiteLLM v1 metadata)', () => {
  it('reads the usage_object LiteLLM 1.81.3 wrote', () => {
    const text = "{'completion_tokens': 22, 'prompt_tokens': 4308, 'completion_tokens_details': {'reasoning_tokens': None, 'text_tokens': 22}, 'prompt_tokens_details': {'cached_tokens': 3002, 'text_tokens': None, 'cache_creation_token_details': {'ephemeral_5m_input_tokens': 502, 'ephemeral_1h_input_tokens': 702}}, 'ok': True, 'f': -1.5e-3, 'l': ['a', \"b'c\"], 't': (1, 2)}";
    expect(parsePythonDict(text)).toEqual({
      completion_tokens: 22, prompt_tokens: 4308, completion_tokens_details: { reasoning_tokens: null, text_tokens: 22 },
      prompt_tokens_details: { cached_tokens: 3002, text_tokens: null, cache_creation_token_details: { ephemeral_5m_input_tokens: 502, ephemeral_1h_input_tokens: 702 } },
      ok: true, f: -0.0015, l: ['a', "b'c"], t: [1, 2],
    });
  });

  it('escapes, empty containers, trailing commas', () => {
    expect(parsePythonLiteral("{'a': 'x\\'y\\n', 'b': {}, 'c': [], 'd': [1,],}")).toEqual({ a: "x'y\n", b: {}, c: [], d: [1] });
  });

  it('anything that is not a literal is undefined, never a guess', () => {
    for (const bad of ['Usage(prompt_tokens=1)', "{'a': 1", "{'a' 1}", '', 'None None', "{'a': nan}", '…']) {
      expect(parsePythonLiteral(bad), bad).toBeUndefined();
    }
    expect(parsePythonDict('[1, 2]')).toBeUndefined();
  });

  it('never throws on arbitrary input', () => {
    fc.assert(fc.property(fc.string(), (s) => { parsePythonLiteral(s); }));
  });
});

describe('token semantics', () => {
  const run = (u: Parameters<typeof applyUsage>[1]) => {
    const c = emptyCall();
    const issue = applyUsage(c, u);
    return [c.input_tokens, c.output_tokens, c.cache_read_tokens, c.cache_write_5m_tokens, c.cache_write_1h_tokens, issue];
  };

  it('Anthropic usage passes through; writes split 5m/1h', () => {
    expect(run({ input: 25, output: 42, cacheRead: 9800, cacheWrite: 1200, cacheWrite5m: 1000, cacheWrite1h: 200, inputIncludes: 'none' })).toEqual([25, 42, 9800, 1000, 200, '']);
  });

  it('an unknown split counts every write at 5m', () => {
    expect(run({ input: 25, output: 1, cacheWrite: 1200, inputIncludes: 'none' })).toEqual([25, 1, 0, 1200, 0, '']);
  });

  it('OpenAI-style prompt tokens including reads and writes (LiteLLM 1.81)', () => {
    expect(run({ input: 4308, output: 22, total: 4330, cacheRead: 3002, cacheWrite: 1204, cacheWrite5m: 502, cacheWrite1h: 702, inputIncludes: 'auto' })).toEqual([102, 22, 3002, 502, 702, '']);
  });

  it('prompt tokens including reads only (LiteLLM ~1.66–1.80): auto falls back when writes do not fit', () => {
    expect(run({ input: 3104, output: 22, cacheRead: 3002, cacheWrite: 1204, inputIncludes: 'auto' })).toEqual([102, 22, 3002, 1204, 0, '']);
    expect(run({ input: 3104, output: 22, cacheRead: 3002, cacheWrite: 1204, inputIncludes: 'read' })).toEqual([102, 22, 3002, 1204, 0, '']);
  });

  it('inconsistent tokens are flagged and clamped, not dropped', () => {
    expect(run({ input: 10, output: 1, cacheRead: 50, inputIncludes: 'read' })).toEqual([0, 1, 50, 0, 0, 'negative_input']);
    expect(run({ input: 10, output: 1, total: 99, inputIncludes: 'none' })).toEqual([10, 1, 0, 0, 0, 'total_mismatch']);
    expect(run({ input: 1, output: 1, cacheWrite: 10, cacheWrite5m: 3, cacheWrite1h: 3, inputIncludes: 'none' })).toEqual([1, 1, 0, 7, 3, 'cache_split_mismatch']);
  });

  it('the whole prompt is always input + reads + writes', () => {
    fc.assert(fc.property(fc.nat(1e6), fc.nat(1e6), fc.nat(1e6), fc.nat(1e6), (input, read, w5, w1) => {
      const c = emptyCall();
      applyUsage(c, { input: input + read + w5 + w1, output: 0, cacheRead: read, cacheWrite: w5 + w1, cacheWrite5m: w5, cacheWrite1h: w1, inputIncludes: 'read_and_write' });
      return c.input_tokens === input && c.cache_write_5m_tokens === w5 && c.cache_write_1h_tokens === w1;
    }));
  });
});

describe('tags', () => {
  it('comma lists, JSON and Python lists', () => {
    expect(splitTags(' a, b ,,c ')).toEqual(['a', 'b', 'c']);
    expect(splitTags('["x", "y"]')).toEqual(['x', 'y']);
    expect(splitTags("['x', 'y']")).toEqual(['x', 'y']);
  });
});
