import { afterAll, describe, expect, it } from 'vitest';
import { metricSum } from '../e2e/harness/tokenledger.js';
import { RedisServer, redisAvailable } from '../helpers/redis.js';
import { serviceAvailable } from '../helpers/services.js';
import { SERVER_URL, serverUp } from '../exporters/clickhouse/helpers.js';
import { freePort, type RunningCli } from './cli-process.js';
import { bothSources, drained, dropLedger, fromClaudeCode, ledgerTotals, loadCapture, newLedger, post, requestsOf, Scope, scrape, singleProcess, tokens, usd } from './replicas.js';
import { haproxyAvailable } from '../helpers/haproxy.js';

/**
 * Two `tokenledger run` replicas on one Redis join store behind Debian's haproxy (round robin),
 * writing one ClickHouse server ledger, while the real Claude Code → LiteLLM capture is replayed
 * by a client that retries refusals as OTLP exporters do — and Redis fails mid-traffic.
 */
const hasRedis = redisAvailable();
const hasHaproxy = haproxyAvailable();
const chServer = serviceAvailable('clickhouse-server', await serverUp(), `nothing answers on ${SERVER_URL}`);

const scope = new Scope();
afterAll(() => scope.close());

const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));

interface Deployment { redis: RedisServer; ledger: string; a: RunningCli; b: RunningCli; http: number[]; admin: number[]; lb: string }

async function deploy(): Promise<Deployment> {
  const ledger = newLedger();
  const redis = await RedisServer.start();
  scope.defer(() => redis.close());
  scope.defer(() => dropLedger(ledger));
  const [httpA, httpB, adminA, adminB, lb] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const a = await scope.replica(redis.url, httpA, adminA, ledger);
  const b = await scope.replica(redis.url, httpB, adminB, ledger);
  await scope.haproxy(lb, [httpA, httpB]);
  return { redis, ledger, a, b, http: [httpA, httpB], admin: [adminA, adminB], lb: `http://127.0.0.1:${lb}` };
}

/** One POST straight to a replica: its status and Retry-After. */
async function probe(port: number, signal: string, body: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/${signal}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await res.text();
  return `${res.status} retry-after=${res.headers.get('retry-after')}`;
}

