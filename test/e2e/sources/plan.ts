/**
 * The calls an instrumented app makes (app.py), per SDK: not streamed and streamed, with and
 * without prompt caching, and one upstream error. Each call's usage is distinct (a mock directive
 * in its prompt), so a mixed-up field or a double count shows in a sum.
 */
import { directiveText, type FinalDelta, type MockError } from '../mock-upstream/server.js';
import type { Sdk } from './libraries.js';

export const MODELS: Record<Sdk, string> = {
  anthropic: 'claude-sonnet-4-5-20250929',
  openai: 'gpt-4o-mini',
  bedrock: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
};

export const PROVIDERS: Record<Sdk, string> = { anthropic: 'anthropic', openai: 'openai', bedrock: 'aws.bedrock' };

export interface PlannedCall {
  id: string;
  sdk: Sdk;
  /** Bedrock only: the runtime API. */
  api?: 'converse' | 'invoke';
  model: string;
  stream: boolean;
  cache: 'none' | 'mix';
  finalDelta?: FinalDelta;
  error?: MockError;
  prompt: string;
}

interface Shape { name: string; api?: PlannedCall['api']; stream: boolean; cache: PlannedCall['cache']; finalDelta?: FinalDelta; error?: MockError }

const SHAPES: Record<Sdk, Shape[]> = {
  anthropic: [
    { name: 'plain', stream: false, cache: 'none' },
    { name: 'cache', stream: false, cache: 'mix' },
    { name: 'stream-full', stream: true, cache: 'mix', finalDelta: 'full' },
    { name: 'stream-output', stream: true, cache: 'mix', finalDelta: 'output' },
    { name: 'stream-plain', stream: true, cache: 'none', finalDelta: 'output' },
    { name: 'error', stream: false, cache: 'none', error: 429 },
  ],
  // OpenAI has cache reads only (inside prompt_tokens).
  openai: [
    { name: 'plain', stream: false, cache: 'none' },
    { name: 'cache', stream: false, cache: 'mix' },
    { name: 'stream', stream: true, cache: 'mix' },
    { name: 'error', stream: false, cache: 'none', error: 429 },
  ],
  bedrock: [
    { name: 'converse', api: 'converse', stream: false, cache: 'mix' },
    { name: 'converse-stream', api: 'converse', stream: true, cache: 'mix' },
    { name: 'invoke', api: 'invoke', stream: false, cache: 'mix' },
    { name: 'invoke-stream', api: 'invoke', stream: true, cache: 'mix', finalDelta: 'full' },
    { name: 'error', api: 'converse', stream: false, cache: 'none', error: 429 },
  ],
};

/** The plan for a library that instruments `sdks`; `prefix` makes the mock ids unique per run. */
export function sourcePlan(sdks: Sdk[], prefix: string): PlannedCall[] {
  const out: PlannedCall[] = [];
  for (const sdk of sdks) {
    for (const s of SHAPES[sdk]) {
      const i = out.length + 1;
      const id = `${prefix}${sdk}-${s.name}`;
      const usage = s.cache === 'none' ? {} : sdk === 'openai' ? { cr: 3000 + i } : sdk === 'bedrock' && s.api === 'converse' ? { cr: 3000 + i, cw5m: 500 + i } : { cr: 3000 + i, cw5m: 500 + i, cw1h: 700 + i };
      const directive = directiveText({ id, in: 100 + i, out: 20 + i, ...usage, ...(s.finalDelta ? { final: s.finalDelta } : {}), ...(s.error ? { error: s.error } : {}) });
      out.push({ id, sdk, api: s.api, model: MODELS[sdk], stream: s.stream, cache: s.cache, finalDelta: s.finalDelta, error: s.error, prompt: `Say hello. ${directive}` });
    }
  }
  return out;
}

/**
 * The calls of an app that reaches the models through a LiteLLM proxy (LiteLLM's model names):
 * the Anthropic SDK on /v1/messages, the OpenAI SDK on /chat/completions to Claude and to GPT,
 * not streamed and streamed, with cache where the API has it.
 */
export function gatewayPlan(prefix: string): PlannedCall[] {
  const calls: { sdk: Sdk; model: string; stream: boolean; cache: PlannedCall['cache'] }[] = [
    { sdk: 'anthropic', model: 'claude-sonnet-4-5', stream: false, cache: 'none' },
    { sdk: 'anthropic', model: 'claude-sonnet-4-5', stream: false, cache: 'mix' },
    { sdk: 'anthropic', model: 'claude-sonnet-4-5', stream: true, cache: 'mix' },
    { sdk: 'openai', model: 'claude-sonnet-4-5', stream: false, cache: 'mix' },
    { sdk: 'openai', model: 'claude-sonnet-4-5', stream: true, cache: 'none' },
    { sdk: 'openai', model: 'gpt-4o-mini', stream: false, cache: 'mix' },
  ];
  return calls.map((c, n) => {
    const i = n + 1;
    const id = `${prefix}gw-${c.sdk}-${c.model}-${c.stream ? 'stream' : 'plain'}-${c.cache}`;
    const claude = c.model.startsWith('claude');
    const usage = c.cache === 'none' ? {} : claude ? { cr: 3000 + i, cw5m: 500 + i, cw1h: 700 + i } : { cr: 3000 + i };
    const finalDelta: FinalDelta | undefined = claude && c.stream ? 'full' : undefined;
    const directive = directiveText({ id, in: 100 + i, out: 20 + i, ...usage, ...(finalDelta ? { final: finalDelta } : {}) });
    return { id, sdk: c.sdk, model: c.model, stream: c.stream, cache: c.cache, finalDelta, prompt: `Say hello. ${directive}` };
  });
}
