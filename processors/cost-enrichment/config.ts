import type { OverrideConfig } from './overrides.js';

export interface CostEnrichmentConfig {
  overrides: OverrideConfig[];
  /** Path to a genai-prices `data.json`; '' = the bundled data. Relative to pipeline.yaml's directory. */
  data_file: string;
  drift_tolerance_usd: number;
  drift_tolerance_ratio: number;
}

export const defaults: CostEnrichmentConfig = {
  overrides: [],
  data_file: '',
  drift_tolerance_usd: 0.000001,
  drift_tolerance_ratio: 0,
};

const usdPerMtok = { type: 'number', minimum: 0, maximum: 1_000_000 };
const DATE = '^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$';

const tokenPrices = {
  type: 'object',
  additionalProperties: false,
  description: 'USD per million tokens by token type. A missing cache price is billed as input (a missing 1-hour write as a 5-minute write), a missing output price as 0: give all five.',
  properties: {
    input: { ...usdPerMtok, description: 'Uncached input tokens.' },
    output: { ...usdPerMtok, description: 'Output tokens, thinking included.' },
    cache_read: { ...usdPerMtok, description: 'Prompt-cache reads.' },
    cache_write_5m: { ...usdPerMtok, description: 'Prompt-cache writes with the 5-minute TTL.' },
    cache_write_1h: { ...usdPerMtok, description: 'Prompt-cache writes with the 1-hour TTL.' },
  },
};

export const schema = {
  type: 'object',
  additionalProperties: false,
  description: 'Prices every LlmCall (cost_usd, price_ref) from @pydantic/genai-prices plus tokenledger\'s rules (batch, regional endpoints, data residency, 1-hour cache writes on Bedrock/Vertex, long context), with overrides checked first.',
  properties: {
    overrides: {
      type: 'array',
      default: defaults.overrides,
      description: 'Checked before the catalog. Entries with `prices` replace the catalog price (first match wins): same-day new models, corrections, fast mode. Entries with `discount_percent` or `multiplier` adjust whatever priced the call (every match applies): negotiated discounts.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'model'],
        oneOf: [{ required: ['prices'] }, { required: ['discount_percent'] }, { required: ['multiplier'] }],
        properties: {
          name: { type: 'string', pattern: '^[A-Za-z0-9._:-]+$', description: 'Unique name; priced records carry price_ref `override:<name>`.' },
          model: { type: 'string', minLength: 1, description: 'Glob (`*`, `?`) on the canonical model id, case-insensitive, e.g. `claude-sonnet-5-5*`.' },
          provider: { type: 'string', minLength: 1, description: 'OTel provider name (`anthropic`, `aws.bedrock`, `gcp.vertex_ai`, `openai`, ...); absent = any provider.' },
          speed: { type: 'string', minLength: 1, description: 'Only calls whose `speed` attribute equals this (`fast` for fast mode); absent = any speed.' },
          valid_from: { type: 'string', pattern: DATE, description: 'First day (UTC, inclusive) the entry applies, YYYY-MM-DD.' },
          valid_to: { type: 'string', pattern: DATE, description: 'Day (UTC, exclusive) the entry stops applying, YYYY-MM-DD.' },
          prices: tokenPrices,
          tiers: {
            type: 'array',
            description: 'Prices for every token of a call whose prompt (input + cache reads + cache writes) exceeds above_input_tokens; unlisted types keep the base price.',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['above_input_tokens', 'prices'],
              properties: {
                above_input_tokens: { type: 'integer', minimum: 0, maximum: 100_000_000, description: 'The tier applies when the prompt has more tokens than this.' },
                prices: tokenPrices,
              },
            },
          },
          discount_percent: { type: 'number', exclusiveMinimum: 0, maximum: 100, description: 'Negotiated discount in percent off the price of matching calls.' },
          multiplier: { type: 'number', minimum: 0.000001, maximum: 1000, description: 'Factor on the price of matching calls (e.g. 6 for fast mode with speed: fast); resolution 0.000001.' },
        },
      },
    },
    data_file: {
      type: 'string',
      default: defaults.data_file,
      description: 'A newer genai-prices data file (prices/new_data/v2/data.json) read at start instead of the bundled data; relative to the config file. Empty = bundled data. Reloaded on SIGHUP.',
    },
    drift_tolerance_usd: {
      type: 'number',
      minimum: 0,
      default: defaults.drift_tolerance_usd,
      description: 'Calls whose reported_cost_usd differs from cost_usd by more than this plus drift_tolerance_ratio × |reported| are counted in tokenledger_cost_drift_calls_total.',
    },
    drift_tolerance_ratio: {
      type: 'number',
      minimum: 0,
      default: defaults.drift_tolerance_ratio,
      description: 'Relative part of the drift tolerance (0.01 = 1% of the reported cost).',
    },
  },
} as const;
