/**
 * Exact price arithmetic. A rate is an integer number of pico-dollars per token (= micro-dollars per
 * million tokens), so every list price with up to six decimals in USD/MTok is held exactly and a
 * call's cost is an integer number of pico-dollars: sums over millions of rows cannot drift.
 */

/** Rates of the five LlmCall token types, integer pico-USD per token. */
export interface Rates {
  input: number;
  output: number;
  cache_read: number;
  cache_write_5m: number;
  cache_write_1h: number;
}

/** Rates that apply to the whole call when its prompt (input + cache) exceeds `above` tokens. */
export interface Tier {
  above: number;
  rates: Rates;
}

/** A multiplier as an exact fraction. */
export interface Ratio {
  num: number;
  den: number;
}

export const ONE: Ratio = { num: 1, den: 1 };

/** USD per million tokens → integer pico-USD per token; throws on a negative or non-finite price. */
export function picoPerToken(usdPerMtok: number, what: string): number {
  if (typeof usdPerMtok !== 'number' || !Number.isFinite(usdPerMtok) || usdPerMtok < 0) {
    throw new Error(`${what}: expected a finite non-negative price in USD per million tokens, got ${String(usdPerMtok)}`);
  }
  const pico = Math.round(usdPerMtok * 1e6);
  if (!Number.isSafeInteger(pico)) throw new Error(`${what}: price ${usdPerMtok} USD/MTok is too large`);
  return pico;
}

/** A decimal factor (1.1, 0.5, 0.875) as an exact fraction over 10^6. */
export function ratioOf(factor: number): Ratio {
  return reduce({ num: Math.round(factor * 1e6), den: 1e6 });
}

export function mulRatio(a: Ratio, b: Ratio): Ratio {
  return reduce({ num: a.num * b.num, den: a.den * b.den });
}

function reduce(r: Ratio): Ratio {
  let a = r.num;
  let b = r.den;
  while (b !== 0) [a, b] = [b, a % b];
  return a === 0 ? { num: 0, den: 1 } : { num: r.num / a, den: r.den / a };
}

export function scaleRates(r: Rates, f: Ratio): Rates {
  return {
    input: scale(r.input, f), output: scale(r.output, f), cache_read: scale(r.cache_read, f),
    cache_write_5m: scale(r.cache_write_5m, f), cache_write_1h: scale(r.cache_write_1h, f),
  };
}

/** rate × f, rounded half up to a whole pico-dollar (only reached by factors finer than the price grid). */
export function scale(rate: number, f: Ratio): number {
  return Number(mulDivRound(BigInt(rate), f));
}

function mulDivRound(v: bigint, f: Ratio): bigint {
  const den = BigInt(f.den);
  return (v * BigInt(f.num) * 2n + den) / (2n * den);
}

export interface Tokens {
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_5m_tokens: number;
  cache_write_1h_tokens: number;
}

/** Cost in pico-USD: plain numbers while exact (the common case), BigInt beyond 2^53. */
export function costPico(t: Tokens, base: Rates, tiers: readonly Tier[], applyTiers: boolean, factor: Ratio): number | bigint {
  let r = base;
  if (applyTiers && tiers.length > 0) {
    const prompt = t.input_tokens + t.cache_read_tokens + t.cache_write_5m_tokens + t.cache_write_1h_tokens;
    for (const tier of tiers) if (prompt > tier.above) r = tier.rates;
  }
  const sum = t.input_tokens * r.input + t.output_tokens * r.output + t.cache_read_tokens * r.cache_read
    + t.cache_write_5m_tokens * r.cache_write_5m + t.cache_write_1h_tokens * r.cache_write_1h;
  // All terms are non-negative integers, so a sum within the safe range means every product was exact.
  if (sum <= Number.MAX_SAFE_INTEGER) {
    if (factor.num === factor.den) return sum;
    const scaled = sum * factor.num;
    if (scaled <= Number.MAX_SAFE_INTEGER && scaled % factor.den === 0) return scaled / factor.den;
    return mulDivRound(BigInt(sum), factor);
  }
  const big = BigInt(t.input_tokens) * BigInt(r.input) + BigInt(t.output_tokens) * BigInt(r.output)
    + BigInt(t.cache_read_tokens) * BigInt(r.cache_read) + BigInt(t.cache_write_5m_tokens) * BigInt(r.cache_write_5m)
    + BigInt(t.cache_write_1h_tokens) * BigInt(r.cache_write_1h);
  return factor.num === factor.den ? big : mulDivRound(big, factor);
}

/** pico-USD → USD as the nearest double. */
export function picoToUsd(pico: number | bigint): number {
  return Number(pico) / 1e12;
}
