import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BROKEN } from './broken-configs.js';
import { runCli } from './cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'tl-validate-'));

describe('tokenledger validate', () => {
  it('accepts the valid fixture and the shipped pipeline.yaml', () => {
    const r = runCli(['validate', '-c', 'test/fixtures/config/valid.yaml']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('test/fixtures/config/valid.yaml: valid (1 pipeline)\n');
    expect(r.status).toBe(0);
    const shipped = runCli(['validate']);
    expect(shipped.stderr).toBe('');
    expect(shipped.status).toBe(0);
  });

  it.each(BROKEN)('$name: exits 1 naming file:line:col, path and reason', ({ name, text, expect: message }) => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, text);
    const r = runCli(['validate', '-c', file]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message.startsWith(':') ? file + message : message);
    expect(r.stderr).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\d+ errors?$`, 'm'));
  });

  it('names a missing file', () => {
    const r = runCli(['validate', '-c', join(dir, 'absent.yaml')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${join(dir, 'absent.yaml')}:0:0: error: cannot read: ENOENT`);
  });

  it('answers an unknown option with usage help and exit 2', () => {
    const r = runCli(['validate', '--colour']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("error: unknown option '--colour'");
  });
});