describe.runIf(hasRedis && hasHaproxy && chServer)('two tokenledger run replicas when their Redis fails mid-traffic', () => {
  it('Redis frozen (SIGSTOP) 15 s, then killed (-9) and down 15 s, restarted from its append-only file: 503 meanwhile, then /metrics and ClickHouse FINAL hold exactly what one process bills', async () => {
    const batches = loadCapture();
    const { billed, final } = singleProcess(batches, scope.dir);
    const d = await deploy();
    const requests = batches.map(requestsOf);
    const [firstSignal, firstBody] = requests[0][0];

    const refused: number[] = [];
    const probes: Record<string, string[]> = { frozen: [], down: [] };
    const outage = async (): Promise<void> => {
      const t0 = Date.now();
      d.redis.pause();
      // An export already billed, re-sent to each replica: it cannot be told from a new one, so it is refused.
      for (const port of d.http) probes.frozen.push(await probe(port, firstSignal, firstBody));
      await sleepUntil(t0 + 15_000);
      await d.redis.crash();
      await new Promise((r) => setTimeout(r, 500));
      for (const port of d.http) probes.down.push(await probe(port, firstSignal, firstBody));
      await sleepUntil(t0 + 30_000);
      await d.redis.restart();
      process.stderr.write(`Redis back after ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    };

    let sent = 0;
    let down: Promise<void> | undefined;
    for (const [i, reqs] of requests.entries()) {
      if (i === Math.floor(requests.length / 2)) {
        down = outage();
        down.catch(() => {}); // awaited below; this only keeps a failure from going unhandled meanwhile
      }
      for (const [signal, body] of reqs) {
        // The 30 s outage plus reconnects: an OTLP exporter's default retry budget is minutes.
        await post(`${d.lb}/v1/${signal}`, body, 90_000, (res) => refused.push(res.status));
        if (sent++ % 2 === 0) await post(`${d.lb}/v1/${signal}`, body, 90_000, (res) => refused.push(res.status));
      }
    }
    await down;
    // Clients that lost their acknowledgements re-send every export: the claims survived in the append-only file.
    for (const reqs of requests) for (const [signal, body] of reqs) await post(`${d.lb}/v1/${signal}`, body, 30_000, (res) => refused.push(res.status));

    process.stderr.write(`probes while frozen: ${probes.frozen.join(', ')}; while down: ${probes.down.join(', ')}; the client was refused ${refused.length} times (${[...new Set(refused)].join(', ')})\n`);
    expect(probes.frozen).toEqual(['503 retry-after=1', '503 retry-after=1']);
    expect(probes.down).toEqual(['503 retry-after=1', '503 retry-after=1']);
    expect(refused.length).toBeGreaterThan(0);
    expect(new Set(refused)).toEqual(new Set([503]));

    const { each, sum } = await scrape(d.admin);
    const errors = each.map((m) => metricSum(m, 'tokenledger_normalizer_join_store_errors_total'));
    process.stderr.write(`after the outage: ${sum('tokenledger_llm_calls_total')} calls, $${sum('tokenledger_llm_cost_usd_total').toFixed(6)} (one process: ${billed.length}, $${usd(final).toFixed(6)}); join store errors per replica: ${errors.join(', ')}\n`);
    expect(sum('tokenledger_llm_calls_total')).toBe(billed.length);
    expect(sum('tokenledger_llm_cost_usd_total')).toBeCloseTo(usd(final), 9);
    expect(sum('tokenledger_llm_tokens_total')).toBe(tokens(billed));
    expect(errors.every((n) => n > 0)).toBe(true);
    for (const r of [d.a, d.b]) {
      expect(r.stderr).toContain('join store: Redis command failed; batch refused (retryable)');
      expect(r.stderr).toContain('join store: Redis unreachable; batches are refused (retryable) until it returns');
      expect(r.stderr).toContain('join store: Redis reachable again');
    }

    await drained(d.admin);
    const totals = await ledgerTotals(d.ledger, final);
    expect(totals.n).toBe(final.length);
    expect(totals.usd).toBeCloseTo(usd(final), 9);
    expect(totals.both).toBe(bothSources(final));
    process.stderr.write(`Redis outage behind haproxy: ClickHouse FINAL ${totals.n} rows, $${totals.usd.toFixed(6)}, ${totals.both} with both sources (one process: ${final.length}, $${usd(final).toFixed(6)})\n`);
  }, 150_000);

  it('Redis restarted WITHOUT its data: Claude Code\'s exports re-sent afterwards are billed again, in Prometheus and in ClickHouse', async () => {
    const batches = loadCapture();
    const first = singleProcess(batches, scope.dir);
    const d = await deploy();
    for (const [signal, body] of batches.flatMap(requestsOf)) await post(`${d.lb}/v1/${signal}`, body);
    expect((await scrape(d.admin)).sum('tokenledger_llm_calls_total')).toBe(first.billed.length);

    await d.redis.crash();
    d.redis.forget();
    await d.redis.restart();
    // Claude Code's exporter re-sends its exports (acknowledgements lost, or reports within the window
    // arriving again): with the claims gone, each is what one process that never saw them bills.
    const resent = batches.filter(fromClaudeCode);
    const again = singleProcess(resent, scope.dir, first.out);
    for (const [signal, body] of resent.flatMap(requestsOf)) await post(`${d.lb}/v1/${signal}`, body, 30_000);
    await drained(d.admin);

    const { sum } = await scrape(d.admin);
    const totals = await ledgerTotals(d.ledger, again.final);
    process.stderr.write(`empty Redis, Claude Code's ${resent.length} exports re-sent: Prometheus ${sum('tokenledger_llm_calls_total')} calls (${sum('tokenledger_prometheus_resent_calls_total')} re-sent ones skipped), $${sum('tokenledger_llm_cost_usd_total').toFixed(6)} (billed once: ${first.billed.length}, $${usd(first.billed).toFixed(6)}); ClickHouse FINAL ${totals.n} rows, $${totals.usd.toFixed(6)}, ${totals.both} with both sources (billed once: ${first.final.length}, $${usd(first.final).toFixed(6)}, ${bothSources(first.final)})\n`);
    expect(again.billed.length).toBeGreaterThan(0);
    // Each replica's Prometheus exporter skips call_ids it counted recently; a re-send that lands on
    // the other replica is counted again there: between once and twice, every call accounted for.
    const skipped = sum('tokenledger_prometheus_resent_calls_total');
    expect(sum('tokenledger_llm_calls_total') + skipped).toBe(first.billed.length + again.billed.length);
    expect(sum('tokenledger_llm_calls_total')).toBeGreaterThan(first.billed.length);
    // Each re-billed call adds at most its ledger cost again (updates count only rises in price).
    expect(sum('tokenledger_llm_cost_usd_total')).toBeGreaterThan(usd(first.final));
    expect(sum('tokenledger_llm_cost_usd_total')).toBeLessThanOrEqual(2 * usd(first.final) + 1e-9);
    expect(totals.n).toBe(again.final.length);
    expect(totals.n).toBeGreaterThan(first.final.length);
    expect(totals.usd).toBeCloseTo(usd(again.final), 9);
    expect(totals.both).toBe(bothSources(again.final));
  }, 120_000);
});
