import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BROKEN, REFUSED_AT_VALIDATION } from './broken-configs.js';
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

  it.each(REFUSED_AT_VALIDATION)('$name: refused by a component\'s validate step, naming file:line:col, path and reason', ({ name, text, expect: message }) => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, text);
    const r = runCli(['validate', '-c', file]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(file + message);
  });

  it('process and run refuse such a file the same way: exit 1, the diagnostics, no stack trace, nothing started', () => {
    const file = join(dir, 'refused-by-run.yaml');
    writeFileSync(file, REFUSED_AT_VALIDATION.find((c) => c.name === 'budget-mars-time-zone')!.text);
    const fixture = 'test/fixtures/litellm/1.81.3/default/001-traces.pb';
    for (const args of [['process', '-c', file, fixture], ['run', '-c', file]]) {
      const r = runCli(args);
      expect(r.status, args[0]).toBe(1);
      expect(r.stderr, args[0]).toContain(`${file}:13:65: error: exporters.budget.budgets[0].timezone: unknown time zone 'Mars/Olympus'`);
      expect(r.stderr, args[0]).not.toMatch(/\n\s+at /);
      expect(r.stdout, args[0]).toBe('');
    }
  });

  it('names a missing file, and exits 2 (unreadable input) from validate, run and process alike', () => {
    const r = runCli(['validate', '-c', join(dir, 'absent.yaml')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${join(dir, 'absent.yaml')}:0:0: error: cannot read: ENOENT`);
    expect(runCli(['run', '-c', join(dir, 'absent.yaml')]).status).toBe(2);
    expect(runCli(['process', '-c', join(dir, 'absent.yaml'), 'test/fixtures/litellm/1.81.3/default/001-traces.pb']).status).toBe(2);
  });

  it('answers an unknown option with usage help and exit 2', () => {
    const r = runCli(['validate', '--colour']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("error: unknown option '--colour'");
  });
});
