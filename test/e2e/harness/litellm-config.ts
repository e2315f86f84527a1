/** The LiteLLM proxy config and environment used by the captures and the e2e: every route points at the mock upstream. */
import { generateKeyPairSync } from 'node:crypto';
import { CUSTOM_AUTH_SETTING } from './custom-auth.js';

export const MODELS = {
  anthropic: { alias: 'claude-sonnet-4-5', model: 'anthropic/claude-sonnet-4-5-20250929', upstream: 'claude-sonnet-4-5-20250929' },
  bedrockConverse: { alias: 'bedrock-claude-sonnet-4-5', model: 'bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0', upstream: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' },
  bedrockInvoke: { alias: 'bedrock-invoke-claude-haiku-4-5', model: 'bedrock/invoke/us.anthropic.claude-haiku-4-5-20251001-v1:0', upstream: 'us.anthropic.claude-haiku-4-5-20251001-v1:0' },
  vertex: { alias: 'vertex-claude-sonnet-4-5', model: 'vertex_ai/claude-sonnet-4-5@20250929', upstream: 'claude-sonnet-4-5@20250929' },
  openai: { alias: 'gpt-4o-mini', model: 'openai/gpt-4o-mini', upstream: 'gpt-4o-mini' },
} as const;

export type ModelKey = keyof typeof MODELS;

export const TIMEOUT_ALIAS = 'claude-sonnet-4-5-timeout-3s';

/** A service-account key whose token_uri is the mock, so google-auth exchanges it offline. */
export function vertexCredentials(mockUrl: string): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return JSON.stringify({
    type: 'service_account',
    project_id: 'tokenledger-e2e',
    private_key_id: 'mock-key-id',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: 'e2e@tokenledger-e2e.iam.gserviceaccount.com',
    client_id: '1',
    token_uri: `${mockUrl}/token`,
  });
}

export interface Setting {
  /** Folder name of the capture. */
  name: string;
  description: string;
  contentOff: boolean;
  env: Record<string, string>;
  /** Calls carry virtual keys that the custom_auth hook (custom-auth.ts) maps to key, team, user and org. */
  customAuth?: boolean;
}

/** Virtual keys, teams, users and orgs through `general_settings.custom_auth`, on every release. */
const CUSTOM_AUTH: Setting = {
  name: 'custom-auth', description: 'callbacks: [otel], general_settings.custom_auth (virtual keys, teams, users, orgs without a database)', contentOff: false, env: {}, customAuth: true,
};
/**
 * With custom_auth, 1.108 sets most calls' LLM attributes on a FastAPI span that has already ended
 * (1.80 and 1.81 make a root litellm_request span instead): its fix, USE_OTEL_LITELLM_REQUEST_SPAN, is captured there too.
 */
/** The same with content capture off (as the README recommends): LiteLLM then leaves not even a raw_gen_ai_request span. */
const CUSTOM_AUTH_CONTENT_OFF: Setting = {
  name: 'custom-auth-content-off', description: 'custom-auth with litellm_settings.turn_off_message_logging: true', contentOff: true, env: {}, customAuth: true,
};
const CUSTOM_AUTH_REQUEST_SPAN: Setting = {
  name: 'custom-auth-request-span', description: 'custom-auth with USE_OTEL_LITELLM_REQUEST_SPAN=true (a litellm_request span per call)', contentOff: false,
  env: { USE_OTEL_LITELLM_REQUEST_SPAN: 'true' }, customAuth: true,
};

