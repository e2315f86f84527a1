import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importCycles, layerViolations, longFiles, longFunctions, readSources, type SourceFile } from './helpers/source-structure.js';

/**
 * The structural facts of issue 18 (ARCHITECTURE.md §2): the production sources have no import
 * cycle, no file over 400 lines, no function over 80 lines; components import only core/, and the
 * CLI reaches a component only through its index.ts. A failure lists every offender.
 */

const root = fileURLToPath(new URL('..', import.meta.url));
const sources = readSources(root);

describe('structure of the production sources', () => {
  it('reads every production folder', () => {
    for (const dir of ['core/', 'receivers/', 'processors/', 'exporters/', 'extensions/', 'bin/', 'scripts/']) {
      expect(sources.some((f) => f.path.startsWith(dir)), dir).toBe(true);
    }
    expect(sources.some((f) => f.path.startsWith('test/') || f.path.startsWith('bench/'))).toBe(false);
  });

  it('has no import cycle', () => {
    expect(importCycles(sources).map((c) => c.join(' <-> '))).toEqual([]);
  });

  it('has no file over 400 lines', () => {
    expect(longFiles(sources)).toEqual([]);
  });

  it('has no function over 80 lines', () => {
    expect(longFunctions(sources)).toEqual([]);
  });

  it('components import only core/, core nothing above it, the CLI components only through index.ts', () => {
    expect(layerViolations(sources)).toEqual([]);
  });
});

// The checks themselves, on made-up graphs: each rule must be able to fail.
describe('structure checks', () => {
  const file = (path: string, imports: string[] = [], lines = 10, functions: SourceFile['functions'] = []): SourceFile => ({ path, imports, lines, functions });

  it('finds a cycle through three files and a file importing itself, not a diamond', () => {
    const cycles = importCycles([
      file('core/a.ts', ['core/b.ts']), file('core/b.ts', ['core/c.ts']), file('core/c.ts', ['core/a.ts']),
      file('core/self.ts', ['core/self.ts']),
      file('core/top.ts', ['core/l.ts', 'core/r.ts']), file('core/l.ts', ['core/base.ts']), file('core/r.ts', ['core/base.ts']), file('core/base.ts'),
    ]);
    expect(cycles).toEqual([['core/a.ts', 'core/b.ts', 'core/c.ts'], ['core/self.ts']]);
  });

  it('flags files and functions past their limits, not at them', () => {
    const files = [file('core/big.ts', [], 401, [{ name: 'f', line: 3, lines: 81 }, { name: 'g', line: 90, lines: 80 }]), file('core/ok.ts', [], 400)];
    expect(longFiles(files)).toEqual(['core/big.ts: 401 lines']);
    expect(longFunctions(files)).toEqual(['core/big.ts:3 f: 81 lines']);
  });

  it('flags imports across components, core importing a component, and the CLI reaching inside one', () => {
    const violations = layerViolations([
      file('exporters/a/x.ts', ['core/batch.ts', 'exporters/a/y.ts', 'processors/b/index.ts']),
      file('core/host.ts', ['exporters/a/index.ts']),
      file('bin/cli.ts', ['exporters/a/index.ts', 'exporters/a/y.ts', 'core/batch.ts']),
    ]);
    expect(violations).toEqual([
      'exporters/a/x.ts imports processors/b/index.ts (a component imports only core/ and its own files)',
      'core/host.ts imports exporters/a/index.ts (core/ imports nothing above it)',
      'bin/cli.ts imports exporters/a/y.ts (the CLI and scripts reach a component only through its index.ts)',
    ]);
  });

  it('reads real sources: imports resolved to files, functions with their line spans', () => {
    const cli = sources.find((f) => f.path === 'bin/components.ts');
    expect(cli?.imports).toContain('receivers/otlp/index.ts');
    const service = sources.find((f) => f.path === 'core/service.ts');
    expect(service?.functions.length).toBeGreaterThan(3);
    expect(service?.functions.every((fn) => fn.lines >= 1 && fn.line >= 1)).toBe(true);
  });
});
