import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Batch } from '../../core/batch.js';
import type { LlmCall } from '../../core/llm-call.js';
import type { ResourceLogs, ResourceSpans } from '../../core/telemetry.js';
import { defaults as normalizerDefaults } from '../../processors/claude-normalizer/config.js';
import { ClaudeNormalizer } from '../../processors/claude-normalizer/normalizer.js';
import { defaults as costDefaults } from '../../processors/cost-enrichment/config.js';
import { priceCalls, pricerFor } from '../../processors/cost-enrichment/index.js';
import { decodeExport } from '../../receivers/otlp/codec.js';
import { metricSum } from '../e2e/harness/tokenledger.js';
import { batchOf, testContext } from '../helpers/context.js';
import { logsRequest, tracesRequest } from '../helpers/otlp-json.js';
import { RedisServer, redisAvailable } from '../helpers/redis.js';
import { serviceAvailable } from '../helpers/services.js';
import { SERVER_URL, serverUp } from '../exporters/clickhouse/helpers.js';
import { finalRecords } from '../processors/claude-normalizer/helpers.js';
import { freePort, RunningCli } from './cli-process.js';

/**
 * Two `tokenledger run` replicas sharing one Redis join store behind Debian's haproxy, round robin:
 * every export of the real Claude Code → LiteLLM capture goes through the load balancer, and every
 * other one is sent twice (a client retrying the same bytes, which round robin hands to the other replica).
 * The sum of /metrics over both replicas is what one process bills for the capture, exactly.
 */
const CAPTURE = join(import.meta.dirname, '../fixtures/claude-code-via-litellm/claude-code-via-litellm-1.80.11-and-1.108.7.jsonl');

const hasRedis = redisAvailable();
const hasHaproxy = serviceAvailable('haproxy', spawnSync('haproxy', ['-v'], { stdio: 'ignore' }).status === 0, 'install Debian\'s haproxy (scripts/dev-services.sh)');

const chServer = serviceAvailable('clickhouse-server', await serverUp(), `nothing answers on ${SERVER_URL}`);

const dir = mkdtempSync(join(tmpdir(), 'tl-replicas-'));
const running: { stop: () => Promise<unknown> }[] = [];
afterAll(async () => {
  for (const r of running.reverse()) await r.stop();
  rmSync(dir, { recursive: true, force: true });
});

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

async function haproxy(port: number, backends: number[]): Promise<ChildProcess> {
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, `global
  maxconn 256
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
frontend otlp
  bind 127.0.0.1:${port}
  default_backend replicas
backend replicas
  balance roundrobin
${backends.map((p, i) => `  server r${i} 127.0.0.1:${p}`).join('\n')}
`);
  const proc = spawn('haproxy', ['-f', cfg, '-db'], { stdio: 'ignore' });
  running.push({ stop: () => { proc.kill('SIGTERM'); return new Promise((r) => proc.once('exit', r)); } });
  const deadline = Date.now() + 10_000;
  while (!(await listening(port))) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`haproxy did not listen on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return proc;
}

/** A replica; with `ledger`, also writing the ClickHouse server's database `ledger` behind its own disk queue. */
async function replica(redisUrl: string, http: number, admin: number, ledger?: string): Promise<RunningCli> {
  const config = join(dir, `pipeline-${http}.yaml`);
  const clickhouse = ledger === undefined ? '' : `
  clickhouse:
    mode: server
    url: ${SERVER_URL}
    database: ${ledger}
    batch: { max_rows: 500, max_delay_ms: 50 }
    queue: { type: disk, path: ${join(dir, `queue-${http}`)} }`;
  writeFileSync(config, `receivers:
  otlp:
    protocols:
      grpc: { enabled: false }
      http: { endpoint: 127.0.0.1:${http} }
processors:
  claude-normalizer:
    dedupe: { store: redis, redis: { url: "${redisUrl}", key_prefix: run-replicas-${ledger ?? 'metrics'} } }
  cost-enrichment:
