import type { Attributes } from '../../core/telemetry.js';
import { bool } from './attrs.js';
import type { Shape } from './types.js';

/** What differs between LiteLLM's three OTel layouts; everything else is read the same way (litellm-extract.ts). */
export interface LiteLLMLayout {
  shape: Shape;
  /** Does this span carry this layout's LLM-call attributes? */
  detect(a: Attributes): boolean;
  /** Model string actually sent to the provider, in preference order. */
  modelKeys: readonly string[];
  inputKeys: readonly string[];
  outputKeys: readonly string[];
  totalKeys: readonly string[];
  costKeys: readonly string[];
  streaming(a: Attributes): boolean | undefined;
}

/** Every layout's streaming flag; whichever the span carries. */
export const STREAMING_KEYS = ['litellm.request.streaming', 'gen_ai.request.stream', 'llm.is_streaming'] as const;

/** `llm.is_streaming` is Python's "True"/"False" in v1 and a bool in v2's legacy-compat copy. */
export function isStreaming(a: Attributes, keys: readonly string[]): boolean | undefined {
  for (const k of keys) {
    const b = bool(a[k]);
    if (b !== undefined) return b;
  }
  return undefined;
}
