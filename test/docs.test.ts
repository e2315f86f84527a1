import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderMatrix, replaceSection } from '../scripts/compat-matrix.mjs';
import { section, wrap } from '../scripts/docs/sections.js';
import { generatedSections, pipelineSchemaJson } from '../scripts/gen-docs.js';

describe('generated documentation is current (run `npm run docs` when this fails)', () => {
  it('schemas/pipeline.schema.json matches the factories', () => {
    expect(readFileSync('schemas/pipeline.schema.json', 'utf8')).toBe(pipelineSchemaJson());
  });

  // Each component README's configuration and metrics reference, docs/configuration.md's service reference, docs/metrics.md.
  for (const s of generatedSections()) {
    it(`${s.file}'s generated reference matches the factories`, () => {
      expect(section(readFileSync(s.file, 'utf8'), s.markers), `${s.file} has no ${s.markers.start} section`).toBe(wrap(s.markers, s.body));
    });
  }

  it('the metrics reference lists every metric declared, core and components', () => {
    const metrics = readFileSync('docs/metrics.md', 'utf8');
    for (const name of ['tokenledger_ready', 'tokenledger_build_info', 'tokenledger_receiver_accepted_items_total', 'tokenledger_llm_cost_usd_total', 'tokenledger_llm_unpriced_calls_total']) {
      expect(metrics).toContain(`\`${name}\``);
    }
  });

  // The e2e rewrites the results during the same run: atomically and, on a green run, with the same content.
  it("docs/compatibility.md's matrix matches the e2e results (run `npm run matrix`)", () => {
    const page = readFileSync('docs/compatibility.md', 'utf8');
    expect(page).toBe(replaceSection(page, renderMatrix()));
  });
});
