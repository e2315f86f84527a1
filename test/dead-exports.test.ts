import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { deadExports, readExports, type ModuleExports } from './helpers/source-structure.js';

/**
 * No dead code behind an `export`: every name a production module exports is used somewhere,
 * in its own file, another module, a test or the benchmark (issue 18 §3).
 */
const root = fileURLToPath(new URL('..', import.meta.url));

describe('exports of the production sources', () => {
  it('has no dead export (exported, used nowhere, not even in its own file)', () => {
    const everything = readExports(root, ['core', 'receivers', 'processors', 'exporters', 'extensions', 'bin', 'scripts', 'bench', 'test']);
    expect(everything.some((m) => m.path === 'core/metrics.ts' && m.exported.includes('coreMetrics'))).toBe(true);
    expect(deadExports(readExports(root), everything)).toEqual([]);
  });

  it('flags an export named nowhere else, not one used in its file or elsewhere', () => {
    const a: ModuleExports = { path: 'core/a.ts', text: 'export const dead = 1;\nexport const local = 2;\nexport function used() { return local; }', exported: ['dead', 'local', 'used'] };
    const b: ModuleExports = { path: 'core/b.ts', text: "import { used } from './a.js';", exported: [] };
    expect(deadExports([a], [a, b])).toEqual(['core/a.ts: dead']);
  });
});
