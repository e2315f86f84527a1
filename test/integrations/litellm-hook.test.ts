import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { litellmBin, litellmInstalled, REPO_ROOT } from '../e2e/harness/litellm.js';
import { CI_VERSIONS } from '../e2e/litellm/versions.mjs';
import { serviceAvailable } from '../helpers/services.js';

/** integrations/litellm's own unit tests (Python unittest), in each CI version's LiteLLM venv (its fastapi, httpx and CustomLogger). */
const ready = serviceAvailable('litellm', CI_VERSIONS.every(litellmInstalled), `LiteLLM ${CI_VERSIONS.join(', ')} venvs (scripts/setup-litellm.sh)`);

describe.skipIf(!ready)('integrations/litellm unit tests (python -m unittest)', () => {
  for (const version of CI_VERSIONS) {
    it(`pass with LiteLLM ${version}`, () => {
      const dir = join(REPO_ROOT, 'integrations/litellm');
      const r = spawnSync(join(litellmBin(version), '..', 'python'), ['-m', 'unittest', 'discover', '-s', 'tests'], {
        cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PYTHONPATH: dir, PYTHONDONTWRITEBYTECODE: '1' }, encoding: 'utf8', timeout: 120_000,
      });
      expect(r.stderr, r.stderr).toMatch(/Ran \d+ tests[\s\S]*\nOK\n?$/);
      expect(r.status).toBe(0);
    });
  }
});
