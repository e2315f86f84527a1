import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderMatrix, replaceSection } from '../scripts/compat-matrix.mjs';
import { configReference, pipelineSchemaJson, REFERENCE_END, REFERENCE_START } from '../scripts/gen-docs.js';

describe('generated documentation is current (run `npm run docs` when this fails)', () => {
  it('schemas/pipeline.schema.json matches the factories', () => {
    expect(readFileSync('schemas/pipeline.schema.json', 'utf8')).toBe(pipelineSchemaJson());
  });

  it("README's configuration reference matches the factories", () => {
    const readme = readFileSync('README.md', 'utf8');
    const current = readme.slice(readme.indexOf(REFERENCE_START), readme.indexOf(REFERENCE_END) + REFERENCE_END.length);
    expect(current).toBe(configReference());
  });

  // The e2e rewrites the results during the same run: atomically and, on a green run, with the same content.
  it("README's compatibility matrix matches the e2e results (run `npm run matrix`)", () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(readme).toBe(replaceSection(readme, renderMatrix()));
  });
});
