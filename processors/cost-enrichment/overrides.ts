import { ONE, mulRatio, ratioOf, type Ratio, type Tier } from './rates.js';
import { ratesOf, type Tariff, type TokenPrices } from './tariff.js';

/** One entry of the `overrides` config list (USD per million tokens). */
export interface OverrideConfig {
  name: string;
  /** Glob (`*`, `?`) on the canonical model id, case-insensitive. */
  model: string;
  /** OTel provider name; absent = any provider. */
  provider?: string;
  /** Only calls with this `speed` attribute (e.g. `fast`); absent = any speed. */
  speed?: string;
  /** Inclusive first day, `YYYY-MM-DD` (UTC). */
  valid_from?: string;
  /** Exclusive last day, `YYYY-MM-DD` (UTC). */
  valid_to?: string;
  prices?: TokenPrices;
  tiers?: { above_input_tokens: number; prices: TokenPrices }[];
  discount_percent?: number;
  multiplier?: number;
}

/** Compiled once at create(); matching runs only on a cache miss. */
export interface Override {
  name: string;
  model: RegExp;
  provider?: string;
  speed?: string;
  from?: string;
  to?: string;
  /** Replacement prices, or undefined for an adjustment (discount / multiplier). */
  tariff?: Tariff;
  factor: Ratio;
}

export interface OverrideKey {
  provider: string;
  model: string;
  speed: string;
  /** `YYYY-MM-DD` of the call. */
  day: string;
}

/** Compiles overrides the config validation accepted (validate.ts: unique names, one kind each, dates in order). */
export function compileOverrides(list: readonly OverrideConfig[]): Override[] {
  return list.map((o, i) => {
    const where = `cost-enrichment: overrides[${i}] (${o.name})`;
    return {
      name: o.name,
      model: globToRegExp(o.model),
      provider: o.provider,
      speed: o.speed,
      from: o.valid_from,
      to: o.valid_to,
      tariff: o.prices ? tariffOf(o, where) : undefined,
      factor: o.discount_percent !== undefined ? ratioOf(1 - o.discount_percent / 100) : o.multiplier !== undefined ? ratioOf(o.multiplier) : ONE,
    };
  });
}

function tariffOf(o: OverrideConfig, where: string): Tariff {
  const base = o.prices ?? {};
  const tiers: Tier[] = (o.tiers ?? [])
    .map((t) => ({ above: t.above_input_tokens, rates: ratesOf({ ...base, ...t.prices }, `${where} tier >${t.above_input_tokens}`) }))
    .sort((a, b) => a.above - b.above);
  return { ref: `override:${o.name}`, base: ratesOf(base, where), tiers, factor: ONE, cacheWrite1hDerived: base.cache_write_1h === undefined, timeOfDay: '' };
}

export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

function matches(o: Override, k: OverrideKey): boolean {
  return (o.provider === undefined || o.provider === k.provider)
    && (o.speed === undefined || o.speed === k.speed)
    && (o.from === undefined || k.day >= o.from)
    && (o.to === undefined || k.day < o.to)
    && o.model.test(k.model);
}

/** The first matching price override, if any: it replaces the catalog. */
export function priceOverride(list: readonly Override[], k: OverrideKey): Override | undefined {
  return list.find((o) => o.tariff !== undefined && matches(o, k));
}

/** Every matching discount / multiplier, applied on top of whatever priced the call. */
export function adjust(t: Tariff, list: readonly Override[], k: OverrideKey): Tariff {
  let out = t;
  for (const o of list) {
    if (o.tariff === undefined && matches(o, k)) out = { ...out, ref: `${out.ref}+override:${o.name}`, factor: mulRatio(out.factor, o.factor) };
  }
  return out;
}

/** True when some override targets this speed (fast mode) explicitly. */
export function coversSpeed(list: readonly Override[], k: OverrideKey): boolean {
  return list.some((o) => o.speed !== undefined && matches(o, k));
}
