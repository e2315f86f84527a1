/**
 * Runs the built tokenledger CLI (`node dist/bin/tokenledger.js run -c pipeline.yaml`) with the
 * shipped pipeline shape on fixed loopback ports, so that it can be stopped and started again on
 * the same ports and data while a LiteLLM proxy keeps exporting to it; reads back what it stored.
 */
import { createClient } from '@clickhouse/client';
import { Session } from 'chdb';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { LlmCall } from '../../../core/llm-call.js';
import { REPO_ROOT } from './litellm.js';
import { freePort, waitForHttp } from '../../helpers/net.js';

/** The built CLI; TOKENLEDGER_E2E_BIN points elsewhere (e.g. a build of a clean checkout). */
export const TOKENLEDGER_JS = process.env.TOKENLEDGER_E2E_BIN ?? join(REPO_ROOT, 'dist/bin/tokenledger.js');

export type ClickhouseTarget = { mode: 'embedded'; path: string } | { mode: 'server'; url: string; database: string };

export interface TokenledgerPorts {
  grpc: number;
  http: number;
  admin: number;
}

export interface TokenledgerProcess {
  ports: TokenledgerPorts;
  httpEndpoint: string;
  grpcEndpoint: string;
  adminUrl: string;
  metrics(): Promise<string>;
  /** SIGHUP; resolves once tokenledger counts the reload as done (`tokenledger_config_reloads_total{result="ok"}` moved). */
  reload(timeoutMs?: number): Promise<void>;
  stop(graceMs?: number): Promise<number | null>;
  logTail(n?: number): string;
  /** Writes a V8 heap snapshot of the running process (started with `heapSnapshots`) and returns its path. */
  heapSnapshot(timeoutMs?: number): Promise<string>;
}

export async function allocatePorts(): Promise<TokenledgerPorts> {
  return { grpc: await freePort(), http: await freePort(), admin: await freePort() };
}

export interface TokenledgerOptions {
  /** Numbers the log file, so that restarts keep the earlier logs. */
  run?: number;
  /** Config blocks of the pipeline's processors, e.g. `{ 'claude-normalizer': { claude_code: { usage_from: 'metrics' } } }`. */
  processors?: { 'claude-normalizer'?: Record<string, unknown>; 'cost-enrichment'?: Record<string, unknown> };
  /** Config of a `budget` exporter added to the pipeline (its ledger: the clickhouse exporter). */
  budget?: Record<string, unknown>;
  /** Bearer token of the admin server (/metrics and /api/v1/...); the harness sends it. */
  adminToken?: string;
  /** Node writes a heap snapshot on SIGUSR2 (`--heapsnapshot-signal`), into `<workDir>/heap`. */
  heapSnapshots?: boolean;
}

function pipeline(ports: TokenledgerPorts, ch: ClickhouseTarget, queuePath: string, opts: TokenledgerOptions): Record<string, unknown> {
  const clickhouse = ch.mode === 'embedded' ? { mode: 'embedded', path: ch.path } : { mode: 'server', url: ch.url, database: ch.database };
  const processors = opts.processors ?? {};
  const budget = opts.budget ? { budget: { ledger: 'clickhouse', ...opts.budget } } : {};
  return {
    receivers: { otlp: { protocols: { grpc: { endpoint: `127.0.0.1:${ports.grpc}` }, http: { endpoint: `127.0.0.1:${ports.http}` } } } },
    processors: { 'claude-normalizer': processors['claude-normalizer'] ?? {}, 'cost-enrichment': processors['cost-enrichment'] ?? {} },
    // A disk queue, as in the shipped pipeline.yaml: what was acknowledged survives a restart.
    exporters: { clickhouse: { ...clickhouse, queue: { type: 'disk', path: queuePath } }, prometheus: {}, ...budget },
    service: {
      pipelines: { llm: { receivers: ['otlp'], processors: ['claude-normalizer', 'cost-enrichment'], exporters: ['clickhouse', 'prometheus', ...Object.keys(budget)] } },
      telemetry: { logs: { level: 'info' }, admin: { endpoint: `127.0.0.1:${ports.admin}`, ...(opts.adminToken ? { auth: { bearer_tokens: [opts.adminToken] } } : {}) } },
    },
  };
}

