import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderMatrix } from '../../../scripts/compat-matrix.mjs';
import { REPO_ROOT } from '../harness/litellm.js';

const SCRIPT = join(REPO_ROOT, 'scripts/compat-matrix.mjs');

describe('scripts/compat-matrix.mjs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tl-matrix-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('renders one row per route × streaming and one column per LiteLLM run from the committed results', () => {
    const md = execFileSync(process.execPath, [SCRIPT], { encoding: 'utf8' });
    const header = md.split('\n').find((l) => l.startsWith('| route → deployment'));
    expect(header).toBeDefined();
    const columns = header!.split('|').filter((c) => c.includes('LiteLLM'));
    expect(columns.length).toBeGreaterThanOrEqual(2);
    const rows = md.split('\n').filter((l) => /^\| \/.* \| (yes|no) \|/.test(l));
    expect(rows.length).toBeGreaterThanOrEqual(10); // ≥ 5 routes × streaming on/off
    for (const r of rows) expect(r.split('|').length).toBe(header!.split('|').length);
  });

  it('lists each Claude Code entry once, with its ClickHouse mode, and numbers each distinct problem once', () => {
    const root = join(dir, 'repo');
    mkdirSync(join(root, 'test/e2e/claude-code/results'), { recursive: true });
    const entry = (clickhouse: string, litellm: string, status: string, problems: string[]) => ({
      client: 'claude-code', client_version: '2.1.330', path: litellm ? 'litellm-v1-messages' : 'direct', litellm_version: litellm,
      otlp_protocol: 'grpc', clickhouse, status, checks: [], problems,
    });
    const write = (name: string, entries: unknown[]) => writeFileSync(join(root, 'test/e2e/claude-code/results', `${name}.json`), JSON.stringify({ scenario: name, entries }));
    write('direct', [entry('embedded', '', 'pass', [])]);
    write('direct-clickhouse-server', [entry('server', '', 'pass', [])]);
    write('litellm', [entry('embedded', '1.80.11', 'litellm-defect', ['drops spans']), entry('embedded', '1.81.3', 'litellm-defect', ['drops spans']), entry('embedded', '1.108.7', 'fail', ['splits wrong'])]);
    const md = renderMatrix(root);
    expect(md).toContain([
      '| Claude Code | path | LiteLLM | OTLP | ClickHouse | result |',
      '| --- | --- | --- | --- | --- | --- |',
      '| 2.1.330 | direct | — | grpc | embedded | ✅ |',
      '| 2.1.330 | direct | — | grpc | server | ✅ |',
      '| 2.1.330 | litellm-v1-messages | 1.80.11 | grpc | embedded | ⚠️ (1) |',
      '| 2.1.330 | litellm-v1-messages | 1.81.3 | grpc | embedded | ⚠️ (1) |',
      '| 2.1.330 | litellm-v1-messages | 1.108.7 | grpc | embedded | ❌ (2) |',
    ].join('\n'));
    expect(md.endsWith('\n1. drops spans\n2. splits wrong\n')).toBe(true);
  });

  it('replaces only the marked section of a file, and twice gives the same file', () => {
    const file = join(dir, 'README.md');
    writeFileSync(file, '# Title\n\n<!-- compat-matrix:start -->\nold\n<!-- compat-matrix:end -->\n\nafter\n');
    execFileSync(process.execPath, [SCRIPT, '--write', file]);
    const once = readFileSync(file, 'utf8');
    expect(once).toMatch(/^# Title\n\n<!-- compat-matrix:start -->\n### LiteLLM proxy/);
    expect(once).not.toContain('\nold\n');
    expect(once.endsWith('<!-- compat-matrix:end -->\n\nafter\n')).toBe(true);
    execFileSync(process.execPath, [SCRIPT, '--write', file]);
    expect(readFileSync(file, 'utf8')).toBe(once);
  });

  it('fails with a message when the file has no marked section', () => {
    const file = join(dir, 'plain.md');
    writeFileSync(file, '# no markers\n');
    const r = spawnSync(process.execPath, [SCRIPT, '--write', file], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('compat-matrix:start');
    expect(readFileSync(file, 'utf8')).toBe('# no markers\n');
  });
});
