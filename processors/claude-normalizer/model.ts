/**
 * Model-string canonicalization. One Claude model appears as `anthropic/claude-sonnet-4-5-20250929`,
 * `bedrock/converse/us.anthropic.claude-sonnet-4-5-20250929-v1:0`, `vertex_ai/claude-sonnet-4-5@20250929`
 * or an inference-profile ARN; all of them become `claude-sonnet-4-5`, with the provider and region
 * the string revealed kept aside. String operations only: this runs once per record.
 */
export interface ParsedModel {
  /** Canonical id: no provider prefix, region, vendor, date or version suffix. */
  model: string;
  /** Provider implied by the string's shape, '' when it says nothing. */
  provider: string;
  /** Region implied by a Bedrock cross-region prefix (`us`, `eu`, `apac`, `global`, …), else ''. */
  region: string;
}

const PREFIX_PROVIDERS: Record<string, string> = {
  anthropic: 'anthropic',
  bedrock: 'aws.bedrock',
  bedrock_converse: 'aws.bedrock',
  vertex_ai: 'gcp.vertex_ai',
  'vertex_ai-anthropic_models': 'gcp.vertex_ai',
  vertex_ai_beta: 'gcp.vertex_ai',
  gemini: 'gcp.gemini',
  openai: 'openai',
  'text-completion-openai': 'openai',
  azure: 'azure.ai.openai',
  azure_ai: 'azure.ai.inference',
  mistral: 'mistral_ai',
  cohere: 'cohere',
  groq: 'groq',
  deepseek: 'deepseek',
  xai: 'x_ai',
  perplexity: 'perplexity',
  watsonx: 'ibm.watsonx.ai',
};

/** Bedrock cross-region inference-profile prefixes. */
const BEDROCK_REGIONS = new Set(['us', 'eu', 'apac', 'global', 'us-gov', 'jp', 'au', 'ca', 'apne1', 'apse2']);
/** Bedrock model-id vendors (`anthropic.claude-…`, `meta.llama…`). */
const BEDROCK_VENDORS = new Set(['anthropic', 'amazon', 'meta', 'mistral', 'cohere', 'ai21', 'deepseek', 'writer', 'qwen', 'openai']);

export function parseModel(raw: string): ParsedModel {
  let s = raw.trim().toLowerCase();
  let provider = '';
  let region = '';
  if (s === '') return { model: '', provider, region };

  if (s.startsWith('arn:aws:bedrock:')) {
    provider = 'aws.bedrock';
    const parts = s.split(':');
    if (parts[3]) region = parts[3];
  }
  const slash = s.lastIndexOf('/');
  if (slash >= 0) {
    const first = s.slice(0, s.indexOf('/'));
    // LiteLLM's model strings: `provider/…`, and Bedrock's `invoke/…` / `converse/…` without it.
    if (provider === '') provider = first === 'invoke' || first === 'converse' ? 'aws.bedrock' : canonicalProvider(first);
    s = s.slice(slash + 1);
  }

  // Bedrock ids: [region.]vendor.model[-vN][:N]
  const dot = s.indexOf('.');
  if (dot > 0 && !s.startsWith('claude-3.') && !s.startsWith('gpt-')) {
    let head = s.slice(0, dot);
    let rest = s.slice(dot + 1);
    if (BEDROCK_REGIONS.has(head)) {
      const dot2 = rest.indexOf('.');
      if (dot2 > 0 && BEDROCK_VENDORS.has(rest.slice(0, dot2))) {
        region = head; // the profile prefix decides the price tier, so it wins over an ARN's cloud region
        head = rest.slice(0, dot2);
        rest = rest.slice(dot2 + 1);
      }
    }
    if (BEDROCK_VENDORS.has(head)) {
      if (provider === '') provider = 'aws.bedrock';
      s = rest;
    }
  }

  // Vertex ids: model@YYYYMMDD (or @001)
  const at = s.indexOf('@');
  if (at > 0) {
    if (provider === '') provider = 'gcp.vertex_ai';
    s = s.slice(0, at);
  }

  // Bedrock version suffix: -v1:0, -v2:0, :0
  const colon = s.lastIndexOf(':');
  if (colon > 0) {
    if (provider === '') provider = 'aws.bedrock';
    s = s.slice(0, colon);
  }
  s = stripVersionSuffix(s);
  s = stripDateSuffix(s);
  if (s.startsWith('claude')) s = s.replaceAll('.', '-');
  if (provider === '') provider = providerOfBareModel(s);
  return { model: s, provider, region };
}

