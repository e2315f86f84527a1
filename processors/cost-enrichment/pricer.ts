import type { LlmCall } from '../../core/llm-call.js';
import { catalogProviderId, lookup, type Catalog, type LookupResult } from './catalog.js';
import { adjust, coversSpeed, priceOverride, type Override, type OverrideKey } from './overrides.js';
import { KeyCache } from './key-cache.js';
import { costPico, picoToUsd } from './rates.js';
import { applyRules, signal, signalsOf, SIGNAL_ATTRIBUTES } from './rules.js';
import { tariffFromCatalog, type Tariff } from './tariff.js';

export type UnpricedReason = 'no_model' | 'unknown_provider' | 'unknown_model' | 'invalid_tokens' | 'invalid_timestamp' | 'lookup_error';

export interface PriceResult {
  costUsd: number;
  /** '' when unpriced. */
  ref: string;
  /** '' when priced. */
  unpriced: '' | UnpricedReason;
  detail: string;
}

/** Something worth one log line per model (e.g. fast mode priced at standard rates). */
export type Notice = (model: string, msg: string) => void;

interface Unpriced {
  reason: UnpricedReason;
  detail: string;
}

/** Bedrock Claude ids the catalog does not know fall back to Anthropic's list price (the regional rule then applies). */
const EXTRA_FALLBACK: Readonly<Record<string, string>> = { aws: 'anthropic' };
/** Records from loose sources may lack `attributes`; pricing must not throw on them. */
const NO_ATTRIBUTES: Readonly<Record<string, string>> = {};
/** Resolved tariffs kept per (day, provider, model, model_raw, region, signals); cleared when it grows past this. */
const CACHE_LIMIT = 20_000;

/**
 * Prices LlmCall records: overrides first, then the catalog, then the rule layer. Resolution is
 * cached per (day, provider, model, model_raw, region, signals), so the per-record work is a few
 * map lookups and five integer multiplications.
 */
export class Pricer {
  private readonly cache = new KeyCache<Tariff | Unpriced>(CACHE_LIMIT);
  /** Off-peak catalog entries: tariffs per (minute, signals) of the day. */
  private readonly minuteCache = new KeyCache<Tariff | Unpriced>(CACHE_LIMIT);

  constructor(private readonly catalog: Catalog, private readonly overrides: readonly Override[], private readonly notice: Notice = () => {}) {}

  /** `bundled` or the data file's path. */
  get catalogSource(): string {
    return this.catalog.source;
  }

  price(call: LlmCall): PriceResult {
    if (!validTokens(call)) return unpriced({ reason: 'invalid_tokens', detail: 'token counts must be non-negative integers' });
    const day = dayOf(call.timestamp);
    if (day === undefined) return unpriced({ reason: 'invalid_timestamp', detail: `timestamp ${JSON.stringify(call.timestamp)}` });
    const a = call.attributes ?? NO_ATTRIBUTES;
    const tier = signal(a, SIGNAL_ATTRIBUTES.serviceTier);
    const geo = signal(a, SIGNAL_ATTRIBUTES.inferenceGeo);
    const speed = signal(a, SIGNAL_ATTRIBUTES.speed);
    const flags = tier === '' && geo === '' && speed === '' ? '' : `${tier}\u001f${geo}\u001f${speed}`;
    let t = this.cache.get(day, call.provider, call.model, call.model_raw, call.region, flags);
    if (t === undefined) {
      t = this.resolve(call, day);
      this.cache.set(day, call.provider, call.model, call.model_raw, call.region, flags, t);
    }
    if (!('reason' in t) && t.timeOfDay !== '') t = this.atTimeOfDay(call, day, flags, t.timeOfDay);
    if ('reason' in t) return unpriced(t);
    const pico = costPico(call, t.base, t.tiers, call.record_type === 'call', t.factor);
    return { costUsd: picoToUsd(pico), ref: t.ref, unpriced: '', detail: '' };
  }

  /** Off-peak prices change within a day: cached per minute when their windows allow, else resolved per call. */
  private atTimeOfDay(call: LlmCall, day: string, flags: string, kind: 'minute' | 'exact'): Tariff | Unpriced {
    if (kind === 'exact') return this.resolve(call, day);
    const minute = `${new Date(call.timestamp).toISOString().slice(11, 16)}\u001f${flags}`;
    let t = this.minuteCache.get(day, call.provider, call.model, call.model_raw, call.region, minute);
    if (t === undefined) {
      t = this.resolve(call, day);
      this.minuteCache.set(day, call.provider, call.model, call.model_raw, call.region, minute, t);
    }
    return t;
  }

