import type { LlmCall } from '../../core/llm-call.js';
import { mulRatio, ratioOf, scale, scaleRates, type Rates, type Ratio } from './rates.js';
import type { Tariff } from './tariff.js';

/**
 * tokenledger's price rules on top of the catalog, for what genai-prices does not model
 * (pricing.md §1, §4). Each rule is its data plus one small function; all are applied to every
 * tariff, whether a catalog entry or an override priced the call.
 */

/** What the rules look at, read once from the record (see `signalsOf`). */
export interface Signals {
  /** OTel provider name of the call. */
  provider: string;
  /** Canonical model id. */
  model: string;
  region: string;
  /** genai-prices provider id of the catalog entry that priced the call, '' for an override. */
  entryProvider: string;
  batch: boolean;
  /** First-party data residency (`usage.inference_geo`), '' when not requested. */
  inferenceGeo: string;
}

/** Claude generation as major*10 + minor (`claude-sonnet-4-5` → 45, `claude-3-5-haiku` → 35), 0 when not Claude. */
export function claudeVersion(model: string): number {
  const m = /^claude-(?:(?:opus|sonnet|haiku|fable|mythos)-(\d+)(?:[-.](\d)(?=$|[-.@]))?|(\d+)(?:[-.](\d))?-(?:opus|sonnet|haiku))/.exec(model);
  if (!m) return /^claude-/.test(model) ? 1 : 0;
  const major = Number(m[1] ?? m[3]);
  const minor = Number(m[2] ?? m[4] ?? 0);
  return major * 10 + minor;
}

/**
 * Attribute keys the signals are read from, first non-empty wins. The normalizer keeps them in
 * `attributes` (its `attributes.include` list).
 */
export const SIGNAL_ATTRIBUTES = {
  /** Anthropic `usage.service_tier` or OpenAI `service_tier`; LiteLLM's `gen_ai.cost.service_tier`. */
  serviceTier: ['service_tier', 'gen_ai.cost.service_tier'],
  /** Anthropic `usage.inference_geo`. */
  inferenceGeo: ['inference_geo'],
  /** Anthropic / Claude Code `speed` (`fast` for fast mode). */
  speed: ['speed'],
} as const;

export function signal(a: Readonly<Record<string, string>>, keys: readonly string[]): string {
  for (const k of keys) {
    const v = a[k];
    if (v) return v;
  }
  return '';
}

/** `model` is the canonical id the call was priced under (the record's, or its model_raw's last segment). */
export function signalsOf(call: LlmCall, model: string, entryProvider: string): Signals {
  const a = call.attributes ?? {};
  return {
    provider: call.provider,
    model,
    region: call.region,
    entryProvider,
    batch: signal(a, SIGNAL_ATTRIBUTES.serviceTier) === BATCH.serviceTier,
    // A first-party call's `region` is its inference geography when the normalizer recorded one.
    inferenceGeo: signal(a, SIGNAL_ATTRIBUTES.inferenceGeo) || (call.provider === 'anthropic' ? call.region : ''),
  };
}

/** Bedrock and Vertex bill 1-hour cache writes at 2x the (regional) input price; genai-prices lacks the price there. */
export const PARTNER_CACHE_WRITE_1H = { providers: ['aws.bedrock', 'gcp.vertex_ai'], inputMultiple: 2 };

export function partnerCacheWrite1h(t: Tariff, s: Signals): Tariff {
  if (!t.cacheWrite1hDerived || !PARTNER_CACHE_WRITE_1H.providers.includes(s.provider)) return t;
  const fix = (r: Rates): Rates => ({ ...r, cache_write_1h: r.input * PARTNER_CACHE_WRITE_1H.inputMultiple });
  return { ...t, base: fix(t.base), tiers: t.tiers.map((x) => ({ above: x.above, rates: fix(x.rates) })), cacheWrite1hDerived: false };
}

/**
 * Sonnet 4 / 4.5 with the 1M-context beta: above 200K prompt tokens every token costs the premium
 * (input and cache 2x, output 1.5x). Added only where the catalog entry has no tiers of its own.
 */
export const LONG_CONTEXT = { models: ['claude-sonnet-4', 'claude-sonnet-4-0', 'claude-sonnet-4-5'], above: 200_000, input: 2, output: 1.5 };

export function longContext(t: Tariff, s: Signals): Tariff {
  if (t.tiers.length > 0 || !LONG_CONTEXT.models.includes(s.model)) return t;
  const input = ratioOf(LONG_CONTEXT.input);
  const rates = { ...scaleRates(t.base, input), output: scale(t.base.output, ratioOf(LONG_CONTEXT.output)) };
  return { ...t, tiers: [{ above: LONG_CONTEXT.above, rates }] };
}

/**
 * Regional and multi-region endpoints cost 10% more than global ones for Claude 4.5 and later.
 * Bedrock's regional catalog entries already hold the premium; it is added when the price came
 * from elsewhere (an override, or Anthropic's list price by fallback). A Bedrock call is regional
 * unless its region is `global`; a Vertex call is regional when its location is known and not `global`.
 */
export const REGIONAL_PREMIUM = { factor: 1.1, minClaudeVersion: 45 };

export function regionalPremium(t: Tariff, s: Signals): Tariff {
  if (claudeVersion(s.model) < REGIONAL_PREMIUM.minClaudeVersion) return t;
  const bedrock = s.provider === 'aws.bedrock' && s.region !== 'global' && s.entryProvider !== 'aws';
  const vertex = s.provider === 'gcp.vertex_ai' && s.region !== '' && s.region !== 'global';
  return bedrock || vertex ? withFactor(t, REGIONAL_PREMIUM.factor) : t;
}

/** First-party US-only inference (`inference_geo: us`): 1.1x on every token type, Opus/Sonnet 4.6 and later. */
export const DATA_RESIDENCY = { provider: 'anthropic', geo: 'us', factor: 1.1, minClaudeVersion: 46 };

export function dataResidency(t: Tariff, s: Signals): Tariff {
  const applies = s.provider === DATA_RESIDENCY.provider && s.inferenceGeo === DATA_RESIDENCY.geo
    && claudeVersion(s.model) >= DATA_RESIDENCY.minClaudeVersion;
  return applies ? withFactor(t, DATA_RESIDENCY.factor) : t;
}

/** Batch API: half price on every token type; cache multipliers stack on top. */
export const BATCH = { serviceTier: 'batch', factor: 0.5 };

export function batch(t: Tariff, s: Signals): Tariff {
  return s.batch ? withFactor(t, BATCH.factor) : t;
}

/** In order: price-level rules first (they derive rates), then whole-call multipliers. */
export const RULES: readonly ((t: Tariff, s: Signals) => Tariff)[] = [partnerCacheWrite1h, longContext, regionalPremium, dataResidency, batch];

export function applyRules(t: Tariff, s: Signals): Tariff {
  let out = t;
  for (const rule of RULES) out = rule(out, s);
  return out;
}

export function withFactor(t: Tariff, factor: number | Ratio): Tariff {
  return { ...t, factor: mulRatio(t.factor, typeof factor === 'number' ? ratioOf(factor) : factor) };
}
