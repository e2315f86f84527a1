import { afterAll, describe, expect, it } from 'vitest';
import { metricSum } from '../e2e/harness/tokenledger.js';
import { RedisServer, redisAvailable } from '../helpers/redis.js';
import { serviceAvailable } from '../helpers/services.js';
import { SERVER_URL, serverUp } from '../exporters/clickhouse/helpers.js';
import { freePort, type RunningCli } from './cli-process.js';
import { bothSources, drained, dropLedger, ledgerTotals, loadCapture, newLedger, post, requestsOf, Scope, scrape, singleProcess, tokens, usd } from './replicas.js';
import { haproxyAvailable } from '../helpers/haproxy.js';

/**
 * Two `tokenledger run` replicas sharing one Redis join store behind Debian's haproxy, round robin:
 * every export of the real Claude Code → LiteLLM capture goes through the load balancer, and every
 * other one is sent twice (a client retrying the same bytes, which round robin hands to the other replica).
 * The sum of /metrics over both replicas is what one process bills for the capture, exactly.
 */
const hasRedis = redisAvailable();
const hasHaproxy = haproxyAvailable();
const chServer = serviceAvailable('clickhouse-server', await serverUp(), `nothing answers on ${SERVER_URL}`);

const scope = new Scope();
afterAll(() => scope.close());

describe.runIf(hasRedis && hasHaproxy)('two tokenledger run replicas on one Redis behind haproxy', () => {
  it('every export through round robin, every other one sent twice (the retry lands on the other replica): the sum of /metrics over replicas is what one process bills', async () => {
    const batches = loadCapture();
    const { billed, final } = singleProcess(batches, scope.dir);
    expect(billed.length).toBe(12);

    const redis = await RedisServer.start();
    scope.defer(() => redis.close());
    const [httpA, httpB, adminA, adminB, lb] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    await scope.replica(redis.url, httpA, adminA);
    await scope.replica(redis.url, httpB, adminB);
    await scope.haproxy(lb, [httpA, httpB]);

    let sent = 0;
    for (const b of batches) {
      for (const [signal, body] of requestsOf(b)) {
        await post(`http://127.0.0.1:${lb}/v1/${signal}`, body);
        // Every other request is retried: round robin then gives first copies to both replicas.
        if (sent++ % 2 === 0) await post(`http://127.0.0.1:${lb}/v1/${signal}`, body);
      }
    }
    const { each, sum } = await scrape([adminA, adminB]);
    process.stderr.write(`per replica: ${each.map((m) => metricSum(m, 'tokenledger_llm_calls_total') + ' calls ' + metricSum(m, 'tokenledger_normalizer_duplicates_total') + ' dups').join(', ')}\n`);
    expect(each.map((m) => metricSum(m, 'tokenledger_llm_calls_total')).every((n) => n > 0)).toBe(true); // both replicas billed some
    expect(sum('tokenledger_llm_calls_total')).toBe(billed.length);
    // Calls as first billed, plus the rise of the updates that restore a 5m/1h split: the ledger's cost.
    expect(sum('tokenledger_llm_cost_usd_total')).toBeCloseTo(usd(final), 9);
    expect(sum('tokenledger_llm_tokens_total')).toBe(tokens(billed));
    expect(sum('tokenledger_normalizer_duplicates_total')).toBeGreaterThan(0);
    expect(sum('tokenledger_normalizer_join_store_errors_total')).toBe(0);
    process.stderr.write(`two replicas behind haproxy: ${sum('tokenledger_llm_calls_total')} calls, $${sum('tokenledger_llm_cost_usd_total').toFixed(6)} (one process: ${billed.length}, $${usd(final).toFixed(6)})\n`);
  }, 120_000);

  it.runIf(chServer)('replica A killed (-9) mid-traffic and restarted: ClickHouse FINAL holds one row per call, both sources\' attribution, the cost one process bills', async () => {
    const batches = loadCapture();
    const { final } = singleProcess(batches, scope.dir);
    const ledger = newLedger();
    const redis = await RedisServer.start();
    scope.defer(() => redis.close());
    scope.defer(() => dropLedger(ledger));
    const [httpA, httpB, adminA, adminB, lb] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    const a = await scope.replica(redis.url, httpA, adminA, ledger);
    await scope.replica(redis.url, httpB, adminB, ledger);
    await scope.haproxy(lb, [httpA, httpB]);
    let sent = 0;
    let restarted: Promise<RunningCli> | undefined;
    for (const [i, b] of batches.entries()) {
      if (i === Math.floor(batches.length / 2)) {
        await a.stop('SIGKILL');
        restarted = scope.replica(redis.url, httpA, adminA, ledger); // while traffic goes on: requests haproxy sends to A meanwhile get 503 and are retried
      }
      for (const [signal, body] of requestsOf(b)) {
        await post(`http://127.0.0.1:${lb}/v1/${signal}`, body);
        if (sent++ % 2 === 0) await post(`http://127.0.0.1:${lb}/v1/${signal}`, body);
      }
    }
    await restarted;
    await drained([adminA, adminB]);
    const totals = await ledgerTotals(ledger, final);
    expect(totals.n).toBe(final.length);
    expect(totals.usd).toBeCloseTo(usd(final), 9);
    expect(totals.both).toBe(bothSources(final));
    process.stderr.write(`kill -9 behind haproxy: ClickHouse FINAL ${totals.n} rows, $${totals.usd.toFixed(6)}, ${totals.both} with LiteLLM's customer and Claude Code's session (one process: ${final.length}, $${usd(final).toFixed(6)})\n`);
  }, 180_000);
});