/** Starts tokenledger with the shipped pipeline shape, its processors configured by `opts.processors`. */
export async function startTokenledger(workDir: string, ports: TokenledgerPorts, ch: ClickhouseTarget, opts: TokenledgerOptions = {}): Promise<TokenledgerProcess> {
  const run = opts.run ?? 1;
  const configPath = join(workDir, 'pipeline.yaml');
  writeFileSync(configPath, stringify(pipeline(ports, ch, join(workDir, 'queue'), opts)));
  const logFile = join(workDir, `tokenledger.${run}.log`);
  const log = createWriteStream(logFile);
  const heapDir = join(workDir, 'heap');
  if (opts.heapSnapshots) mkdirSync(heapDir, { recursive: true });
  const nodeArgs = opts.heapSnapshots ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${heapDir}`] : [];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, TOKENLEDGER_JS, 'run', '-c', configPath], {
    cwd: workDir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: workDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const adminUrl = `http://127.0.0.1:${ports.admin}`;
  const logTail = (n = 4000): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-n) : '');
  try {
    await waitForHttp(`${adminUrl}/readyz`, 60_000, exited);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`tokenledger did not become ready: ${(err as Error).message}\n${logTail()}`);
  }
  const metrics = async (): Promise<string> => {
    const res = await fetch(`${adminUrl}/metrics`, { signal: AbortSignal.timeout(5000), headers: opts.adminToken ? { authorization: `Bearer ${opts.adminToken}` } : {} });
    if (!res.ok) throw new Error(`GET /metrics: HTTP ${res.status}`);
    return res.text();
  };
  return {
    ports,
    httpEndpoint: `http://127.0.0.1:${ports.http}`,
    grpcEndpoint: `http://127.0.0.1:${ports.grpc}`,
    adminUrl,
    logTail,
    metrics,
    async reload(timeoutMs = 60_000) {
      const reloaded = async () => metricSum(await metrics(), 'tokenledger_config_reloads_total', { result: 'ok' });
      const before = await reloaded();
      child.kill('SIGHUP');
      const deadline = Date.now() + timeoutMs;
      while ((await reloaded()) === before) {
        if (Date.now() > deadline) throw new Error(`tokenledger did not reload within ${timeoutMs} ms\n${logTail()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async heapSnapshot(timeoutMs = 120_000) {
      if (!opts.heapSnapshots) throw new Error('heapSnapshot() needs startTokenledger(..., { heapSnapshots: true })');
      const snapshots = (): string[] => readdirSync(heapDir).filter((f) => f.endsWith('.heapsnapshot'));
      const before = new Set(snapshots());
      child.kill('SIGUSR2');
      const deadline = Date.now() + timeoutMs;
      let file: string | undefined;
      while ((file = snapshots().find((f) => !before.has(f))) === undefined) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no heap snapshot in ${heapDir} within ${timeoutMs} ms\n${logTail()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      // Node writes it synchronously on its event loop: once the process answers again, the file is complete.
      await waitForHttp(`${adminUrl}/readyz`, Math.max(deadline - Date.now(), 1000), exited);
      return join(heapDir, file);
    },
    async stop(graceMs = 30_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      log.end();
      return code;
    },
  };
}

/** A stored row as the e2e reads it (18.16 returns the timestamp and maps in its own types, so only these). */
export type CallRow = Pick<LlmCall, 'call_id' | 'route' | 'provider' | 'model' | 'model_raw' | 'input_tokens' | 'output_tokens'
  | 'cache_read_tokens' | 'cache_write_5m_tokens' | 'cache_write_1h_tokens' | 'cost_usd' | 'reported_cost_usd' | 'status'
  | 'error_type' | 'streaming' | 'customer' | 'user' | 'team' | 'key_alias' | 'tags' | 'source_version'> & { attributes?: Record<string, string>; dimensions?: Record<string, string> };

const SELECT = (db: string): string => `SELECT * FROM ${db}.llm_calls FINAL ORDER BY call_id`;

/** Every stored row: from a stopped tokenledger's embedded data directory, or from the server. */
export async function readCalls(ch: ClickhouseTarget): Promise<CallRow[]> {
  let text: string;
  if (ch.mode === 'embedded') {
    const session = new Session(ch.path);
    try {
      text = session.query(SELECT('tokenledger'), 'JSONEachRow');
    } finally {
      session.close();
    }
  } else {
    const client = createClient({ url: ch.url });
    try {
      text = await (await client.query({ query: SELECT(ch.database), format: 'JSONEachRow' })).text();
    } finally {
      await client.close();
    }
  }
  return text.split('\n').filter((l) => l !== '').map((l) => normalizeRow(JSON.parse(l) as Record<string, unknown>));
}

const NUMERIC: (keyof CallRow)[] = ['input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_5m_tokens', 'cache_write_1h_tokens', 'cost_usd'];

/** ClickHouse's JSON quotes 64-bit integers and writes booleans as 0/1 on older servers: make them numbers and booleans. */
function normalizeRow(raw: Record<string, unknown>): CallRow {
  const row = raw as unknown as CallRow & Record<string, unknown>;
  for (const k of NUMERIC) row[k] = Number(raw[k]) as never;
  row.streaming = raw.streaming === true || raw.streaming === 1 || raw.streaming === '1' || raw.streaming === 'true';
  return row;
}

/** The spans tokenledger's OTLP receiver has accepted so far: what a LiteLLM proxy exporting to it has delivered. */
export async function acceptedSpans(tl: TokenledgerProcess): Promise<number> {
  return metricSum(await tl.metrics(), 'tokenledger_receiver_accepted_items_total', { signal: 'traces' });
}

/** Sum of the samples of a Prometheus metric whose labels include `match`. */
export function metricSum(exposition: string, name: string, match: Record<string, string> = {}): number {
  let sum = 0;
  const line = new RegExp(`^${name}(?:\\{(.*)\\})? (\\S+)$`);
  for (const l of exposition.split('\n')) {
    const m = line.exec(l);
    if (!m) continue;
    const labels = m[1] ?? '';
    if (Object.entries(match).every(([k, v]) => new RegExp(`(^|,)${k}="${v}"`).test(labels))) sum += Number(m[2]);
  }
  return sum;
}
