import { readFileSync } from 'node:fs';
import { calcPrice, findProvider, type ModelInfo, type ModelPrice, type Provider } from '@pydantic/genai-prices';
import { sameModel } from './model-alias.js';

/**
 * The price catalog: @pydantic/genai-prices' bundled data, or a newer copy of its published
 * `data.json` loaded from disk. The library's global catalog is never replaced (updatePrices would
 * change it for every component in the process); a data file is passed per lookup instead.
 */
export interface Catalog {
  /** `bundled` or the data file's path, for logs. */
  readonly source: string;
  provider(id: string): Provider | undefined;
}

export interface CatalogEntry {
  /** genai-prices provider and model ids of the entry that priced the call (after fallback). */
  providerId: string;
  modelId: string;
  prices: ModelPrice;
  /** How the price depends on the time of day (off-peak discounts), see TimeOfDay. */
  timeOfDay: TimeOfDay;
}

/** OTel `gen_ai.provider.name` → genai-prices provider id. Any other name is looked up as is. */
export const PROVIDER_IDS: Readonly<Record<string, string>> = {
  'aws.bedrock': 'aws',
  'gcp.vertex_ai': 'google',
  'gcp.gemini': 'google',
  'gcp.gen_ai': 'google',
  'azure.ai.openai': 'azure',
  'azure.ai.inference': 'azure',
  mistral_ai: 'mistral',
  x_ai: 'x-ai',
};

export function catalogProviderId(otelProvider: string): string {
  return PROVIDER_IDS[otelProvider] ?? otelProvider;
}

export function bundledCatalog(): Catalog {
  return {
    source: 'bundled',
    // findProvider also matches by provider_match patterns (it sends `azure.ai.openai` to openai): keep exact ids only.
    provider: (id) => {
      const p = findProvider({ providerId: id });
      return p?.id === id ? p : undefined;
    },
  };
}

/** Reads a genai-prices data file (an array of providers); throws a message naming the file on any defect. */
export function fileCatalog(path: string): Catalog {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cost-enrichment: cannot read data_file ${path} as JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!Array.isArray(parsed)) throw new Error(`cost-enrichment: data_file ${path}: expected a JSON array of genai-prices providers`);
  const byId = new Map<string, Provider>();
  parsed.forEach((p: unknown, i) => {
    if (!isProvider(p)) throw new Error(`cost-enrichment: data_file ${path}: item ${i} is not a provider (needs string id, name, api_pattern and a models array)`);
    byId.set(p.id, p);
  });
  return { source: path, provider: (id) => byId.get(id) };
}

function isProvider(p: unknown): p is Provider {
  if (typeof p !== 'object' || p === null) return false;
  const o = p as Record<string, unknown>;
  return typeof o.id === 'string' && typeof o.name === 'string' && typeof o.api_pattern === 'string' && Array.isArray(o.models);
}

const ZERO_USAGE = { input_tokens: 0, output_tokens: 0 };
const withoutFallback = new WeakMap<Provider, Provider>();

/** What a lookup found: an entry of the same model, or else the other models the catalog's patterns offered. */
export interface LookupResult {
  entry?: CatalogEntry;
  /** `provider/entry` ids matched but refused as another model (model-alias.ts). */
  refused: string[];
}

/**
 * The entry for a model at a time, trying the provider's own models, then its fallback providers
 * (Vertex → Anthropic, Azure → OpenAI, ...) once, as genai-prices does, but within this catalog.
 * calcPrice does the matching (model rules, -YYYYMMDD rewriting) and picks the dated price; an entry
 * of another model that its patterns caught (`claude-sonnet-5` for `claude-sonnet-5-5`) is refused.
 */
export function lookup(catalog: Catalog, providerId: string, modelId: string, at: Date, refused: string[] = []): LookupResult {
  const provider = catalog.provider(providerId);
  if (!provider) return { refused };
  for (const p of [provider, ...(provider.fallback_model_providers ?? []).map((fb) => catalog.provider(fb))]) {
    const entry = p && match(p, modelId, at, refused);
    if (entry) return { entry, refused };
  }
  return { refused };
}

function match(provider: Provider, modelId: string, at: Date, refused: string[]): CatalogEntry | undefined {
  let bare = withoutFallback.get(provider);
  if (!bare) {
    bare = { ...provider, fallback_model_providers: [] };
    withoutFallback.set(provider, bare);
  }
  const r = calcPrice(ZERO_USAGE, modelId, { provider: bare, timestamp: at });
  if (!r) return undefined;
  if (!sameModel(modelId, r.model)) {
    refused.push(`${provider.id}/${r.model.id}`);
    return undefined;
  }
  return { providerId: provider.id, modelId: r.model.id, prices: r.model_price, timeOfDay: timeOfDayOf(r.model) };
}

/** '' = not at all; 'minute' = windows start and end on whole minutes; 'exact' = finer boundaries. */
export type TimeOfDay = '' | 'minute' | 'exact';

const WHOLE_MINUTE = /^\d{2}:\d{2}:00(?:\.0*)?(?:Z|[+-]\d{2}:\d{2})$/;

function timeOfDayOf(m: ModelInfo): TimeOfDay {
  if (!Array.isArray(m.prices)) return '';
  let kind: TimeOfDay = '';
  for (const p of m.prices) {
    const c = p.constraint;
    if (c?.type !== 'time_of_date') continue;
    if (!WHOLE_MINUTE.test(c.start_time) || !WHOLE_MINUTE.test(c.end_time)) return 'exact';
    kind = 'minute';
  }
  return kind;
}