  private resolve(call: LlmCall, day: string): Tariff | Unpriced {
    const model = call.model || tail(call.model_raw ?? '');
    if (!model) return { reason: 'no_model', detail: 'the record names no model' };
    const speed = signal(call.attributes ?? NO_ATTRIBUTES, SIGNAL_ATTRIBUTES.speed);
    const k: OverrideKey = { provider: call.provider, model, speed, day };
    try {
      let tariff: Tariff;
      let entryProvider = '';
      const po = priceOverride(this.overrides, k);
      if (po?.tariff) {
        tariff = po.tariff;
      } else {
        const providerId = catalogProviderId(call.provider);
        if (!this.catalog.provider(providerId)) return { reason: 'unknown_provider', detail: `no ${providerId} provider in the ${this.catalog.source} catalog` };
        const { entry, refused } = this.find(providerId, lookupIds(model, call.model_raw), new Date(call.timestamp));
        if (!entry) {
          const near = refused.length > 0 ? ` (its patterns match ${[...new Set(refused)].join(', ')}: another model, not priced as it; add an override)` : '';
          return { reason: 'unknown_model', detail: `no ${providerId} entry matches ${model} in the ${this.catalog.source} catalog${near}` };
        }
        tariff = tariffFromCatalog(`genai-prices:${entry.providerId}/${entry.modelId}`, entry.prices, entry.timeOfDay);
        entryProvider = entry.providerId;
      }
      if (speed === 'fast' && !coversSpeed(this.overrides, k)) {
        this.notice(model, 'fast-mode call priced at standard rates: add an override with speed: fast');
      }
      return adjust(applyRules(tariff, signalsOf(call, model, entryProvider)), this.overrides, k);
    } catch (err) {
      return { reason: 'lookup_error', detail: (err as Error).message };
    }
  }

  private find(providerId: string, ids: readonly string[], at: Date): LookupResult {
    const refused: string[] = [];
    for (const provider of EXTRA_FALLBACK[providerId] ? [providerId, EXTRA_FALLBACK[providerId]] : [providerId]) {
      for (const id of ids) {
        const r = lookup(this.catalog, provider, id, at, refused);
        if (r.entry) return r;
      }
    }
    return { refused };
  }
}

/** Priced copies of `calls` (the inputs are shared with other pipelines and stay untouched). */
export function priceCalls(calls: readonly LlmCall[], pricer: Pricer): LlmCall[] {
  const out = new Array<LlmCall>(calls.length);
  for (let i = 0; i < calls.length; i++) {
    const r = pricer.price(calls[i]);
    out[i] = { ...calls[i], cost_usd: r.costUsd, price_ref: r.ref };
  }
  return out;
}

function unpriced(u: Unpriced): PriceResult {
  return { costUsd: 0, ref: '', unpriced: u.reason, detail: u.detail };
}

/**
 * Ids to try in the catalog: the reported model string first when it is a more specific form of the
 * canonical id (a dated OpenAI snapshot, a Bedrock `us.`/`global.` inference profile, whose price
 * differs), then the canonical id.
 */
function lookupIds(model: string, modelRaw: string | undefined): string[] {
  const raw = tail(modelRaw ?? '');
  return raw && raw.toLowerCase() !== model.toLowerCase() && raw.toLowerCase().includes(model.toLowerCase()) ? [raw, model] : [model];
}

/** `bedrock/us.anthropic.x`, `arn:…:inference-profile/us.anthropic.x` → the last path segment. */
function tail(s: string): string {
  return s.slice(s.lastIndexOf('/') + 1);
}

function validTokens(c: LlmCall): boolean {
  return isCount(c.input_tokens) && isCount(c.output_tokens) && isCount(c.cache_read_tokens)
    && isCount(c.cache_write_5m_tokens) && isCount(c.cache_write_1h_tokens);
}

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** UTC day of an RFC 3339 timestamp; the fast path reads it off a `…Z` string. */
function dayOf(ts: string): string | undefined {
  if (typeof ts !== 'string') return undefined;
  if (ts.length >= 20 && ts.charCodeAt(4) === 45 && ts.charCodeAt(7) === 45 && ts.charCodeAt(10) === 84 && ts.charCodeAt(ts.length - 1) === 90) return ts.slice(0, 10);
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString().slice(0, 10);
}
