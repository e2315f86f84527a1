import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

  // Sections moved out of README.md must stay reachable: every relative link (and #anchor) resolves.
  it('relative links of README.md, docs/ and the component READMEs resolve to files and headings', () => {
    const pages = ['README.md', ...readdirSync('docs').map((f) => `docs/${f}`), ...generatedSections().map((s) => s.file)];
    const broken: string[] = [];
    for (const page of new Set(pages)) {
      for (const [, target] of readFileSync(page, 'utf8').matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target)) continue;
        const [path, anchor] = target.split('#');
        const file = path === '' ? page : join(dirname(page), path);
        if (!existsSync(file)) broken.push(`${page}: ${target} (no such file)`);
        else if (anchor && file.endsWith('.md') && !headingSlugs(file).has(anchor)) broken.push(`${page}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  // The e2e rewrites the results during the same run: atomically and, on a green run, with the same content.
  it("docs/compatibility.md's matrix matches the e2e results (run `npm run matrix`)", () => {
    const page = readFileSync('docs/compatibility.md', 'utf8');
    expect(page).toBe(replaceSection(page, renderMatrix()));
  });
});

/** GitHub's anchors of a Markdown file's headings: lowercase, punctuation dropped, spaces as hyphens. */
function headingSlugs(file: string): Set<string> {
  const slugs = new Set<string>();
  for (const [, title] of readFileSync(file, 'utf8').matchAll(/^#+ (.+)$/gm)) {
    slugs.add(title.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-'));
  }
  return slugs;
}
