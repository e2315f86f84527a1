import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { factories } from '../../../bin/components.js';
import { loadConfigText } from '../../../core/config/load.js';
import { DEFAULT_OVERRIDES_FILE, validConfig } from './default-overrides.js';

/** The snippet handed to pipeline.yaml must pass the real config loader, not only this component's schema. */
describe('default overrides in a pipeline file', () => {
  it('load through core/config with the shipped pipeline.yaml around them', () => {
    const pipeline = parse(readFileSync(new URL('../../../pipeline.yaml', import.meta.url), 'utf8')) as { processors: Record<string, unknown> };
    const snippet = parse(readFileSync(DEFAULT_OVERRIDES_FILE, 'utf8')) as { processors: Record<string, unknown> };
    pipeline.processors['cost-enrichment'] = snippet.processors['cost-enrichment'];
    const { config } = loadConfigText(stringify(pipeline), 'pipeline.yaml', factories, {});
    const block = (config.processors as Record<string, unknown>)['cost-enrichment'];
    expect(block).toEqual(validConfig(snippet.processors['cost-enrichment']));
  });
});
