/**
 * Runs the built tokenledger CLI (`node dist/bin/tokenledger.js run -c pipeline.yaml`) as a child
 * process with the shipped pipeline shape — OTLP gRPC + HTTP in, claude-normalizer,
 * cost-enrichment, embedded ClickHouse and Prometheus out — on free loopback ports, and reads back
 * what it stored.
 */
import { Session } from 'chdb';
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { REPO_ROOT } from '../harness/litellm.js';
import { freePort, waitForHttp } from '../harness/net.js';

export const TOKENLEDGER_JS = join(REPO_ROOT, 'dist/bin/tokenledger.js');
export const CLICKHOUSE_SERVER_URL = process.env.TOKENLEDGER_CLICKHOUSE_URL ?? 'http://127.0.0.1:8123';

/** Where the clickhouse exporter writes: embedded chDB in the work dir, or a fresh database on a server. */
export type ClickhouseTarget = { mode: 'embedded' } | { mode: 'server'; url: string; database: string };

/** Whether a ClickHouse server answers /ping (a refused connection means no). */
export function clickhouseServerUp(url = CLICKHOUSE_SERVER_URL): Promise<boolean> {
  return fetch(`${url}/ping`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
}

export function tokenledgerBuilt(): boolean {
  return existsSync(TOKENLEDGER_JS);
}

export interface Tokenledger {
  grpcEndpoint: string;
  httpEndpoint: string;
  adminUrl: string;
  clickhouse: ClickhouseTarget;
  /** Embedded ClickHouse data directory. */
  dataPath: string;
  logFile: string;
  /** GET /metrics as text. */
  metrics(): Promise<string>;
  /** SIGTERM (drains the queues into ClickHouse), SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  /** The last `n` characters of its log, for assertion messages. */
  logTail(n?: number): string;
  /** The stored rows, deduplicated (FINAL); in embedded mode only once stopped (chDB allows one process). */
  calls<Row>(): Promise<Row[]>;
  /** Drops the server database (server mode); the work dir is the caller's. */
  dropDatabase(): Promise<void>;
}

export function pipelineConfig(ports: { grpc: number; http: number; admin: number }, dataPath: string, clickhouse: ClickhouseTarget): Record<string, unknown> {
  const exporter = clickhouse.mode === 'embedded' ? { mode: 'embedded', path: dataPath } : clickhouse;
  return {
    receivers: { otlp: { protocols: { grpc: { endpoint: `127.0.0.1:${ports.grpc}` }, http: { endpoint: `127.0.0.1:${ports.http}` } } } },
    processors: { 'claude-normalizer': {}, 'cost-enrichment': {} },
    exporters: { clickhouse: exporter, prometheus: {} },
    service: {
      pipelines: { llm: { receivers: ['otlp'], processors: ['claude-normalizer', 'cost-enrichment'], exporters: ['clickhouse', 'prometheus'] } },
      telemetry: { logs: { level: 'debug' }, admin: { endpoint: `127.0.0.1:${ports.admin}` } },
    },
  };
}

export async function startTokenledger(workDir: string, clickhouse: ClickhouseTarget = { mode: 'embedded' }): Promise<Tokenledger> {
  const ports = { grpc: await freePort(), http: await freePort(), admin: await freePort() };
  const dataPath = join(workDir, 'clickhouse');
  const configPath = join(workDir, 'pipeline.yaml');
  writeFileSync(configPath, stringify(pipelineConfig(ports, dataPath, clickhouse)));
  const logFile = join(workDir, 'tokenledger.log');
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, [TOKENLEDGER_JS, 'run', '-c', configPath], {
    cwd: workDir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: workDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const adminUrl = `http://127.0.0.1:${ports.admin}`;
  const logTail = (n = 4000): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-n) : '');
  try {
    await waitForHttp(`${adminUrl}/readyz`, 60_000, exited);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`tokenledger did not become ready: ${(err as Error).message}\n${logTail()}`);
  }
  return {
    grpcEndpoint: `http://127.0.0.1:${ports.grpc}`,
    httpEndpoint: `http://127.0.0.1:${ports.http}`,
    adminUrl,
    clickhouse,
    dataPath,
    logFile,
    logTail,
    async calls<Row>() {
      if (clickhouse.mode === 'embedded') return embeddedCalls<Row>(dataPath);
      return serverQuery<Row>(clickhouse.url, `SELECT * FROM ${clickhouse.database}.llm_calls FINAL ORDER BY timestamp, call_id FORMAT JSONEachRow`);
    },
    async dropDatabase() {
      if (clickhouse.mode === 'server') await serverQuery(clickhouse.url, `DROP DATABASE IF EXISTS ${clickhouse.database}`);
    },
    async metrics() {
      const res = await fetch(`${adminUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`GET /metrics: HTTP ${res.status}`);
      return res.text();
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

function embeddedCalls<Row>(dataPath: string): Row[] {
  const session = new Session(dataPath);
  try {
    const out = session.query('SELECT * FROM tokenledger.llm_calls FINAL ORDER BY timestamp, call_id', 'JSONEachRow');
    return out.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Row);
  } finally {
    session.close();
  }
}

async function serverQuery<Row>(url: string, query: string): Promise<Row[]> {
  const res = await fetch(url, { method: 'POST', body: query, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`ClickHouse ${url}: HTTP ${res.status}: ${text.slice(0, 500)}`);
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Row);
}

/** Samples of one metric from Prometheus text exposition, with their labels. */
export function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  const line = new RegExp(`^${name}(?:\\{(.*)\\})? (\\S+)$`);
  const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (const l of text.split('\n')) {
    const m = line.exec(l);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const lm of (m[1] ?? '').matchAll(label)) labels[lm[1]] = lm[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ labels, value: Number(m[2]) });
  }
  return out;
}

/** Sum of the samples of `name` whose labels include `match`. */
export function sumOf(text: string, name: string, match: Record<string, string> = {}): number {
  return samples(text, name)
    .filter((s) => Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}
