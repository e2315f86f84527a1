import type { LlmCall } from '../../core/llm-call.js';
import type { Attributes } from '../../core/telemetry.js';
import { str } from './attrs.js';
import { canonicalProvider, parseModel } from './model.js';
import type { ModelProviders } from './providers.js';

/** Scope-name prefix shared by Claude Code's meters, event logger and tracer. */
export const CLAUDE_CODE_SCOPE = 'com.anthropic.claude_code';

/** Fields every Claude Code record shares: source, version, route, model, provider. */
export function fillClaudeCodeBasics(call: LlmCall, resource: Attributes, attrs: Attributes, modelRaw: string, providers: ModelProviders): void {
  call.source = 'claude_code';
  call.source_version = str(resource, 'service.version') || str(attrs, 'app.version');
  call.service_name = str(resource, 'service.name');
  call.route = 'claude_code';
  call.model_raw = modelRaw;
  const parsed = parseModel(modelRaw);
  call.model = parsed.model;
  call.region = parsed.region;
  // `anthropic.provider` (2.1.330+: firstParty, bedrock, vertex, foundry) names who served the call.
  const named = canonicalProvider(str(attrs, 'anthropic.provider') || str(resource, 'anthropic.provider'));
  if (named !== '') {
    call.provider = named;
  } else {
    call.provider = providers.lookup(modelRaw, call.model) || parsed.provider;
    call.provider_inferred = true;
  }
}
