/** The claude-normalizer's config block: types, JSON schema (the README's reference is generated from it) and defaults. */
import { durationSchema } from '../../core/config/duration.js';

/** How LiteLLM's OpenAI-style prompt_tokens counted cache tokens, when its usage carries no uncached `text_tokens`. */
export type PromptTokensInclude = 'auto' | 'cache_read' | 'cache_read_and_write' | 'none';

export interface AttributionConfig {
  user: string[];
  team: string[];
  key_alias: string[];
  customer: string[];
  session_id: string[];
  tags: string[];
}

/** The shared join store (join-store-redis.ts). */
export interface RedisStoreConfig {
  url: string;
  key_prefix: string;
  /** Durations (`1h`, `2s`). */
  window: string;
  timeout: string;
  lock_ttl: string;
  lock_wait: string;
}

export interface NormalizerConfig {
  claude_code: { usage_from: 'events' | 'metrics' };
  /** `window` and `snapshot.interval` are durations (`15m`, `10s`). */
  dedupe: { window: string; max_entries: number; fingerprint_join: boolean; store: 'memory' | 'redis'; snapshot: { path: string; interval: string }; redis: RedisStoreConfig };
  cumulative: { max_series: number };
  model_providers: Record<string, string>;
  attribution: AttributionConfig;
  dimensions: Record<string, string[]>;
  attributes: { include: string[]; max_count: number; max_value_length: number };
  litellm: { prompt_tokens_include: PromptTokensInclude };
  genai: { input_includes_cache: boolean };
}

const refList = (description: string, dflt: string[]) => ({
  type: 'array', items: { type: 'string', pattern: '^(resource|attribute|header|metadata|litellm|tag):.+$' }, default: dflt, description,
});

export const DEFAULT_ATTRIBUTION: AttributionConfig = {
  user: ['litellm:user_email', 'litellm:user_id', 'attribute:user.email', 'attribute:user.account_uuid', 'attribute:enduser.id', 'attribute:user.id'],
  team: ['litellm:team_alias', 'litellm:team_id', 'header:x-litellm-team', 'attribute:team.id', 'resource:team.id'],
  key_alias: ['litellm:key_alias'],
  customer: ['header:x-litellm-customer-id', 'header:x-litellm-end-user-id', 'litellm:end_user', 'attribute:customer.id'],
  session_id: ['header:x-claude-code-session-id', 'attribute:session.id', 'attribute:gen_ai.conversation.id', 'litellm:session_id'],
  tags: ['header:x-litellm-tags', 'litellm:tags', 'attribute:tag.tags'],
};

export const DEFAULT_INCLUDE = [
  'gen_ai.operation.name', 'gen_ai.response.finish_reasons', 'llm.request.type', 'litellm.call_type', 'litellm.call_id',
  'metadata.user_api_key_request_route', 'litellm.request.route', 'metadata.user_api_key_org_id', 'metadata.user_api_key_org_alias',
  'query_source', 'effort', 'speed', 'prompt.id', 'attempt', 'status_code', 'app.entrypoint',
  // read by cost-enrichment: batch ×0.5 and US-only inference ×1.1
  'service_tier', 'gen_ai.cost.service_tier', 'inference_geo',
];

export const defaults: NormalizerConfig = {
  claude_code: { usage_from: 'events' },
  dedupe: {
    window: '15m', max_entries: 50_000, fingerprint_join: true, store: 'memory', snapshot: { path: '', interval: '10s' },
    redis: { url: 'redis://127.0.0.1:6379', key_prefix: 'tokenledger', window: '1h', timeout: '2s', lock_ttl: '10s', lock_wait: '5s' },
  },
  cumulative: { max_series: 50_000 },
  model_providers: {},
  attribution: DEFAULT_ATTRIBUTION,
  dimensions: {},
  attributes: { include: DEFAULT_INCLUDE, max_count: 32, max_value_length: 256 },
  litellm: { prompt_tokens_include: 'auto' },
  genai: { input_includes_cache: true },
};