/** The OTel settings captured: default, content off, custom auth (and, from 1.108, its ended-span variants), and from 1.88 the semconv opt-in and V2. */
export function settingsFor(version: string): Setting[] {
  const base: Setting[] = [
    { name: 'default', description: 'callbacks: [otel], content logging on (the default)', contentOff: false, env: {} },
    { name: 'content-off', description: 'callbacks: [otel] with litellm_settings.turn_off_message_logging: true', contentOff: true, env: {} },
  ];
  const semconv: Setting = { name: 'semconv', description: 'OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental', contentOff: false, env: { OTEL_SEMCONV_STABILITY_OPT_IN: 'gen_ai_latest_experimental' } };
  const minor = Number(version.split('.')[1]);
  // Neither the semconv opt-in nor V2 is in LiteLLM's source up to 1.84.10; the next captured release, 1.88.6, has both.
  if (minor < 88) return [...base, CUSTOM_AUTH];
  // 1.99.4's V2 imports `opentelemetry._events`, which the OpenTelemetry API of its time no longer has: it exports nothing.
  if (version === '1.99.4') return [...base, CUSTOM_AUTH, semconv];
  return [
    ...base,
    CUSTOM_AUTH,
    ...(minor >= 108 ? [CUSTOM_AUTH_CONTENT_OFF, CUSTOM_AUTH_REQUEST_SPAN] : []),
    semconv,
    { name: 'v2', description: 'LITELLM_OTEL_V2=true (the typed V2 integration; content capture off by default)', contentOff: false, env: { LITELLM_OTEL_V2: 'true' } },
  ];
}

export function litellmConfig(mockUrl: string, setting: Setting, masterKey: string): Record<string, unknown> {
  const aws = { aws_access_key_id: 'AKIAMOCKMOCKMOCKMOCK', aws_secret_access_key: 'mock-secret', aws_region_name: 'us-east-1', api_base: mockUrl };
  return {
    model_list: [
      { model_name: MODELS.anthropic.alias, litellm_params: { model: MODELS.anthropic.model, api_base: mockUrl, api_key: 'sk-ant-mock' } },
      { model_name: MODELS.bedrockConverse.alias, litellm_params: { model: MODELS.bedrockConverse.model, ...aws } },
      { model_name: MODELS.bedrockInvoke.alias, litellm_params: { model: MODELS.bedrockInvoke.model, ...aws } },
      {
        model_name: MODELS.vertex.alias,
        // LiteLLM appends ":rawPredict" / ":streamRawPredict" to api_base, so it names the model's full path.
        litellm_params: {
          model: MODELS.vertex.model,
          vertex_project: 'tokenledger-e2e',
          vertex_location: 'us-east5',
          vertex_credentials: vertexCredentials(mockUrl),
          api_base: `${mockUrl}/v1/projects/tokenledger-e2e/locations/us-east5/publishers/anthropic/models/${MODELS.vertex.upstream}`,
        },
      },
      // Same deployment as the anthropic one, with a short timeout, for the upstream-timeout case.
      { model_name: TIMEOUT_ALIAS, litellm_params: { model: MODELS.anthropic.model, api_base: mockUrl, api_key: 'sk-ant-mock', timeout: 3 } },
      { model_name: MODELS.openai.alias, litellm_params: { model: MODELS.openai.model, api_base: `${mockUrl}/v1`, api_key: 'sk-openai-mock' } },
    ],
    litellm_settings: { callbacks: ['otel'], turn_off_message_logging: setting.contentOff, num_retries: 0, request_timeout: 60 },
    general_settings: { master_key: masterKey, ...(setting.customAuth ? { custom_auth: CUSTOM_AUTH_SETTING } : {}) },
  };
}

export function litellmEnv(mockUrl: string, otlpUrl: string, setting: Setting): Record<string, string> {
  return {
    OTEL_EXPORTER: 'otlp_http',
    OTEL_ENDPOINT: `${otlpUrl}/v1/traces`,
    OTEL_SERVICE_NAME: 'litellm-e2e',
    OTEL_BSP_SCHEDULE_DELAY: '200',
    ANTHROPIC_API_BASE: mockUrl,
    ANTHROPIC_API_KEY: 'sk-ant-mock',
    AWS_ACCESS_KEY_ID: 'AKIAMOCKMOCKMOCKMOCK',
    AWS_SECRET_ACCESS_KEY: 'mock-secret',
    AWS_REGION_NAME: 'us-east-1',
    AWS_BEDROCK_RUNTIME_ENDPOINT: mockUrl,
    // google-auth must never probe the GCE metadata server (not loopback).
    NO_GCE_CHECK: 'True',
    GCE_METADATA_HOST: '127.0.0.1:9',
    GCE_METADATA_IP: '127.0.0.1:9',
    ...setting.env,
  };
}
