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

  // Sections moved out of README.md must stay reachable: every relative link (and #anchor) resolves.
  it('relative links of README.md, docs/ and the component READMEs resolve to files and headings', () => {
    const pages = ['README.md', ...readdirSync('docs').filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`), 'console/README.md', ...generatedSections().map((s) => s.file)];
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

  it('every tokenledger_* metric the code makes or the alert rules and dashboard read is in docs/metrics.md', () => {
    const documented = new Set([...readFileSync('docs/metrics.md', 'utf8').matchAll(/`(tokenledger_[a-z0-9_]+)`/g)].map((m) => m[1]));
    const known = (name: string): boolean => documented.has(name) || documented.has(name.replace(/_(bucket|sum|count)$/, ''));
    expect([...usedMetricNames()].filter((name) => !known(name))).toEqual([]);
  });

  // The e2e rewrites the results during the same run: atomically and, on a green run, with the same content.
  it("docs/compatibility.md's matrix matches the e2e results (run `npm run matrix`)", () => {
    const page = readFileSync('docs/compatibility.md', 'utf8');
    expect(page).toBe(replaceSection(page, renderMatrix()));
  });
});

/** Metric names quoted in the production sources, the shipped alert rules and the dashboard. */
function usedMetricNames(): Set<string> {
  const files = [...['alerts', 'dashboards'].flatMap((d) => readdirSync(d).map((f) => join(d, f)))];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith('.ts')) files.push(join(dir, e.name));
    }
  };
  for (const dir of ['core', 'receivers', 'processors', 'exporters', 'bin']) walk(dir);
  const names = new Set<string>();
  for (const file of files) for (const [name] of readFileSync(file, 'utf8').matchAll(/tokenledger_[a-z0-9_]*[a-z0-9](?![_{a-z0-9])/g)) names.add(name);
  return names;
}

/** GitHub's anchors of a Markdown file's headings: lowercase, punctuation dropped, spaces as hyphens. */
function headingSlugs(file: string): Set<string> {
  const slugs = new Set<string>();
  for (const [, title] of readFileSync(file, 'utf8').matchAll(/^#+ (.+)$/gm)) {
    slugs.add(title.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-'));
  }
  return slugs;
}