const REF_HELP = 'Sources tried in order, first non-empty wins: `resource:KEY`, `attribute:KEY` (span, log record or data point), '
  + '`header:NAME` (LiteLLM requester_custom_headers, lower-case), `metadata:KEY` (LiteLLM metadata.KEY / litellm.metadata.KEY; '
  + '`metadata:spend_logs_metadata.project` reads a key of a logged dict), '
  + '`litellm:FIELD` (team_id, team_alias, key_alias, key_hash, user_id, user_email, end_user, org_id, session_id, tags), `tag:PREFIX` (value of a `PREFIX:value` tag). '
  + 'Content attributes (prompts, responses, tool content) and credential headers (authorization, cookie, x-api-key, …) are refused.';

export const schema: Record<string, unknown> = {
  type: 'object',
  additionalProperties: false,
  description: 'Turns LiteLLM, Claude Code and generic GenAI telemetry into one LlmCall record per real model call.',
  properties: {
    claude_code: {
      type: 'object', additionalProperties: false, default: defaults.claude_code,
      description: 'Claude Code reports each call twice: as an api_request event and inside its token/cost metrics.',
      properties: {
        usage_from: {
          type: 'string', enum: ['events', 'metrics'], default: 'events',
          description: 'Which one is billed: `events` (one `call` record per api_request) or `metrics` (`usage_interval` records, for metrics-only setups). The other feeds the drift self-metric.',
        },
      },
    },
    dedupe: {
      type: 'object', additionalProperties: false, default: defaults.dedupe,
      description: 'Index of emitted calls, used to drop re-sent reports and to join a second source\'s report of the same call: in this process, or in Redis shared by every replica.',
      // The snapshot is the in-memory store's: with Redis it would be silently unused.
      if: { properties: { store: { const: 'redis' } }, required: ['store'] },
      then: { properties: { snapshot: { properties: { path: { const: '' } } } } },
      renamedKeys: { window_seconds: 'window' },
      properties: {
        window: durationSchema(defaults.dedupe.window, 'How long an emitted call stays joinable in the in-memory store.', { min: '1s', max: '168h' }),
        max_entries: { type: 'integer', minimum: 1, maximum: 5_000_000, default: 50_000, description: 'Upper bound on calls in the in-memory store (about 1.7 KB each); the oldest are evicted first.' },
        store: {
          type: 'string', enum: ['memory', 'redis'], default: 'memory',
          description: '`memory`: this process only (one replica; a restart forgets). `redis`: shared by every replica and kept across restarts (README, "High availability"); while Redis is unreachable, batches are refused with a retryable error.',
        },
        snapshot: {
          type: 'object', additionalProperties: false, default: defaults.dedupe.snapshot,
          renamedKeys: { interval_seconds: 'interval' },
          description: 'The in-memory store written to a file every interval and at shutdown, and read back at start, so that a restarted process does not bill re-sent or late reports again (README "Exactly once").',
          properties: {
            path: { type: 'string', default: '', description: 'File (relative to pipeline.yaml\'s folder), e.g. beside the exporters\' disk queues; empty: none, a restart forgets the index. Must be empty with `store: redis` (the index is in Redis).' },
            interval: durationSchema(defaults.dedupe.snapshot.interval, 'How often it is written: a crash (not a shutdown) forgets the calls of at most this long.', { min: '1s', max: '24h' }),
          },
        },
        redis: {
          type: 'object', additionalProperties: false, default: defaults.dedupe.redis,
          renamedKeys: { window_seconds: 'window', timeout_ms: 'timeout', lock_ttl_ms: 'lock_ttl', lock_wait_ms: 'lock_wait' },
          description: 'The shared store, when `store: redis`. Keys are namespaced by `key_prefix`, the pipeline and the normalizer\'s component id.',
          properties: {
            url: { type: 'string', pattern: '^rediss?://', default: defaults.dedupe.redis.url, description: '`redis://[user:password@]host:port[/db]` (`rediss://` for TLS).' },
            key_prefix: { type: 'string', minLength: 1, pattern: '^[^{}]+$', default: 'tokenledger', description: 'Prefix of every key; deployments sharing one Redis use different prefixes.' },
            window: durationSchema(defaults.dedupe.redis.window, 'How long a call stays joinable (and a re-send recognised) after its first report: its keys expire then.', { min: '1s', max: '720h', timer: false }),
            timeout: durationSchema(defaults.dedupe.redis.timeout, 'Connect and command timeout; a batch whose store call times out is refused (retryable).', { min: '1ms', max: '10m' }),
            lock_ttl: durationSchema(defaults.dedupe.redis.lock_ttl, 'How long a batch\'s lock on its calls lasts if its replica dies mid-batch; a batch that outlives it is refused, nothing written.', { min: '100ms', max: '10m' }),
            lock_wait: durationSchema(defaults.dedupe.redis.lock_wait, 'How long a batch waits for calls another batch holds before it is refused (retryable).', { max: '10m' }),
          },
        },
        fingerprint_join: {
          type: 'boolean', default: true,
          description: 'Also join reports of one call by session id + model + exact token counts, for sources that share no request id (LiteLLM behind Claude Code).',
        },
      },
    },
    cumulative: {
      type: 'object', additionalProperties: false, default: defaults.cumulative,
      description: 'State kept to turn cumulative Claude Code metrics into deltas.',
      properties: {
        max_series: { type: 'integer', minimum: 1, maximum: 5_000_000, default: 50_000, description: 'Upper bound on tracked series; the least recently seen are evicted.' },
      },
    },
    model_providers: {
      type: 'object', additionalProperties: { type: 'string' }, default: {},
      description: 'Provider (gen_ai.provider.name value) for model names the telemetry does not attribute, e.g. a LiteLLM alias `{my-claude: anthropic}`. A key ending in `*` matches a prefix.',
    },
    attribution: {
      type: 'object', additionalProperties: false, default: defaults.attribution,
      description: `Where each attribution field comes from. ${REF_HELP}`,
      properties: {
        user: refList('Sources of `user`.', DEFAULT_ATTRIBUTION.user),
        team: refList('Sources of `team`.', DEFAULT_ATTRIBUTION.team),
        key_alias: refList('Sources of `key_alias`.', DEFAULT_ATTRIBUTION.key_alias),
        customer: refList('Sources of `customer`.', DEFAULT_ATTRIBUTION.customer),
        session_id: refList('Sources of `session_id`.', DEFAULT_ATTRIBUTION.session_id),
        tags: refList('Sources of `tags`: all of them are merged (comma-separated strings are split).', DEFAULT_ATTRIBUTION.tags),
      },
    },
    dimensions: {
      type: 'object', default: {},
      additionalProperties: refList('Sources of this dimension.', []),
      description: `Extra dimensions by name (e.g. project, cost_center), each with its list of sources. ${REF_HELP}`,
    },
    attributes: {
      type: 'object', additionalProperties: false, default: defaults.attributes,
      description: 'Which other attributes are kept on the record for audit. Content attributes (prompts, responses, raw bodies) are never kept: listing one is an error, and a prefix skips them.',
      properties: {
        include: { type: 'array', items: { type: 'string', minLength: 1 }, default: DEFAULT_INCLUDE, description: 'Attribute keys to keep; a key ending in `*` matches a prefix.' },
        max_count: { type: 'integer', minimum: 0, maximum: 256, default: 32, description: 'At most this many attributes per record.' },
        max_value_length: { type: 'integer', minimum: 1, maximum: 65_536, default: 256, description: 'Longer values are truncated to this many characters.' },
      },
    },
    litellm: {
      type: 'object', additionalProperties: false, default: defaults.litellm,
      properties: {
        prompt_tokens_include: {
          type: 'string', enum: ['auto', 'cache_read', 'cache_read_and_write', 'none'], default: 'auto',
          description: 'What LiteLLM\'s OpenAI-style prompt_tokens included, for usage objects without `prompt_tokens_details.text_tokens`. `auto`: cache reads and writes when they fit, else reads only.',
        },
      },
    },
    genai: {
      type: 'object', additionalProperties: false, default: defaults.genai,
      properties: {
        input_includes_cache: {
          type: 'boolean', default: true,
          description: 'Whether gen_ai.usage.input_tokens of generic GenAI spans includes cached tokens, as the semantic conventions say.',
        },
      },
    },
  },
};
