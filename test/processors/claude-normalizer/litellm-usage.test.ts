import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyCall } from '../../../core/llm-call.js';
import { litellmUsage, type LiteLLMTokens } from '../../../processors/claude-normalizer/litellm-usage.js';
import { applyUsage } from '../../../processors/claude-normalizer/tokens.js';

/** [input, output, read, write 5m, write 1h, issue] of LiteLLM's fields read by consistency, prompt tokens counted `auto`. */
function read(t: LiteLLMTokens): [number, number, number, number, number, string] {
  const c = emptyCall();
  const { usage, issue } = litellmUsage(t, 'auto');
  const applied = applyUsage(c, usage);
  return [c.input_tokens, c.output_tokens, c.cache_read_tokens, c.cache_write_5m_tokens, c.cache_write_1h_tokens, applied || issue];
}

describe('LiteLLM tokens read by consistency', () => {
  it('text_tokens is taken when it adds up to prompt_tokens (including reads and writes, or reads only)', () => {
    expect(read({ prompt: 4316, output: 24, total: 4340, read: 3004, write: 1208, text: 104, write5m: 504, write1h: 704 })).toEqual([104, 24, 3004, 504, 704, '']);
    // prompt including reads only: text_tokens says so, where `auto` alone would subtract the writes too.
    expect(read({ prompt: 3108, output: 24, read: 3004, write: 4, text: 104 })).toEqual([104, 24, 3004, 4, 0, '']);
    expect(read({ prompt: 104, output: 24, read: 0, write: 0, text: 104 })).toEqual([104, 24, 0, 0, 0, '']);
  });

  it('text_tokens 0 with the prompt total right (a stream with cache reads only): input derived from the total, the mismatch counted', () => {
    expect(read({ prompt: 3108, output: 24, total: 3132, read: 3004, write: 0, text: 0 })).toEqual([104, 24, 3004, 0, 0, 'text_tokens_mismatch']);
    expect(read({ prompt: 810, output: 24, read: 0, write: 706, text: 0, write5m: 0, write1h: 706 })).toEqual([104, 24, 0, 0, 706, 'text_tokens_mismatch']);
  });

  it('a 5m/1h split that does not add up to the writes is not used: all writes 5m, the mismatch counted', () => {
    expect(read({ prompt: 1310, output: 24, read: 0, write: 1206, text: 104, write5m: 0, write1h: 0 })).toEqual([104, 24, 0, 1206, 0, 'cache_split_mismatch']);
    expect(read({ prompt: 1310, output: 24, read: 0, write: 1206, text: 104, write5m: 1206, write1h: 706 })).toEqual([104, 24, 0, 1206, 0, 'cache_split_mismatch']);
  });

  it('a text_tokens that adds up under no reading never changes the tokens: input + reads + writes is the prompt total', () => {
    fc.assert(fc.property(fc.nat(1e6), fc.nat(1e6), fc.nat(1e6), fc.nat(1e6), fc.nat(1e6), (input, r, w5, w1, text) => {
      // text = input + writes would read as "prompt includes reads only": the one reading a lone number cannot refute.
      fc.pre(r + w5 + w1 === 0 || text !== input + w5 + w1);
      const c = emptyCall();
      applyUsage(c, litellmUsage({ prompt: input + r + w5 + w1, output: 1, read: r, write: w5 + w1, text, write5m: w5, write1h: w1 }, 'auto').usage);
      return c.input_tokens === input && c.cache_read_tokens === r && c.cache_write_5m_tokens === w5 && c.cache_write_1h_tokens === w1;
    }));
  });
});
