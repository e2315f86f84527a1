/**
 * Shared by the tests that run several `tokenledger run` replicas on one Redis join store: the
 * replicas, Debian's haproxy in front of them, a client that retries refusals as OTLP exporters
 * do, the real Claude Code → LiteLLM capture as OTLP/JSON requests, and what one process bills for it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Batch } from '../../core/batch.js';
import type { LlmCall } from '../../core/llm-call.js';
import type { ResourceLogs, ResourceSpans } from '../../core/telemetry.js';
import { defaults as normalizerDefaults } from '../../processors/claude-normalizer/config.js';
import { ClaudeNormalizer } from '../../processors/claude-normalizer/normalizer.js';
import { defaults as costDefaults } from '../../processors/cost-enrichment/config.js';
import { priceCalls, pricerFor } from '../../processors/cost-enrichment/index.js';
import { decodeExport } from '../../receivers/otlp/codec/codec.js';
import { metricSum } from '../e2e/harness/tokenledger.js';
import { batchOf, testContext } from '../helpers/context.js';
import { logsRequest, tracesRequest } from '../helpers/otlp-json.js';
import { httpPipelineYaml } from '../helpers/pipeline-yaml.js';
import { startHaproxy } from '../helpers/haproxy.js';
import { SERVER_URL } from '../exporters/clickhouse/helpers.js';
import { finalRecords } from '../processors/claude-normalizer/helpers.js';
import { RunningCli } from './cli-process.js';

const CAPTURE = join(import.meta.dirname, '../fixtures/claude-code-via-litellm/claude-code-via-litellm-1.80.11-and-1.108.7.jsonl');

/** A test's temporary folder and what it started, stopped in reverse order by close(). */
export class Scope {
  readonly dir = mkdtempSync(join(tmpdir(), 'tl-replicas-'));
  private readonly running: { stop: () => Promise<unknown> }[] = [];

  defer(stop: () => Promise<unknown>): void { this.running.push({ stop }); }

  async close(): Promise<void> {
    for (const r of this.running.reverse()) await r.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Debian's haproxy on `port`, round robin over `backends`. */
  async haproxy(port: number, backends: number[]): Promise<void> {
    const lb = await startHaproxy(this.dir, port, backends);
    this.defer(lb.stop);
  }

  /** A replica; with `ledger`, also writing the ClickHouse server's database `ledger` behind its own disk queue. */
  async replica(redisUrl: string, http: number, admin: number, ledger?: string): Promise<RunningCli> {
    const config = join(this.dir, `pipeline-${http}.yaml`);
    const clickhouse = ledger === undefined ? '' : `
  clickhouse:
    mode: server
    url: ${SERVER_URL}
    database: ${ledger}
    batch: { max_rows: 500, max_delay: 50ms }
    queue: { type: disk, path: ${join(this.dir, `queue-${http}`)} }`;
    writeFileSync(config, httpPipelineYaml({
      http, admin, exporters: `  prometheus:${clickhouse}`, pipelines: { llm: ledger === undefined ? ['prometheus'] : ['prometheus', 'clickhouse'] },
      normalizer: `    dedupe: { store: redis, redis: { url: "${redisUrl}", key_prefix: run-replicas-${ledger ?? 'metrics'} } }`,
    }));
    const cli = new RunningCli(['run', '-c', config]);
    this.defer(() => cli.stop('SIGKILL'));
    await cli.waitFor('stderr', '"msg":"pipeline running"', 30_000);
    return cli;
  }
}

/**
 * POSTs until accepted, as an OTLP exporter retries a 503 (backing off up to 1 s, for at most
 * `patienceMs`); `refused` sees every refusal.
 */
export async function post(url: string, body: string, patienceMs = 15_000, refused: (res: Response) => void = () => {}): Promise<void> {
  const deadline = Date.now() + patienceMs;
  for (let wait = 100; ; wait = Math.min(wait * 2, 1000)) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    if (res.status === 200) return;
    const text = await res.text();
    refused(res);
    if (Date.now() > deadline) throw new Error(`${url}: HTTP ${res.status}: ${text}`);
    await new Promise((r) => setTimeout(r, wait));
  }
}

