import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LlmCall } from '../../core/llm-call.js';
import { CLI, freePort, runCli, RunningCli } from '../cli/cli-process.js';
import { serviceAvailable } from '../helpers/services.js';

/**
 * The acceptance test of the console: the shipped pipeline.yaml (admin token required) run as
 * `tokenledger run`, real LiteLLM and Claude Code captures replayed into it, then Debian's
 * Chromium shows per team and per model exactly what GET /api/v1/spend answers, which is what
 * `tokenledger report` prints at the same time (through the API: the process holds chDB's path)
 * and what the processors made of the captures.
 */

const CHROMIUM = process.env.TOKENLEDGER_CHROMIUM ?? '/usr/bin/chromium';
const LITELLM = 'test/fixtures/litellm/1.108.7/custom-auth';
const CLAUDE_CODE = 'test/fixtures/claude-code/otlp/v2.1.330-write-tool-with-traces/002-logs.json';
const FILES = [
  ...readdirSync(LITELLM).filter((f) => f.endsWith('-traces.pb')).sort().map((f) => ({ path: join(LITELLM, f), signal: 'traces' })),
  { path: CLAUDE_CODE, signal: 'logs' },
];
const TOKEN = 'console-test-token';
const SCREENSHOTS = process.env.TOKENLEDGER_UPDATE_SCREENSHOTS === '1' ? 'docs' : mkdtempSync(join(tmpdir(), 'tl-console-shots-'));

interface SpendRow { calls: number; cost_usd: number; [key: string]: string | number }

/** The shipped pipeline.yaml with its admin server asking for a token (from TL_ADMIN_TOKENS). */
function shippedWithAuth(dir: string): string {
  const shipped = readFileSync('pipeline.yaml', 'utf8');
  const admin = '      endpoint: ${env:TOKENLEDGER_ADMIN_ENDPOINT:-0.0.0.0:9464}\n';
  expect(shipped).toContain(admin);
  const file = join(dir, 'pipeline.yaml');
  writeFileSync(file, shipped.replace(admin, `${admin}      auth: { bearer_tokens_env: TL_ADMIN_TOKENS }\n`));
  return file;
}

/** `tokenledger report` as a child process, asynchronously: it runs while the test's server answers. */
function report(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'report', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

/** The rows of a console breakdown table: key, calls and cost as the page holds and shows them. */
async function breakdown(page: Page, key: string): Promise<{ key: string; calls: number; usd: number; shown: string }[]> {
  return page.locator(`table[data-breakdown="${key}"] tbody tr`).evaluateAll((rows) => rows.map((r) => ({
    key: r.querySelector('[data-key]')!.getAttribute('data-key')!,
    calls: Number(r.querySelector('[data-calls]')!.getAttribute('data-calls')),
    usd: Number(r.querySelector('[data-usd]')!.getAttribute('data-usd')),
    shown: r.querySelector('[data-usd]')!.textContent!,
  })));
}

const usd = (v: number): string => new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 4, maximumFractionDigits: 4 }).format(v);

const haveChromium = serviceAvailable('chromium', existsSync(CHROMIUM), `${CHROMIUM} is missing (apt-get install chromium)`);

