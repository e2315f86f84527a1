import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSource, problemsOf } from '../../e2e/sources/check.js';
import { LOSSES, type SourceManifest } from '../../e2e/sources/losses.js';
import { finalRecords, FIXTURES, loadScenario, normalizer, runAll } from './helpers.js';

/**
 * Every real capture of an instrumentation library under test/fixtures/sources/<lib>/<version>/
 * (see its README) through the normalizer, checked against what the mock upstream served
 * (test/e2e/sources/check.ts): one record per reported call with exactly the upstream's tokens,
 * the model, provider, streaming flag, status and the app's resource attribution; nothing else.
 */
const ROOT = join(FIXTURES, 'sources');

function captures(): { lib: string; version: string; dir: string }[] {
  if (!existsSync(ROOT)) return [];
  return readdirSync(ROOT).filter((l) => !l.includes('.') && l !== 'gateway').flatMap((lib) => readdirSync(join(ROOT, lib)).map((version) => ({ lib, version, dir: join(ROOT, lib, version) })));
}

describe('real instrumentation-library captures', () => {
  it('has captures to check', () => expect(captures().length).toBeGreaterThanOrEqual(5));

  for (const { lib, version, dir } of captures()) {
    it(`${lib} ${version}: one exact record per reported call, with the app's attribution`, () => {
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as SourceManifest;
      const { n } = normalizer({ dimensions: { env: ['resource:deployment.environment'] } });
      const records = finalRecords(runAll(n, loadScenario(dir)));
      expect(problemsOf(checkSource(lib, manifest, records))).toEqual([]);
    });
  }

  it('lists losses only for libraries that were captured', () => {
    const libs = new Set(captures().map((c) => c.lib));
    for (const l of LOSSES) expect(libs.has(l.lib), l.lib).toBe(true);
  });
});
