/** Re-makes test/fixtures/sources/ (run by scripts/capture-sources.sh, not part of `npm test`). */
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { captureGateway, captureSource } from '../sources/capture.js';
import { GATEWAY_LIB, GATEWAY_LITELLM } from '../sources/gateway.js';
import { litellmInstalled } from '../harness/litellm.js';
import { installed, LIBRARIES, pinnedVersion, REPO_ROOT } from '../sources/libraries.js';

const only = process.env.CAPTURE_SOURCES?.split(',');

for (const l of LIBRARIES.filter((x) => !only || only.includes(x.lib))) {
  it(`captures ${l.lib}`, async () => {
    expect(installed(l), `run scripts/setup-sources.sh ${l.runtime === 'node' ? 'npm-' : ''}${l.dir}`).toBe(true);
    const out = join(REPO_ROOT, 'test/fixtures/sources', l.lib, pinnedVersion(l, l.pkg));
    const r = await captureSource(l, out);
    const failed = r.manifest.calls.filter((c) => !c.outcome?.ok).map((c) => `${c.id}: ${c.outcome?.error ?? 'no outcome'}`);
    process.stdout.write(`${l.lib}: ${r.manifest.calls.length} calls, ${r.exports} OTLP exports -> ${out}\n  failed: ${failed.join('; ')}\n`);
    expect(r.exports).toBeGreaterThan(0);
  }, 300_000);
}

it.runIf(!only || only.includes('gateway'))('captures an OpenLLMetry app calling through LiteLLM', async () => {
  expect(installed(GATEWAY_LIB) && litellmInstalled(GATEWAY_LITELLM), `run scripts/setup-sources.sh ${GATEWAY_LIB.dir} and scripts/setup-litellm.sh ${GATEWAY_LITELLM}`).toBe(true);
  const out = join(REPO_ROOT, 'test/fixtures/sources/gateway', `${GATEWAY_LIB.lib}-${pinnedVersion(GATEWAY_LIB, GATEWAY_LIB.pkg)}+litellm-${GATEWAY_LITELLM}`);
  const r = await captureGateway(out);
  process.stdout.write(`gateway: ${r.manifest.calls.length} calls, ${r.exports} OTLP exports -> ${out}\n  outcomes: ${r.manifest.calls.map((c) => `${c.id}=${c.outcome?.ok ? 'ok' : c.outcome?.error}`).join(' ')}\n`);
  expect(r.exports).toBeGreaterThan(0);
}, 300_000);
