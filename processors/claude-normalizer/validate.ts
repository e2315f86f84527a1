import type { ConfigProblem } from '../../core/component.js';
import { contentKeyProblem, isContentPrefix } from '../../core/privacy.js';
import { refProblem } from './attribution.js';
import type { NormalizerConfig } from './config.js';

/** What the schema cannot say: every source is a usable reference that copies neither content nor credentials. */
export function validateNormalizer(config: NormalizerConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const refs = (list: string[], path: (string | number)[]) => list.forEach((text, i) => {
    const message = refProblem(text);
    if (message !== '') problems.push({ path: [...path, i], message });
  });
  for (const [field, list] of Object.entries(config.attribution)) refs(list, ['attribution', field]);
  for (const [name, list] of Object.entries(config.dimensions)) refs(list, ['dimensions', name]);
  for (const [model, provider] of Object.entries(config.model_providers)) {
    // Records carry it as provider; cost-enrichment looks prices up by it, so a typo means unpriced calls.
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(provider)) {
      problems.push({ path: ['model_providers', model], message: `'${provider}' is not a provider name: lower-case OTel gen_ai.provider.name values such as anthropic, aws.bedrock, openai` });
    }
  }
  config.attributes.include.forEach((key, i) => {
    const message = key.endsWith('*')
      ? isContentPrefix(key.slice(0, -1)) ? `'${key}' matches only content attributes (prompt, response or tool content), which are never kept` : ''
      : contentKeyProblem(key);
    if (message !== '') problems.push({ path: ['attributes', 'include', i], message });
  });
  return problems;
}
