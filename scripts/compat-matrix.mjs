#!/usr/bin/env node
// Renders the compatibility matrix from the e2e results (test/e2e/litellm/results/*.json,
// test/e2e/claude-code/results/*.json and test/e2e/sources/results/*.json) as Markdown. With --write
// FILE it replaces the text between `<!-- compat-matrix:start -->` and `<!-- compat-matrix:end -->` in
// FILE (docs/compatibility.md), so the matrix cannot drift from what the e2e last proved.
// test/docs.test.ts imports renderMatrix and replaceSection to check that the page holds what the
// committed results render.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const START = '<!-- compat-matrix:start -->';
export const END = '<!-- compat-matrix:end -->';
const MARK = { pass: '✅', fail: '❌', 'litellm-defect': '⚠️', 'library-defect': '⚠️' };

function readDir(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
}

const cmpVersion = (a, b) => a.split('.').map(Number).reduce((r, n, i) => r || n - Number(b.split('.')[i] ?? 0), 0);

function litellmTable(root) {
  const files = readDir(join(root, 'test/e2e/litellm/results'));
  if (files.length === 0) return '_No LiteLLM e2e results yet: run `npm run test:e2e`._\n';
  const column = (e) => (!e.otel_setting || e.otel_setting === 'default' ? e.litellm_version : `${e.litellm_version} (${e.otel_setting})`);
  const cells = new Map();
  const notes = [];
  const meta = new Map();
  for (const f of files) {
    for (const e of f.entries) {
      cells.set(`${e.route}|${e.streaming}|${column(e)}`, e);
      meta.set(column(e), `OTLP ${e.otlp_protocol}, ClickHouse ${e.clickhouse}`);
      for (const p of e.status === 'pass' ? [] : e.problems) {
        const text = p.startsWith('LiteLLM ') ? p : `LiteLLM ${column(e)}: ${p}`;
        if (!notes.some((n) => n.text === text)) notes.push({ column: column(e), text });
      }
    }
  }
  const versions = [...meta.keys()].sort((a, b) => cmpVersion(a.split(' ')[0], b.split(' ')[0]) || a.localeCompare(b));
  const routes = [...new Set([...cells.values()].map((e) => e.route))].sort();
  const lines = [
    `| route → deployment | streaming | ${versions.map((v) => `LiteLLM ${v}`).join(' | ')} |`,
    `| --- | --- | ${versions.map(() => '---').join(' | ')} |`,
  ];
  for (const r of routes) {
    for (const s of [false, true]) {
      const row = versions.map((v) => {
        const e = cells.get(`${r}|${s}|${v}`);
        return e ? MARK[e.status] ?? e.status : '—';
      });
      lines.push(`| ${r} | ${s ? 'yes' : 'no'} | ${row.join(' | ')} |`);
    }
  }
  lines.push('', versions.map((v) => `LiteLLM ${v}: ${meta.get(v)}.`).join(' '));
  lines.push('✅ one ClickHouse row per call with exactly the tokens the upstream returned (input, output, cache read, cache write), streaming flag, route, provider, customer and tags right (in the custom-auth columns also the virtual key\'s key alias, team, user and org), /metrics equal to the rows; ⚠️ LiteLLM itself reports the call wrong (below); ❌ tokenledger is wrong.');
  // In column order, then alphabetically.
  notes.sort((a, b) => versions.indexOf(a.column) - versions.indexOf(b.column) || a.text.localeCompare(b.text));
  if (notes.length > 0) lines.push('', ...notes.map((n) => `- ${n.text}`));
  return lines.join('\n') + '\n';
}

/** Claude Code entries in a stable order: version, path, LiteLLM version, protocol, ClickHouse mode. */
const ccOrder = (a, b) =>
  cmpVersion(a.client_version, b.client_version) || a.path.localeCompare(b.path)
  || cmpVersion(a.litellm_version || '0', b.litellm_version || '0') || a.otlp_protocol.localeCompare(b.otlp_protocol) || a.clickhouse.localeCompare(b.clickhouse);

