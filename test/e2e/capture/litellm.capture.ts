/** Re-makes test/fixtures/litellm/ (run by scripts/capture-litellm.sh, not part of `npm test`). */
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { captureOne } from '../harness/capture.js';
import { litellmInstalled, REPO_ROOT } from '../harness/litellm.js';
import { settingsFor } from '../harness/litellm-config.js';
import { VERSIONS } from '../litellm/versions.mjs';

const versions = process.env.CAPTURE_VERSIONS ? process.env.CAPTURE_VERSIONS.split(',') : VERSIONS;
const only = process.env.CAPTURE_SETTINGS?.split(',');

for (const version of versions) {
  for (const setting of settingsFor(version).filter((s) => !only || only.includes(s.name))) {
    it(`captures LiteLLM ${version} / ${setting.name}`, async () => {
      expect(litellmInstalled(version), `run scripts/setup-litellm.sh ${version}`).toBe(true);
      const out = join(REPO_ROOT, 'test/fixtures/litellm', version, setting.name);
      const r = await captureOne(version, setting, out);
      const byStatus = new Map<number, number>();
      for (const s of r.sent) byStatus.set(s.status, (byStatus.get(s.status) ?? 0) + 1);
      process.stdout.write(`LiteLLM ${version}/${setting.name}: ${r.sent.length} calls (status ${JSON.stringify(Object.fromEntries(byStatus))}), ${r.served.length} upstream requests, ${r.exports} OTLP exports -> ${out}\n`);
      expect(r.exports).toBeGreaterThan(0);
    }, 300_000);
  }
}
