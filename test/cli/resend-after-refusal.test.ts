import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_URL, serverUp, testDatabase, totals } from '../exporters/clickhouse/helpers.js';
import { FIXTURES, loadScenario, normalizer, runAll } from '../processors/claude-normalizer/helpers.js';
import { serviceAvailable } from '../helpers/services.js';
import { freePort, RunningCli } from './cli-process.js';

/**
 * The real `tokenledger run` with a ClickHouse server exporter whose memory queue holds a few
 * requests' rows (more than the largest one's, about 20 KB, or that one is refused for ever): a
 * burst of every LiteLLM fixture request at once fills it, the receiver answers
 * 503 and the client re-sends (as OTel exporters do) until accepted. Every call must be stored and
 * counted in /metrics exactly once: none dropped as a duplicate of the refused attempt, none twice.
 */
const VERSIONS = ['1.80.11', '1.81.3', '1.108.7'];
const up = await serverUp();
const run = serviceAvailable('clickhouse-server', up, `nothing answers ${SERVER_URL}/ping`);

interface Request { body: Buffer; contentType: string; path: string }

function requests(version: string): Request[] {
  const dir = join(FIXTURES, 'litellm', version, 'default');
  return readFileSync(join(dir, 'index.jsonl'), 'utf8').trim().split('\n')
    .map((l) => JSON.parse(l) as { file: string; url: string; content_type: string })
    .map((e) => ({ body: readFileSync(join(dir, e.file)), contentType: e.content_type, path: e.url }));
}

describe.runIf(run)('tokenledger run: requests refused under a burst (ClickHouse queue full), then re-sent', () => {
  const db = testDatabase('resend');
  let client: ClickHouseClient;
  let cli: RunningCli | undefined;
  beforeAll(() => { client = createClient({ url: SERVER_URL }); });
  afterAll(async () => {
    await cli?.stop('SIGKILL');
    await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    await client.close();
  });

  it('stores and counts every call once', async () => {
    const [http, admin] = [await freePort(), await freePort()];
    const dir = mkdtempSync(join(tmpdir(), 'tl-resend-'));
    const file = join(dir, 'pipeline.yaml');
    writeFileSync(file, `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${http}
processors:
  claude-normalizer:
  cost-enrichment:
exporters:
  clickhouse:
    mode: server
    url: ${SERVER_URL}
    database: ${db}
    batch: { max_rows: 50, max_delay: 200ms }
    queue: { type: memory, max_bytes: 40960 }
    retry: { initial_interval: 50ms, max_interval: 200ms }
  prometheus:
service:
  pipelines:
    llm:
      receivers: [otlp]
      processors: [claude-normalizer, cost-enrichment]
      exporters: [clickhouse, prometheus]
  telemetry:
    logs: { level: info }
    admin: { endpoint: 127.0.0.1:${admin} }
  shutdown_timeout: 5s
`);
    cli = new RunningCli(['run', '-c', file]);
    await cli.waitFor('stderr', '"msg":"pipeline running"', 60_000);

    let refused = 0;
    /** An OTLP/HTTP client: re-sends the same bytes while answered 503, as the OTel exporters do. */
    const send = async (r: Request): Promise<void> => {
      for (let attempt = 0; attempt < 200; attempt++) {
        const res = await fetch(`http://127.0.0.1:${http}${r.path}`, { method: 'POST', headers: { 'content-type': r.contentType }, body: r.body });
        await res.arrayBuffer();
        if (res.status === 200) return;
        expect(res.status).toBe(503);
        refused++;
        await new Promise((done) => setTimeout(done, 50 + Math.random() * 100));
      }
      throw new Error(`${r.path} still refused after 200 attempts`);
    };
    await Promise.all(VERSIONS.flatMap(requests).map(send));

    const want = new Set(VERSIONS.flatMap((v) => runAll(normalizer().n, loadScenario(join(FIXTURES, 'litellm', v, 'default'))).flatMap((b) => b.calls.map((c) => c.call_id))));
    expect(want.size).toBeGreaterThan(100);
    expect(refused, 'the burst must overflow the queue, or this test proves nothing').toBeGreaterThan(0);

    // The exporter flushes within max_delay plus retries; poll until the table holds everything.
    const deadline = Date.now() + 30_000;
    let stored = await totals(client, db).catch(() => ({ n: 0, ids: 0, cost: 0 }));
    while (stored.n < want.size && Date.now() < deadline) {
      await new Promise((done) => setTimeout(done, 200));
      stored = await totals(client, db).catch(() => stored);
    }
    const [raw] = await (await client.query({ query: `SELECT count() AS n FROM ${db}.llm_calls`, format: 'JSONEachRow' })).json<{ n: string }>();
    const ids = await (await client.query({ query: `SELECT DISTINCT call_id FROM ${db}.llm_calls`, format: 'JSONEachRow' })).json<{ call_id: string }>();
    expect(new Set(ids.map((r) => r.call_id))).toEqual(want);
    expect(stored).toMatchObject({ n: want.size, ids: want.size });
    // Not even a duplicate row waiting for a merge: the refused attempts never reached the table.
    expect(Number(raw.n)).toBe(want.size);

    const metrics = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
    const counted = metrics.split('\n').filter((l) => l.startsWith('tokenledger_llm_calls_total{')).reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    expect(counted).toBe(want.size);
    process.stdout.write(`resend e2e: ${want.size} calls, ${refused} requests answered 503 and re-sent; ${raw.n} rows, ${counted} counted\n`);
  }, 120_000);
});
