import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { emptyCall, type LlmCall } from '../../../core/llm-call.js';
import { defaults, type ClickhouseConfig } from '../../../exporters/clickhouse/config.js';
import { answers, freePort } from '../../helpers/net.js';

export const SERVER_URL = process.env.TOKENLEDGER_CLICKHOUSE_URL ?? 'http://127.0.0.1:8123';

/** A deterministic call: cost (i+1)/1000 USD, spread over teams, models, days and dimensions. */
export function makeCall(i: number, over: Partial<LlmCall> = {}): LlmCall {
  const day = 20 + (i % 3);
  return {
    ...emptyCall(),
    call_id: `call-${i}`,
    timestamp: `2026-11-${day}T10:${String(i % 60).padStart(2, '0')}:05.123456789Z`,
    duration_ms: 1234.5, ttft_ms: i % 2 ? 321 : null, trace_id: 'ab'.repeat(16), span_id: 'cd'.repeat(8),
    source: 'litellm', source_version: '1.80.11', route: 'anthropic_messages', provider: i % 4 === 3 ? 'openai' : 'anthropic',
    model: i % 4 === 3 ? 'gpt-4o' : 'claude-sonnet-4-5', model_raw: 'anthropic/claude-sonnet-4-5', region: 'us',
    input_tokens: 100 + i, output_tokens: 50, cache_read_tokens: 1000, cache_write_5m_tokens: 10, cache_write_1h_tokens: 0,
    cost_usd: (i + 1) / 1000, reported_cost_usd: i % 5 === 0 ? 0.5 : null, price_ref: 'genai-prices:anthropic/claude-sonnet-4-5',
    status: 'ok', error_type: '', streaming: i % 2 === 0, user: `u${i % 7}`, team: ['search', 'ads', ''][i % 3],
    key_alias: 'k1', customer: `c${i % 2}`, tags: ['a', `t${i % 3}`], dimensions: { project: `p${i % 2}`, env: 'prod' },
    session_id: '', service_name: 'litellm', attributes: { 'http.status': '200' },
    ...over,
  };
}

/** Sum of (i+1)/1000 for the given call indexes: what the table must hold. */
export const expectedCost = (ids: number[]): number => ids.reduce((s, i) => s + (i + 1) / 1000, 0);

export function testDatabase(tag: string): string {
  return `tl_test_${tag}_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
}

export function serverConfig(database: string, over: Partial<ClickhouseConfig> = {}): ClickhouseConfig {
  return {
    ...defaults, mode: 'server', url: SERVER_URL, database, rollup_refresh: '100s',
    batch: { max_rows: 500, max_delay: '20ms' }, queue: { type: 'memory', path: '', max_bytes: 64 << 20 },
    retry: { initial_interval: '20ms', max_interval: '200ms', max_elapsed: '0s' }, ...over,
  };
}

export const serverUp = (url: string = SERVER_URL): Promise<boolean> => answers(`${url}/ping`);

export async function rows<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  const rs = await client.query({ query, format: 'JSONEachRow' });
  return rs.json<T>();
}

/** count, distinct call_ids and cost as the deduplicated table reports them. */
export async function totals(client: ClickHouseClient, db: string, table = 'llm_calls'): Promise<{ n: number; ids: number; cost: number }> {
  const [r] = await rows<{ n: string; ids: string; cost: number }>(client, `SELECT count() AS n, uniqExact(call_id) AS ids, sum(cost_usd) AS cost FROM ${db}.${table} FINAL`);
  return { n: Number(r.n), ids: Number(r.ids), cost: Number(r.cost) };
}

/** Debian puts clickhouse-server in /usr/sbin, which a non-root PATH may lack. */
export function clickhouseServerBinary(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v clickhouse-server || ls /usr/sbin/clickhouse-server /usr/bin/clickhouse-server 2>/dev/null'], { encoding: 'utf8' });
  return r.stdout.split('\n')[0].trim() || undefined;
}

/**
 * A clickhouse-server of our own (the Debian binary) on free ports with its own data directory,
 * so that fault tests can stop and start it without touching the shared one on :8123.
 */
export class PrivateServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'tl-chs-'));
  private proc: ChildProcess | undefined;
  httpPort = 0;

  get url(): string { return `http://127.0.0.1:${this.httpPort}`; }

  async start(): Promise<void> {
    if (!this.httpPort) {
      this.httpPort = await freePort();
      const tcpPort = await freePort();
      for (const d of ['data', 'tmp', 'log']) mkdirSync(join(this.dir, d), { recursive: true });
      writeFileSync(join(this.dir, 'users.xml'), `<?xml version="1.0"?><yandex><profiles><default/></profiles>
<users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
<quotas><default/></quotas></yandex>`);
      writeFileSync(join(this.dir, 'config.xml'), `<?xml version="1.0"?><yandex>
<logger><level>warning</level><log>${this.dir}/log/server.log</log><errorlog>${this.dir}/log/err.log</errorlog></logger>
<http_port>${this.httpPort}</http_port><tcp_port>${tcpPort}</tcp_port><listen_host>127.0.0.1</listen_host>
<path>${this.dir}/data/</path><tmp_path>${this.dir}/tmp/</tmp_path><users_config>${this.dir}/users.xml</users_config>
<default_profile>default</default_profile><default_database>default</default_database>
<mark_cache_size>5368709</mark_cache_size></yandex>`);
    }
    const bin = clickhouseServerBinary();
    if (!bin) throw new Error('clickhouse-server binary not found');
    this.proc = spawn(bin, [`--config-file=${join(this.dir, 'config.xml')}`], { stdio: 'ignore' });
    const deadline = Date.now() + 20_000;
    while (!(await serverUp(this.url))) {
      if (Date.now() > deadline) throw new Error(`private clickhouse-server did not answer on ${this.url}; see ${this.dir}/log`);
      if (this.proc.exitCode !== null) throw new Error(`private clickhouse-server exited with ${this.proc.exitCode}; see ${this.dir}/log`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGKILL: the server vanishes mid-request, as in a crash or a network cut. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }
}