exporters:
  prometheus:${clickhouse}
service:
  pipelines:
    llm: { receivers: [otlp], processors: [claude-normalizer, cost-enrichment], exporters: [prometheus${ledger === undefined ? '' : ', clickhouse'}] }
  telemetry: { admin: { endpoint: 127.0.0.1:${admin} } }
`);
  const cli = new RunningCli(['run', '-c', config]);
  running.push({ stop: () => cli.stop('SIGKILL') });
  await cli.waitFor('stderr', '"msg":"pipeline running"', 30_000);
  return cli;
}

/** POSTs until accepted, as an OTLP exporter retries a 503 (at most 15 s). */
async function post(url: string, body: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    if (res.status === 200) return;
    if (Date.now() > deadline) throw new Error(`${url}: HTTP ${res.status}: ${await res.text()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The capture's exports as OTLP/JSON requests, each checked to decode to what the capture holds. */
function requestsOf(b: Batch): [string, string][] {
  const requests: [string, string][] = [];
  if (b.resourceSpans.length > 0) requests.push(['traces', tracesRequest(b.resourceSpans)]);
  if (b.resourceLogs.length > 0) requests.push(['logs', logsRequest(b.resourceLogs)]);
  for (const [signal, body] of requests) {
    const decoded = decodeExport(signal === 'traces' ? 'traces' : 'logs', Buffer.from(body), 'json');
    expect(signal === 'traces' ? decoded.resourceSpans : decoded.resourceLogs).toEqual(signal === 'traces' ? b.resourceSpans : b.resourceLogs);
  }
  return requests;
}

const loadCapture = (): Batch[] => readFileSync(CAPTURE, 'utf8').trim().split('\n').map((l) => batchOf(JSON.parse(l) as { resourceSpans: ResourceSpans[]; resourceLogs: ResourceLogs[] }));

describe.runIf(hasRedis && hasHaproxy)('two tokenledger run replicas on one Redis behind haproxy', () => {
  it('every export through round robin, every other one sent twice (the retry lands on the other replica): the sum of /metrics over replicas is what one process bills', async () => {
    const batches = loadCapture();
    const one = new ClaudeNormalizer(structuredClone(normalizerDefaults), testContext('claude-normalizer'));
    const billed: LlmCall[] = batches.flatMap((b) => (one.process(structuredClone(b)) as Batch).calls);
    const priced = priceCalls(billed, pricerFor(costDefaults, dir));
    const cost = priced.reduce((s, c) => s + c.cost_usd, 0);
    expect(billed.length).toBe(12);

    const redis = await RedisServer.start();
    running.push({ stop: () => redis.close() });
    const [httpA, httpB, adminA, adminB, lb] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    await replica(redis.url, httpA, adminA);
    await replica(redis.url, httpB, adminB);
    await haproxy(lb, [httpA, httpB]);

    let sent = 0;
    for (const b of batches) {
      for (const [signal, body] of requestsOf(b)) {
        await post(`http://127.0.0.1:${lb}/v1/${signal}`, body);
        // Every other request is retried: round robin then gives first copies to both replicas.
        if (sent++ % 2 === 0) await post(`http://127.0.0.1:${lb}/v1/${signal}`, body);
      }
    }
    const metrics = await Promise.all([adminA, adminB].map(async (p) => (await fetch(`http://127.0.0.1:${p}/metrics`)).text()));
    const sum = (name: string) => metrics.reduce((s, m) => s + metricSum(m, name), 0);
    process.stderr.write(`per replica: ${metrics.map((m) => metricSum(m, 'tokenledger_llm_calls_total') + ' calls ' + metricSum(m, 'tokenledger_normalizer_duplicates_total') + ' dups').join(', ')}\n`);
    expect(metrics.map((m) => metricSum(m, 'tokenledger_llm_calls_total')).every((n) => n > 0)).toBe(true); // both replicas billed some
    expect(sum('tokenledger_llm_calls_total')).toBe(billed.length);
    expect(sum('tokenledger_llm_cost_usd_total')).toBeCloseTo(cost, 9);
    expect(sum('tokenledger_llm_tokens_total')).toBe(billed.reduce((s, c) => s + c.input_tokens + c.output_tokens + c.cache_read_tokens + c.cache_write_5m_tokens + c.cache_write_1h_tokens, 0));
    expect(sum('tokenledger_normalizer_duplicates_total')).toBeGreaterThan(0);
    expect(sum('tokenledger_normalizer_join_store_errors_total')).toBe(0);
    process.stderr.write(`two replicas behind haproxy: ${sum('tokenledger_llm_calls_total')} calls, $${sum('tokenledger_llm_cost_usd_total').toFixed(6)} (one process: ${billed.length}, $${cost.toFixed(6)})\n`);
  }, 120_000);

  it.runIf(chServer)('replica A killed (-9) mid-traffic and restarted: ClickHouse FINAL holds one row per call, both sources\' attribution, the cost one process bills', async () => {
    const batches = loadCapture();
    const one = new ClaudeNormalizer(structuredClone(normalizerDefaults), testContext('claude-normalizer'));
    const out = batches.map((b) => one.process(structuredClone(b)) as Batch);
    const final = priceCalls(finalRecords(out), pricerFor(costDefaults, dir));
    const ledger = `tl_test_replicas_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
    const redis = await RedisServer.start();
    running.push({ stop: () => redis.close() });
    running.push({ stop: () => fetch(`${SERVER_URL}/?query=${encodeURIComponent(`DROP DATABASE IF EXISTS ${ledger}`)}`, { method: 'POST' }) });
    const [httpA, httpB, adminA, adminB, lb] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    const a = await replica(redis.url, httpA, adminA, ledger);
    await replica(redis.url, httpB, adminB, ledger);
    await haproxy(lb, [httpA, httpB]);
    let sent = 0;
    let restarted: Promise<RunningCli> | undefined;
    for (const [i, b] of batches.entries()) {
      if (i === Math.floor(batches.length / 2)) {
        await a.stop('SIGKILL');
        restarted = replica(redis.url, httpA, adminA, ledger); // while traffic goes on: requests haproxy sends to A meanwhile get 503 and are retried
      }
      for (const [signal, body] of requestsOf(b)) {
        await post(`http://127.0.0.1:${lb}/v1/${signal}`, body);
        if (sent++ % 2 === 0) await post(`http://127.0.0.1:${lb}/v1/${signal}`, body);
      }
    }
    await restarted;
    const query = async <T>(q: string): Promise<T> => JSON.parse(await (await fetch(`${SERVER_URL}/?query=${encodeURIComponent(`${q} FORMAT JSONEachRow`)}`, { method: 'POST' })).text()) as T;
    type Totals = { n: string; usd: number; both: string };
    let totals: Totals = { n: '0', usd: 0, both: '0' };
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      totals = await query<Totals>(`SELECT count() AS n, sum(cost_usd) AS usd, countIf(customer LIKE 'cust-%' AND session_id != '') AS both FROM ${ledger}.llm_calls FINAL`).catch(() => totals);
      if (Number(totals.n) >= final.length && Math.abs(totals.usd - final.reduce((s, c) => s + c.cost_usd, 0)) < 1e-9) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(Number(totals.n)).toBe(final.length);
    expect(totals.usd).toBeCloseTo(final.reduce((s, c) => s + c.cost_usd, 0), 9);
    expect(Number(totals.both)).toBe(final.filter((c) => c.customer.startsWith('cust-') && c.session_id !== '').length);
    process.stderr.write(`kill -9 behind haproxy: ClickHouse FINAL ${totals.n} rows, $${totals.usd.toFixed(6)}, ${totals.both} with LiteLLM's customer and Claude Code's session (one process: ${final.length}, $${final.reduce((s, c) => s + c.cost_usd, 0).toFixed(6)})\n`);
  }, 180_000);
});