function claudeCodeTable(root) {
  const entries = readDir(join(root, 'test/e2e/claude-code/results')).flatMap((f) => f.entries ?? []).sort(ccOrder);
  if (entries.length === 0) return '';
  // Each distinct problem is numbered once; the cells of the entries it explains refer to it.
  const notes = [];
  const lines = ['| Claude Code | path | LiteLLM | OTLP | ClickHouse | result |', '| --- | --- | --- | --- | --- | --- |'];
  for (const e of entries) {
    const refs = (e.status === 'pass' ? [] : e.problems).map((p) => {
      if (!notes.includes(p)) notes.push(p);
      return `(${notes.indexOf(p) + 1})`;
    });
    const result = [MARK[e.status] ?? e.status, ...refs].join(' ');
    lines.push(`| ${e.client_version} | ${e.path} | ${e.litellm_version || '—'} | ${e.otlp_protocol} | ${e.clickhouse} | ${result} |`);
  }
  lines.push('', '✅ one billable ClickHouse row per call with the upstream\'s tokens, Claude Code\'s cost and session (and, through LiteLLM, its customer and tags), /metrics agreeing; ⚠️ LiteLLM itself reports the call wrong; ❌ tokenledger is wrong.');
  if (notes.length > 0) lines.push('', ...notes.map((n, k) => `${k + 1}. ${n}`));
  return lines.join('\n') + '\n';
}

function sourcesTable(root) {
  const files = readDir(join(root, 'test/e2e/sources/results'));
  if (files.length === 0) return '';
  const notes = [];
  const lines = ['| library | instrumentation | SDK | call | not streamed | streamed |', '| --- | --- | --- | --- | --- | --- |'];
  for (const f of files) {
    const entries = f.entries ?? [];
    for (const call of [...new Set(entries.map((e) => e.call))].sort()) {
      const cell = (streaming) => {
        const e = entries.find((x) => x.call === call && x.streaming === streaming);
        if (!e) return '—';
        const refs = (e.status === 'pass' ? [] : e.problems).map((p) => {
          if (!notes.includes(p)) notes.push(p);
          return `(${notes.indexOf(p) + 1})`;
        });
        return [MARK[e.status] ?? e.status, ...refs].join(' ');
      };
      const first = entries.find((e) => e.call === call);
      lines.push(`| ${f.library} | ${first.package} | ${first.sdk} | ${call} | ${cell(false)} | ${cell(true)} |`);
    }
  }
  lines.push('', 'Each app runs the real SDK against the mock upstream and exports OTLP/HTTP to tokenledger (test/e2e/sources/). ✅ one ClickHouse row per call with exactly the upstream\'s tokens (input, output, cache read, 5m and 1h cache writes), model, provider, streaming flag, the app\'s `service.name`, `team.id` and `deployment.environment`, the list-price cost, /metrics equal to the rows; ⚠️ the library itself reports the call wrong (below); ❌ tokenledger is wrong.');
  if (notes.length > 0) lines.push('', ...notes.map((n, k) => `${k + 1}. ${n}`));
  return lines.join('\n') + '\n';
}

/** The Markdown that goes between the markers, from the result files under `root` (the repository). */
export function renderMatrix(root = repoRoot) {
  const cc = claudeCodeTable(root);
  const sources = sourcesTable(root);
  return ['### LiteLLM proxy', '', litellmTable(root), cc ? `### Claude Code\n\n${cc}` : '', sources ? `### Instrumentation libraries\n\n${sources}` : ''].join('\n').trimEnd() + '\n';
}

/** `text` with the marked section replaced by `markdown`; null when `text` has no such section. */
export function replaceSection(text, markdown) {
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a === -1 || b < a) return null;
  return `${text.slice(0, a + START.length)}\n${markdown}${text.slice(b)}`;
}

function main() {
  const i = process.argv.indexOf('--write');
  if (i === -1) {
    process.stdout.write(renderMatrix());
    return;
  }
  const file = process.argv[i + 1];
  if (!file) {
    process.stderr.write('usage: node scripts/compat-matrix.mjs [--write FILE]\n');
    process.exit(2);
  }
  const updated = replaceSection(readFileSync(file, 'utf8'), renderMatrix());
  if (updated === null) {
    process.stderr.write(`compat-matrix: ${file} has no ${START} … ${END} section\n`);
    process.exit(1);
  }
  writeFileSync(file, updated);
  process.stdout.write(`compat-matrix: updated ${file}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
