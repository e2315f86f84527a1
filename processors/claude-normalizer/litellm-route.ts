import type { LlmCall } from '../../core/llm-call.js';
import type { Attributes } from '../../core/telemetry.js';
import { firstStr } from './attrs.js';
import { stringField } from './scan.js';

const PASSTHROUGH_PROVIDERS: Record<string, string> = {
  anthropic_passthrough: 'anthropic', bedrock_passthrough: 'aws.bedrock', vertex_passthrough: 'gcp.vertex_ai',
};

/**
 * A LiteLLM call's route, from the call type and the proxy route the client called; the provider
 * of a pass-through route when nothing else named it; and streaming, which pass-through spans
 * get wrong. `hidden` is the span's `hidden_params` JSON ('' when none).
 */
export function applyRoute(call: LlmCall, a: Attributes, hidden: string): void {
  const requestRoute = firstStr(a, ['metadata.user_api_key_request_route', 'litellm.request.route', 'http.route']);
  call.route = routeOf(firstStr(a, ['litellm.call_type', 'llm.request.type', 'gen_ai.operation.name']), requestRoute, call.provider);
  if (call.provider === '') call.provider = PASSTHROUGH_PROVIDERS[call.route] ?? '';
  // Pass-through spans say "False" for streamed calls (1.81.3, 1.108.7); the upstream path or the
  // upstream response's content type says otherwise.
  if (!call.streaming && (isStreamingPath(requestRoute) || isStreamingResponse(hidden))) call.streaming = true;
}

export function routeOf(callType: string, requestRoute: string, provider: string): string {
  const r = requestRoute;
  if (r.startsWith('/anthropic')) return 'anthropic_passthrough';
  if (r.startsWith('/bedrock')) return 'bedrock_passthrough';
  if (r.startsWith('/vertex_ai') || r.startsWith('/vertex-ai')) return 'vertex_passthrough';
  if (callType.includes('anthropic_messages') || r.endsWith('/messages')) return 'anthropic_messages';
  if (callType.includes('passthrough') || callType.includes('pass_through')) {
    if (provider === 'anthropic') return 'anthropic_passthrough';
    if (provider === 'aws.bedrock') return 'bedrock_passthrough';
    if (provider === 'gcp.vertex_ai') return 'vertex_passthrough';
    return 'unknown';
  }
  if (callType.includes('responses') || r.includes('/responses')) return 'openai_responses';
  if (callType.includes('embedding') || r.includes('/embeddings')) return 'embeddings';
  if (callType === 'completion' || callType === 'acompletion' || callType === 'chat' || r.includes('/chat/completions')) return 'openai_chat';
  return 'unknown';
}

/** Streaming upstream endpoints: Bedrock `converse-stream` / `invoke-with-response-stream`, Vertex `streamRawPredict`. */
function isStreamingPath(route: string): boolean {
  return route.endsWith('/converse-stream') || route.endsWith('/invoke-with-response-stream') || route.endsWith(':streamRawPredict')
    || route.endsWith(':streamGenerateContent');
}

function isStreamingResponse(hidden: string): boolean {
  const type = stringField(hidden, 'llm_provider-content-type');
  return type === 'text/event-stream' || type === 'application/vnd.amazon.eventstream';
}
