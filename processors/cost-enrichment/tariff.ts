import type { ModelPrice } from '@pydantic/genai-prices';
import type { TimeOfDay } from './catalog.js';
import { ONE, picoPerToken, type Rates, type Ratio, type Tier } from './rates.js';

/** Everything needed to price one call: resolved once per (provider, model, region, flags, day). */
export interface Tariff {
  /** Which entry priced it: `genai-prices:<provider>/<model>` or `override:<name>`, plus `+override:<name>` adjustments. */
  ref: string;
  base: Rates;
  /** Ascending by `above`; the last one the prompt exceeds applies to every token type. */
  tiers: Tier[];
  /** Product of the whole-call multipliers (batch, regional, residency, discounts). */
  factor: Ratio;
  /** True when the entry had no 1-hour cache-write price and one was derived. */
  cacheWrite1hDerived: boolean;
  /** Whether the entry's price changes within a day (off-peak discounts): then cached per minute or not at all. */
  timeOfDay: TimeOfDay;
}

/** USD-per-million prices by LlmCall token type, as written in overrides. Absent types follow `withDefaults`. */
export type TokenPrices = Partial<Record<keyof Rates, number>>;

const CATALOG_KEYS: Record<keyof Rates, string> = {
  input: 'input_mtok',
  output: 'output_mtok',
  cache_read: 'cache_read_mtok',
  cache_write_5m: 'cache_write_mtok',
  cache_write_1h: 'cache_write_1h_mtok',
};

type TieredValue = { base: number; tiers: { start: number; price: number }[] };

/** A genai-prices ModelPrice (numbers or tiered prices per key) → integer rates and tiers. */
export function tariffFromCatalog(ref: string, price: ModelPrice, timeOfDay: TimeOfDay): Tariff {
  const starts = new Set<number>();
  for (const key of Object.values(CATALOG_KEYS)) {
    const v = price[key];
    if (typeof v === 'object') for (const t of (v as TieredValue).tiers) starts.add(t.start);
  }
  const at = (prompt: number): TokenPrices => {
    const out: TokenPrices = {};
    for (const [type, key] of Object.entries(CATALOG_KEYS) as [keyof Rates, string][]) {
      const v = price[key];
      if (v !== undefined) out[type] = typeof v === 'number' ? v : tieredAt(v as TieredValue, prompt);
    }
    return out;
  };
  const base = at(0);
  return {
    ref,
    base: ratesOf(base, ref),
    tiers: [...starts].sort((a, b) => a - b).map((above) => ({ above, rates: ratesOf(at(above + 1), ref) })),
    factor: ONE,
    cacheWrite1hDerived: base.cache_write_1h === undefined,
    timeOfDay,
  };
}

function tieredAt(v: TieredValue, prompt: number): number {
  let p = v.base;
  for (const t of v.tiers) if (prompt > t.start) p = t.price;
  return p;
}

/**
 * Integer rates from USD/MTok prices. genai-prices' convention for a missing price: cache reads and
 * 5-minute writes are billed as plain input, 1-hour writes as 5-minute writes, missing output as 0.
 */
export function ratesOf(p: TokenPrices, what: string): Rates {
  const input = p.input === undefined ? 0 : picoPerToken(p.input, `${what} input`);
  const cw5m = p.cache_write_5m === undefined ? input : picoPerToken(p.cache_write_5m, `${what} cache_write_5m`);
  return {
    input,
    output: p.output === undefined ? 0 : picoPerToken(p.output, `${what} output`),
    cache_read: p.cache_read === undefined ? input : picoPerToken(p.cache_read, `${what} cache_read`),
    cache_write_5m: cw5m,
    cache_write_1h: p.cache_write_1h === undefined ? cw5m : picoPerToken(p.cache_write_1h, `${what} cache_write_1h`),
  };
}
