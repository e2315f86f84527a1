import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Writes an e2e results file whole or not at all (a temp file renamed over it): test/docs.test.ts
 * renders the README's matrix from these files while the e2e of the same `npm test` rewrites them.
 */
export function writeResultsFile(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, file);
}