describe.skipIf(!haveChromium)('the web console in Chromium, after fixture traffic', () => {
  let dir: string;
  let cli: RunningCli;
  let browser: Browser;
  let admin: string;
  let env: NodeJS.ProcessEnv;
  let expected: LlmCall[];
  let from: string;
  let to: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tl-console-'));
    const config = shippedWithAuth(dir);
    const [http, adminPort] = [await freePort(), await freePort()];
    env = {
      TOKENLEDGER_OTLP_GRPC_ENDPOINT: '127.0.0.1:0', TOKENLEDGER_OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
      TOKENLEDGER_ADMIN_ENDPOINT: `127.0.0.1:${adminPort}`, TL_ADMIN_TOKENS: TOKEN,
    };
    admin = `http://127.0.0.1:${adminPort}`;

    // What the shipped processors make of the captures: the truth the page must show.
    const processed = runCli(['process', '-c', config, ...FILES.map((f) => f.path)], env);
    expect(processed.status, processed.stderr).toBe(0);
    expected = processed.stdout.trim().split('\n').map((l) => JSON.parse(l) as LlmCall);
    expect(new Set(expected.map((c) => c.team)).size).toBeGreaterThanOrEqual(3);
    const days = expected.map((c) => c.timestamp.slice(0, 10)).sort();
    [from, to] = [days[0], days[days.length - 1]];

    cli = new RunningCli(['run', '-c', config], env);
    await cli.waitFor('stderr', '"msg":"pipeline running"', 60_000);
    for (const f of FILES) {
      const res = await fetch(`http://127.0.0.1:${http}/v1/${f.signal}`, {
        method: 'POST', headers: { 'content-type': f.path.endsWith('.pb') ? 'application/x-protobuf' : 'application/json' }, body: readFileSync(f.path),
      });
      expect(res.status, f.path).toBe(200);
    }
    browser = await chromium.launch({ executablePath: CHROMIUM });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (cli) expect(await cli.stop('SIGTERM')).toBe(0);
  });

  const spend = async (groupBy: string): Promise<SpendRow[]> => {
    const res = await fetch(`${admin}/api/v1/spend?from=${from}&to=${to}T23:59:59.999Z&group_by=${groupBy}&sort=cost`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    return (await res.json() as { rows: SpendRow[] }).rows;
  };

  it('shows per team and per model what GET /api/v1/spend answers, what tokenledger report prints meanwhile, and what the captures cost', async () => {
    // Acknowledged is queued: the API's read waits for the queue to reach ClickHouse.
    const byTeam = await spend('team');
    expect(byTeam.reduce((n, r) => n + r.calls, 0)).toBe(expected.length);
    for (const r of byTeam) {
      const calls = expected.filter((c) => c.team === r.team);
      expect(r.calls, r.team as string).toBe(calls.length);
      expect(r.cost_usd, r.team as string).toBeCloseTo(calls.reduce((s, c) => s + c.cost_usd, 0), 12);
    }
    const byModel = await spend('model');

    // tokenledger report, started now, while the browser loads the page.
    const reports = Promise.all(['team', 'model'].map((g) => report(['-c', join(dir, 'pipeline.yaml'), '--from', from, '--to', `${to}T23:59:59.999Z`, '-g', g, '-f', 'json'], env)));

    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${admin}/?from=${from}&to=${to}&by=team`);
    // Without the token the page asks for it; with it, the figures load.
    await page.getByRole('textbox', { name: 'Admin token' }).waitFor({ timeout: 20_000 });
    await page.getByRole('textbox', { name: 'Admin token' }).fill(TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.locator('table[data-breakdown="team"]').waitFor({ timeout: 30_000 });
    await page.locator('table[data-breakdown="model"]').waitFor({ timeout: 30_000 });
    await page.waitForFunction(() => document.getElementById('status')?.textContent?.startsWith('Showing'), undefined, { timeout: 30_000 });

    for (const [key, rows] of [['team', byTeam], ['model', byModel]] as const) {
      const shown = await breakdown(page, key);
      expect(shown.map((r) => r.key), key).toEqual(rows.map((r) => r[key]));
      expect(shown.map((r) => r.calls), key).toEqual(rows.map((r) => r.calls));
      expect(shown.map((r) => r.usd), key).toEqual(rows.map((r) => r.cost_usd));
      expect(shown.map((r) => r.shown), key).toEqual(rows.map((r) => usd(r.cost_usd)));
    }
    const total = Number(await page.locator('#total-usd').getAttribute('data-value'));
    expect(total).toBeCloseTo(expected.reduce((s, c) => s + c.cost_usd, 0), 12);

    const [teamReport, modelReport] = await reports;
    for (const [r, rows, key] of [[teamReport, byTeam, 'team'], [modelReport, byModel, 'model']] as const) {
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain('is held by a running process; asking the spend API of');
      const printed = JSON.parse(r.stdout) as SpendRow[];
      const sorted = [...rows].sort((a, b) => Buffer.compare(Buffer.from(String(a[key])), Buffer.from(String(b[key]))));
      expect(printed, key).toEqual(sorted.map((row) => ({ [key]: row[key], calls: row.calls, input_tokens: row.input_tokens, output_tokens: row.output_tokens, cache_read_tokens: row.cache_read_tokens, cache_write_tokens: row.cache_write_tokens, cost_usd: row.cost_usd })));
    }

    // With a token the server does not accept, report says so.
    const refused = await report(['-c', join(dir, 'pipeline.yaml'), '--from', from, '-g', 'team'], { ...env, TL_ADMIN_TOKENS: 'not-the-token' });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('HTTP 401: the token was refused');

    // Every form control has a name a screen reader announces; the reconciliation panel (no component serves it) stays hidden.
    const unnamed = await page.locator('input, select, button').evaluateAll((els) => els.filter((e) => (e as HTMLInputElement).labels?.length === 0 && !e.getAttribute('aria-label') && !(e.textContent ?? '').trim()).map((e) => e.outerHTML));
    expect(unnamed).toEqual([]);
    expect(await page.locator('#recon-section').isHidden()).toBe(true);
    expect(errors).toEqual([]);

    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'console-overview.png') });
    await page.locator('#budgets-section').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SCREENSHOTS, 'console-budgets-calls.png'), clip: await page.locator('main').boundingBox().then((b) => ({ x: 0, y: b!.y + 560, width: 1440, height: 900 })) });
    await page.close();
  }, 120_000);

  it('filters the recent calls from the keyboard', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.addInitScript((token) => sessionStorage.setItem('tokenledger.adminToken', token), TOKEN);
    await page.goto(`${admin}/?from=${from}&to=${to}`);
    await page.locator('table[data-calls] tbody tr').first().waitFor({ timeout: 30_000 });
    // The first Tab reaches the skip link, which moves focus past the controls to the figures.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to the figures');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    const team = 'alpha';
    await page.getByRole('combobox', { name: 'Team', exact: true }).fill(team);
    await page.getByRole('combobox', { name: 'Team', exact: true }).press('Enter');
    const want = expected.filter((c) => c.team === team).map((c) => c.call_id).sort();
    expect(want.length).toBeLessThanOrEqual(50); // one page
    await page.waitForFunction((n) => document.querySelectorAll('table[data-calls] tbody tr').length === n, want.length, { timeout: 20_000 });
    const teams = await page.locator('table[data-calls] tbody tr td:nth-child(2)').allTextContents();
    expect(new Set(teams)).toEqual(new Set([team]));
    const ids = await page.locator('table[data-calls] tbody [data-key]').evaluateAll((els) => els.map((e) => e.getAttribute('data-key')));
    expect(ids.sort()).toEqual(want);
    await page.close();
  }, 60_000);
});
