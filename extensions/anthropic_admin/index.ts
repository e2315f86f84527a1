import type { ExtensionFactory } from '../../core/component.js';
import { defaults, schema, validateAnthropicAdmin, type AnthropicAdminConfig } from './config.js';
import { AnthropicAdminExtension } from './extension.js';
import { reconciliationMetrics } from './metrics.js';

export type { AnthropicAdminConfig } from './config.js';
export { adminClient, reconcileWindow, dayString } from './reconcile.js';
export { formatReconciliation } from './format.js';

/** `anthropic_admin`: reconciles the ledger with Anthropic's Admin API usage and cost reports. */
export const anthropicAdminExtensionFactory: ExtensionFactory<AnthropicAdminConfig> = {
  kind: 'extension',
  type: 'anthropic_admin',
  schema,
  defaults,
  metrics: reconciliationMetrics,
  validate: validateAnthropicAdmin,
  create: (config, ctx) => new AnthropicAdminExtension(config, ctx),
};
