import type { ProcessorFactory } from '../../core/component.js';
import { defaults, schema, type NormalizerConfig } from './config.js';
import { normalizerMetrics } from './metrics.js';
import { ClaudeNormalizer } from './normalizer.js';
import { validateNormalizer } from './validate.js';

export type { NormalizerConfig } from './config.js';

export const claudeNormalizerFactory: ProcessorFactory<NormalizerConfig> = {
  kind: 'processor',
  type: 'claude-normalizer',
  schema,
  defaults,
  validate: validateNormalizer,
  metrics: normalizerMetrics,
  create: (config, ctx) => new ClaudeNormalizer(config, ctx),
};
