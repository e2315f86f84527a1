import type { LlmCall } from '../../core/llm-call.js';

/** Usage as a source reported it. `inputIncludes` says what its input count contains besides uncached input. */
export interface RawUsage {
  input?: number;
  output?: number;
  total?: number;
  cacheRead?: number;
  cacheWrite?: number;
  cacheWrite5m?: number;
  cacheWrite1h?: number;
  /**
   * `none`: Anthropic meaning (input excludes cache). `read` / `read_and_write`: OpenAI-style prompt
   * tokens that include those. `auto`: reads and writes when that leaves a non-negative input, else reads.
   */
  inputIncludes: 'none' | 'read' | 'read_and_write' | 'auto';
}

/**
 * Writes Anthropic-semantics tokens into `call` (input excludes cache reads and writes; writes split
 * 5m/1h where known, all 5m otherwise) and returns '' or the reason they are inconsistent. An
 * inconsistent call keeps the best reading, clamped at zero: it is flagged, never dropped.
 */
export function applyUsage(call: LlmCall, u: RawUsage): string {
  let issue = '';
  const read = u.cacheRead ?? 0;
  const split1h = u.cacheWrite1h ?? 0;
  const split5m = u.cacheWrite5m;
  let write = u.cacheWrite ?? ((split5m ?? 0) + split1h);
  if (u.cacheWrite !== undefined && split5m !== undefined && split5m + split1h !== u.cacheWrite) {
    issue = 'cache_split_mismatch';
    write = Math.max(write, split5m + split1h);
  }
  const rawInput = u.input ?? 0;
  let input: number;
  switch (u.inputIncludes) {
    case 'none': input = rawInput; break;
    case 'read': input = rawInput - read; break;
    case 'read_and_write': input = rawInput - read - write; break;
    case 'auto': input = rawInput - read - write >= 0 ? rawInput - read - write : rawInput - read; break;
  }
  if (input < 0) {
    issue ||= 'negative_input';
    input = 0;
  }
  const output = u.output ?? 0;
  if (u.total !== undefined && u.total !== rawInput + output && u.total !== input + read + write + output) {
    issue ||= 'total_mismatch';
  }
  call.input_tokens = input;
  call.output_tokens = output;
  call.cache_read_tokens = read;
  call.cache_write_1h_tokens = Math.min(split1h, write);
  call.cache_write_5m_tokens = write - call.cache_write_1h_tokens;
  return issue;
}

export function hasTokens(call: LlmCall): boolean {
  return call.input_tokens + call.output_tokens + call.cache_read_tokens + call.cache_write_5m_tokens + call.cache_write_1h_tokens > 0;
}