/** `-v2` (Bedrock and Vertex version marks) at the end of the id. */
function stripVersionSuffix(s: string): string {
  const i = s.lastIndexOf('-v');
  if (i > 0 && i + 2 < s.length && isDigits(s, i + 2, s.length)) return s.slice(0, i);
  return s;
}

/** `-20250929` (Anthropic) or `-2024-08-06` (OpenAI) snapshot dates; `-latest`. */
function stripDateSuffix(s: string): string {
  if (s.endsWith('-latest')) return s.slice(0, -7);
  const n = s.length;
  if (n > 9 && s[n - 9] === '-' && isDigits(s, n - 8, n)) return s.slice(0, n - 9);
  if (n > 11 && s[n - 11] === '-' && s[n - 6] === '-' && s[n - 3] === '-'
    && isDigits(s, n - 10, n - 6) && isDigits(s, n - 5, n - 3) && isDigits(s, n - 2, n)) return s.slice(0, n - 11);
  return s;
}

function isDigits(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return to > from;
}

/** A bare model name only says which vendor made it, which is also who serves it when nothing else is known. */
function providerOfBareModel(model: string): string {
  if (model.startsWith('claude')) return 'anthropic';
  if (model.startsWith('gpt-') || model.startsWith('o1') || model.startsWith('o3') || model.startsWith('o4')
    || model.startsWith('chatgpt') || model.startsWith('text-embedding')) return 'openai';
  if (model.startsWith('gemini')) return 'gcp.gemini';
  return '';
}

/** Telemetry provider names (LiteLLM's custom_llm_provider, semconv values, Claude Code's) → OTel gen_ai.provider.name. */
export function canonicalProvider(value: string): string {
  if (value === '' || value === 'Unknown' || value === 'unknown' || value === 'None') return '';
  const v = value.toLowerCase();
  const mapped = PREFIX_PROVIDERS[v];
  if (mapped) return mapped;
  switch (v) {
    case 'firstparty': return 'anthropic';
    case 'vertex': return 'gcp.vertex_ai';
    case 'foundry': return 'azure.ai.inference';
    default: return v;
  }
}

/** Provider from an API base URL's host. */
export function providerOfHost(host: string): string {
  if (host === '') return '';
  if (host.includes('anthropic.com')) return 'anthropic';
  if (host.includes('bedrock') && host.includes('amazonaws.com')) return 'aws.bedrock';
  if (host.includes('aiplatform.googleapis.com')) return 'gcp.vertex_ai';
  if (host.includes('generativelanguage.googleapis.com')) return 'gcp.gemini';
  if (host.includes('openai.azure.com')) return 'azure.ai.openai';
  if (host.includes('api.openai.com')) return 'openai';
  return '';
}

/** Cloud region from an API base host: `bedrock-runtime.us-east-1.amazonaws.com`, `us-east5-aiplatform.googleapis.com`. */
export function regionOfHost(host: string): string {
  if (host.endsWith('.amazonaws.com')) {
    const parts = host.split('.');
    return parts.length >= 4 ? parts[parts.length - 3] : '';
  }
  const i = host.indexOf('-aiplatform.googleapis.com');
  if (i > 0) return host.slice(0, i);
  return '';
}

/** Host part of a URL without allocating a URL object. */
export function hostOf(url: string): string {
  let s = url;
  const scheme = s.indexOf('://');
  if (scheme >= 0) s = s.slice(scheme + 3);
  const end = s.search(/[/:?#]/);
  return (end >= 0 ? s.slice(0, end) : s).toLowerCase();
}