/** The capture's exports as OTLP/JSON requests, each checked to decode to what the capture holds. */
export function requestsOf(b: Batch): [string, string][] {
  const requests: [string, string][] = [];
  if (b.resourceSpans.length > 0) requests.push(['traces', tracesRequest(b.resourceSpans)]);
  if (b.resourceLogs.length > 0) requests.push(['logs', logsRequest(b.resourceLogs)]);
  for (const [signal, body] of requests) {
    const decoded = decodeExport(signal === 'traces' ? 'traces' : 'logs', Buffer.from(body), 'json');
    expect(signal === 'traces' ? decoded.resourceSpans : decoded.resourceLogs).toEqual(signal === 'traces' ? b.resourceSpans : b.resourceLogs);
  }
  return requests;
}

export const loadCapture = (): Batch[] => readFileSync(CAPTURE, 'utf8').trim().split('\n').map((l) => batchOf(JSON.parse(l) as { resourceSpans: ResourceSpans[]; resourceLogs: ResourceLogs[] }));

/**
 * What one process fed `batches` emits (`out`), bills (the calls as first emitted) and leaves in
 * ClickHouse FINAL (the newest version of each call_id, after `before`: what the ledger held already).
 */
export function singleProcess(batches: Batch[], dir: string, before: Batch[] = []): { out: Batch[]; billed: LlmCall[]; final: LlmCall[] } {
  const one = new ClaudeNormalizer(structuredClone(normalizerDefaults), testContext('claude-normalizer'));
  const out = batches.map((b) => one.process(structuredClone(b)) as Batch);
  const pricer = pricerFor(costDefaults, dir);
  return { out, billed: priceCalls(out.flatMap((b) => b.calls), pricer), final: priceCalls(finalRecords([...before, ...out]), pricer) };
}

/** The capture's exports from Claude Code (its events, its spans); the others are LiteLLM's. */
export const fromClaudeCode = (b: Batch): boolean => b.resourceLogs.length > 0 || b.resourceSpans.some((rs) => rs.resource['service.name'] === 'claude-code');

export const usd = (calls: LlmCall[]): number => calls.reduce((s, c) => s + c.cost_usd, 0);
export const tokens = (calls: LlmCall[]): number => calls.reduce((s, c) => s + c.input_tokens + c.output_tokens + c.cache_read_tokens + c.cache_write_5m_tokens + c.cache_write_1h_tokens, 0);

/** /metrics of every replica, and a counter summed over them. */
export async function scrape(admins: number[]): Promise<{ each: string[]; sum: (name: string) => number }> {
  const each = await Promise.all(admins.map(async (p) => (await fetch(`http://127.0.0.1:${p}/metrics`)).text()));
  return { each, sum: (name) => each.reduce((s, m) => s + metricSum(m, name), 0) };
}

/** Polls the replicas until no ClickHouse row waits in their queues (at most 30 s): everything they acknowledged is in the ledger. */
export async function drained(admins: number[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await scrape(admins)).sum('tokenledger_exporter_queue_rows') > 0) {
    if (Date.now() > deadline) throw new Error('the replicas\' ClickHouse queues did not drain within 30 s');
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface LedgerTotals { n: number; usd: number; both: number }

/** ClickHouse FINAL of `ledger`: rows, cost, rows with LiteLLM's customer and Claude Code's session; polled until it holds `expect` (at most 30 s). */
export async function ledgerTotals(ledger: string, want: LlmCall[]): Promise<LedgerTotals> {
  const q = `SELECT count() AS n, sum(cost_usd) AS usd, countIf(customer LIKE 'cust-%' AND session_id != '') AS both FROM ${ledger}.llm_calls FINAL FORMAT JSONEachRow`;
  let totals: LedgerTotals = { n: 0, usd: 0, both: 0 };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const res = await fetch(`${SERVER_URL}/?query=${encodeURIComponent(q)}`, { method: 'POST' });
    if (res.ok) {
      const row = JSON.parse(await res.text()) as { n: string; usd: number; both: string };
      totals = { n: Number(row.n), usd: row.usd, both: Number(row.both) };
      if (totals.n >= want.length && Math.abs(totals.usd - usd(want)) < 1e-9) break;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return totals;
}

export const bothSources = (calls: LlmCall[]): number => calls.filter((c) => c.customer.startsWith('cust-') && c.session_id !== '').length;

/** Drops `ledger` from the ClickHouse server. */
export const dropLedger = (ledger: string) => fetch(`${SERVER_URL}/?query=${encodeURIComponent(`DROP DATABASE IF EXISTS ${ledger}`)}`, { method: 'POST' });

export const newLedger = (): string => `tl_test_replicas_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
