import type { Attributes } from '../../core/telemetry.js';
import { firstNum, str, tokenCount } from './attrs.js';
import type { PromptTokensInclude } from './config.js';
import { dictField, numberField } from './scan.js';
import type { RawUsage } from './tokens.js';

const CACHE_READ_KEYS = ['gen_ai.usage.cache_read.input_tokens', 'gen_ai.usage.cache_read_input_tokens'];
const CACHE_WRITE_KEYS = ['gen_ai.usage.cache_creation.input_tokens', 'gen_ai.usage.cache_creation_input_tokens'];

/** LiteLLM's token fields of one span, as found (undefined when absent). */
export interface LiteLLMTokens {
  /** OpenAI-style prompt tokens: the total that the breakdown below breaks down. */
  prompt?: number;
  output?: number;
  total?: number;
  read?: number;
  write?: number;
  /** `prompt_tokens_details.text_tokens`: the uncached input, when a release fills it right. */
  text?: number;
  /** The 5m / 1h split of `write`. */
  write5m?: number;
  write1h?: number;
}

export interface UsageKeys {
  inputKeys: readonly string[];
  outputKeys: readonly string[];
  totalKeys: readonly string[];
}

/**
 * The token fields of a LiteLLM span: `gen_ai.usage.*` attributes first, then the usage object
 * (a Python repr in v1 `metadata.usage_object`, or `usage_object` inside the hidden_params JSON),
 * whose fields are read in place; only it carries the cache split and the uncached text tokens.
 */
export function litellmTokens(keys: UsageKeys, a: Attributes, hidden: string): LiteLLMTokens {
  const repr = str(a, 'metadata.usage_object');
  const uo = repr.length > 4 ? repr : hidden.includes('"usage_object": {') ? hidden.slice(hidden.indexOf('"usage_object": {')) : '';
  const field = (key: string) => (uo === '' ? undefined : tokenCount(numberField(uo, key)));
  const details = uo === '' ? null : dictField(uo, 'prompt_tokens_details');
  const detail = (key: string) => (details === null ? undefined : tokenCount(numberField(uo, key, details[0], details[1])));
  return {
    prompt: tokenCount(firstNum(a, keys.inputKeys)) ?? field('prompt_tokens'),
    output: tokenCount(firstNum(a, keys.outputKeys)) ?? field('completion_tokens'),
    total: tokenCount(firstNum(a, keys.totalKeys)) ?? field('total_tokens'),
    read: tokenCount(firstNum(a, CACHE_READ_KEYS)) ?? field('cache_read_input_tokens') ?? detail('cached_tokens'),
    write: tokenCount(firstNum(a, CACHE_WRITE_KEYS)) ?? field('cache_creation_input_tokens') ?? detail('cache_creation_tokens'),
    text: detail('text_tokens'),
    write5m: field('ephemeral_5m_input_tokens'),
    write1h: field('ephemeral_1h_input_tokens'),
  };
}

/**
 * LiteLLM's tokens in Anthropic meaning, each breakdown trusted only when it adds up to the total
 * it breaks down: 1.84 to 1.99 fill `text_tokens` with 0 on streams whose final message_delta
 * carries only output_tokens, while prompt_tokens stays right (test/fixtures/litellm); the 5m/1h
 * split is held to the same rule. `issue` names a breakdown that did not
 * add up (the tokens are then derived from the totals, and exact when the totals are), or
 * `cache_unreported` when the span has a prompt total but no cache count at all.
 */
export function litellmUsage(t: LiteLLMTokens, include: PromptTokensInclude): { usage: RawUsage; issue: string } {
  let issue = '';
  const read = t.read ?? 0;
  let write5m = t.write5m;
  let write1h = t.write1h;
  const split = write5m !== undefined || write1h !== undefined ? (write5m ?? 0) + (write1h ?? 0) : undefined;
  if (split !== undefined && t.write !== undefined && split !== t.write) {
    issue = 'cache_split_mismatch';
    write5m = undefined;
    write1h = undefined;
  }
  const write = t.write ?? split ?? 0;
  // No cache count anywhere (LiteLLM 1.88's V2 spans): the prompt total is all the span says, so it
  // is billed as input, which over-bills any cache use; counted, since nothing in the span can correct it.
  if (t.read === undefined && t.write === undefined && split === undefined && (t.prompt ?? 0) > 0) issue = 'cache_unreported';
  const usage: RawUsage = {
    input: t.prompt, output: t.output, total: t.total, cacheRead: t.read, cacheWrite: t.write,
    cacheWrite5m: write5m, cacheWrite1h: write1h,
    inputIncludes: include === 'none' ? 'none' : include === 'cache_read' ? 'read' : include === 'cache_read_and_write' ? 'read_and_write' : 'auto',
  };
  // text_tokens is exact when it is the prompt tokens less what they include: reads and writes (every
  // captured release), or reads only (around 1.66–1.7x, research notes), which it then tells apart.
  if (t.text !== undefined && (t.read !== undefined || t.write !== undefined)) {
    const sums = t.prompt === undefined || t.text + read + write === t.prompt || t.text + read === t.prompt;
    if (sums) {
      usage.input = t.text;
      usage.inputIncludes = 'none';
      usage.total = undefined;
    } else {
      issue ||= 'text_tokens_mismatch';
    }
  }
  return { usage, issue };
}
