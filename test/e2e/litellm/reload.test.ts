/**
 * A SIGHUP reload under real LiteLLM traffic loses no call: LiteLLM 1.80/1.81's OTLP/HTTP exporter
 * (opentelemetry-exporter-otlp-proto-http 1.39.1) drops a batch when the connection is refused, so
 * a reload must never close the receiver's port. Mock upstream → LiteLLM (OTLP http/protobuf) →
 * tokenledger (shipped pipeline shape, embedded ClickHouse), reloaded every second while the call
 * plan runs; ClickHouse must end with exactly the calls the mock served, once each.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serviceAvailable } from '../../helpers/services.js';
import { callPlan, sendCall, type SentCall } from '../harness/calls.js';
import { litellmInstalled, MASTER_KEY, startLitellm } from '../harness/litellm.js';
import { litellmConfig, litellmEnv, settingsFor } from '../harness/litellm-config.js';
import { acceptedSpans, allocatePorts, metricSum, readCalls, startTokenledger, TOKENLEDGER_JS, type ClickhouseTarget } from '../harness/tokenledger.js';
import { checkCalls } from '../harness/verify.js';
import { startMockUpstream } from '../mock-upstream/server.js';

const VERSION = process.env.TOKENLEDGER_E2E_RELOAD_LITELLM_VERSION ?? '1.80.11';
const ready = serviceAvailable('litellm', litellmInstalled(VERSION) && existsSync(TOKENLEDGER_JS), `LiteLLM ${VERSION} venv (scripts/setup-litellm.sh ${VERSION}) and dist/ (npm run build)`);

describe.skipIf(!ready)(`LiteLLM ${VERSION} → tokenledger over OTLP/HTTP, reloaded (SIGHUP) again and again mid-traffic`, () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  let work = '';
  afterAll(async () => {
    for (const stop of cleanup.reverse()) await stop();
    if (work && !process.env.TOKENLEDGER_E2E_KEEP) rmSync(work, { recursive: true, force: true });
  });

  it('stores every call the mock served exactly once, and LiteLLM reports no failed export', async () => {
    work = mkdtempSync(join(tmpdir(), `tl-e2e-reload-${VERSION}-`));
    const ch: ClickhouseTarget = { mode: 'embedded', path: join(work, 'clickhouse') };
    const mock = await startMockUpstream({ idPrefix: `reload${VERSION.replace(/\./g, '')}` });
    cleanup.push(() => mock.close());
    const tl = await startTokenledger(work, await allocatePorts(), ch);
    cleanup.push(() => tl.stop());
    const setting = settingsFor(VERSION).find((s) => s.name === 'default')!;
    const proxy = await startLitellm({
      version: VERSION, config: litellmConfig(mock.url, setting, MASTER_KEY), env: litellmEnv(mock.url, tl.httpEndpoint, setting), workDir: work, delivered: () => acceptedSpans(tl),
    });
    cleanup.push(() => proxy.stop());

    // LiteLLM itself logs streamed /anthropic pass-through calls without usage (litellm.test.ts, LITELLM_DEFECTS): not part of this check.
    const plan = callPlan('reload-').filter((s) => !(s.route === 'anthropic_passthrough' && s.stream));
    const sent: SentCall[] = [];
    let reloads = 0;
    let slowestReloadMs = 0;
    try {
      let done = false;
      const traffic = (async () => {
        for (const spec of plan) sent.push(await sendCall(spec, proxy.url, MASTER_KEY));
      })().finally(() => { done = true; });
      while (!done) {
        await new Promise((r) => setTimeout(r, 1000));
        if (done) break;
        const started = Date.now();
        await tl.reload();
        slowestReloadMs = Math.max(slowestReloadMs, Date.now() - started);
        reloads++;
      }
      await traffic;
    } finally {
      await proxy.stop(); // once tokenledger has accepted LiteLLM's last span
      await mock.close();
    }
    const metrics = await tl.metrics();
    expect(await tl.stop(), tl.logTail()).toBe(0);

    const served = mock.calls.filter((c) => c.api !== 'google.oauth_token');
    const rows = await readCalls(ch);
    const { checks, unmatched } = checkCalls(sent, served, rows, () => ({ usage: false, streamingFlag: true, tags: false }));
    const billable = checks.reduce((n, c) => n + c.billable.length, 0);
    const ok = rows.filter((r) => r.status === 'ok' && r.input_tokens + r.output_tokens > 0);
    const litellmLog = readFileSync(proxy.logFile, 'utf8');
    const exportFailures = litellmLog.split('\n').filter((l) => /Failed to export|Connection refused|ConnectionError|Max retries exceeded/i.test(l));
    const refused = metricSum(metrics, 'tokenledger_receiver_refused_requests_total', { reason: 'reload_timeout' });
    process.stdout.write(`[LiteLLM ${VERSION}] ${reloads} reloads (slowest ${slowestReloadMs} ms, SIGHUP to reloaded) during ${sent.length} client calls: mock served ${billable} billable calls, ClickHouse holds ${ok.length} ok rows (${new Set(ok.map((r) => r.call_id)).size} distinct); LiteLLM export failures logged: ${exportFailures.length}; reload_timeout refusals: ${refused}\n`);

    expect(reloads, 'the reloads must overlap the traffic').toBeGreaterThanOrEqual(3);
    expect(exportFailures).toEqual([]);
    expect(checks.filter((c) => c.problems.length > 0).map((c) => `${c.spec.id}: ${c.problems.join('; ')}`)).toEqual([]);
    expect(unmatched.map((r) => r.call_id)).toEqual([]);
    expect(new Set(ok.map((r) => r.call_id)).size).toBe(ok.length);
    expect(ok.length).toBe(billable);
  }, 420_000);
});
