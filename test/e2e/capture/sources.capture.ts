/** Re-makes test/fixtures/sources/ (run by scripts/capture-sources.sh, not part of `npm test`). */
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { captureSource } from '../sources/capture.js';
import { installed, LIBRARIES, pinnedVersion, REPO_ROOT } from '../sources/libraries.js';

const only = process.env.CAPTURE_SOURCES?.split(',');

for (const l of LIBRARIES.filter((x) => !only || only.includes(x.lib))) {
  it(`captures ${l.lib}`, async () => {
    expect(installed(l.lib), `run scripts/setup-sources.sh ${l.lib}`).toBe(true);
    const out = join(REPO_ROOT, 'test/fixtures/sources', l.lib, pinnedVersion(l.lib, l.pkg));
    const r = await captureSource(l, out);
    const failed = r.manifest.calls.filter((c) => !c.outcome?.ok).map((c) => `${c.id}: ${c.outcome?.error ?? 'no outcome'}`);
    process.stdout.write(`${l.lib}: ${r.manifest.calls.length} calls, ${r.exports} OTLP exports -> ${out}\n  failed: ${failed.join('; ')}\n`);
    expect(r.exports).toBeGreaterThan(0);
  }, 300_000);
}
