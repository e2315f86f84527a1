import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { decodeCeiling, pricingSecondsPerRecord, realisticCalls, type Rate } from './ceiling.js';
import { metricSum, threadCpu, TokenledgerChild } from './child.js';
import { fixedRate, flood, quantile, saturate, type Answers, type FloodResult, type Load, type LoadResult, type RateResult } from './load.js';
import { claudeCodeLogs, claudeCodeMetrics, CONTENT_MARKER, liteLLMTraces, type Payload } from './payload.js';
import { ensureOtelcol, OtelcolChild, OTELCOL_VERSION } from './otelcol.js';
import { topSelfTime } from './profile.js';
import { grpcTransport, httpTransport, TIMEOUT_MS, type Transport } from './transport.js';
import { defaults as chDefaults } from '../exporters/clickhouse/config.js';
import { openClient } from '../exporters/clickhouse/client.js';

/**
 * `npm run bench [-- --quick] [--profile] [--vs-otelcol] [--join-store redis] [--node-arg=FLAG ...]`: tokenledger's default pipeline as a child process
 * under load from real LiteLLM and Claude Code payloads, against the decode ceiling measured in
 * this process on the same bytes, and with --vs-otelcol against the OpenTelemetry Collector run
 * alternately on the same payloads. Prints a table, then one JSON line. Everything is bounded in
 * time; the child is killed on any error.
 */

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2).join('\u0000').replace('--join-store\u0000', '--join-store=').split('\u0000');
const unknown = argv.filter((a) => a !== '--quick' && a !== '--profile' && a !== '--vs-otelcol' && a !== '--join-store=redis' && a !== '--join-store=memory' && !a.startsWith('--node-arg='));
if (unknown.length > 0) {
  process.stderr.write(`usage: npm run bench -- [--quick] [--profile] [--vs-otelcol] [--join-store memory|redis] [--node-arg=FLAG ...]; unknown: ${unknown.join(' ')}\n`);
  process.exit(64);
}
/** The normalizer's join store: `redis` uses the Redis at TOKENLEDGER_REDIS_URL (scripts/dev-services.sh starts one). */
const joinStore = argv.includes('--join-store=redis') ? 'redis' : 'memory';
const redisUrl = process.env.TOKENLEDGER_REDIS_URL ?? 'redis://127.0.0.1:6379';
const quick = argv.includes('--quick');
const profile = argv.includes('--profile');
/** Alternate HTTP saturation rounds of the OpenTelemetry Collector (otlp → memory_limiter → batch → file) and tokenledger. */
const vsOtelcol = argv.includes('--vs-otelcol');
/** Extra node flags for the tokenledger child (e.g. --node-arg=--max-semi-space-size=64), to compare runtime settings. */
const childNodeArgs = argv.filter((a) => a.startsWith('--node-arg=')).map((a) => a.slice('--node-arg='.length));

const P = quick
  ? { storageCalls: 20_000, vsRounds: 2, warmS: 2, satS: 5, rateS: 4, largeS: 3, overS: 8, serverS: 4, ceilMs: 700, pricing: 20_000, maxCalls: 2_000_000, drainS: 15 }
  : { storageCalls: 100_000, vsRounds: 3, warmS: 3, satS: 20, rateS: 15, largeS: 10, overS: 30, serverS: 15, ceilMs: 3000, pricing: 100_000, maxCalls: 5_000_000, drainS: 60 };
const CALLS_PER_REQUEST = 100;
const CONCURRENCY = 8;
/** The overload phase: this many HTTP requests in flight from one client, beside a well-behaved one at one request every GOOD_EVERY_MS. */
const OVERLOAD_CONCURRENCY = 256;
const GOOD_EVERY_MS = 100;
const GOOD_CLIENT_ADDRESS = '127.0.0.2';
/** The flood's pause after a refusal: the OTel exporters' first backoff is about a second (the good client does not retry). */
const OVERLOAD_REFUSAL_PAUSE_MS = 1000;
const RATE_CALLS_PER_S = 5000;
const TICK_MS = 10;
/**
 * At the fixed rate, ticks are skipped (and counted) beyond this many unacknowledged requests:
 * 2 s of calls, so that on a machine too busy for the rate the backlog stays well inside the
 * client's 15 s timeout (500 let requests time out, which ended the whole run).
 */
const MAX_IN_FLIGHT = 200;
const LARGE_CALLS_PER_REQUEST = 20;
const LARGE_CONTENT_BYTES = 24_576;
const CC_EVERY = 20;
const SERVER_URL = 'http://127.0.0.1:8123';

interface Phase<L extends LoadResult = LoadResult> {
  load: L; rowsPerS: number; drained: boolean;
  /** Acknowledged calls not yet in ClickHouse when the load stopped: what the queue had gained. */
  backlog: number;
  /** CPU of tokenledger, and of this process (the load generator), from load start until all rows were written. */
  cpuSeconds: number; generatorCpuSeconds: number;
  /** tokenledger's CPU seconds over the same span by thread group (threadCpu). */
  threads: Map<string, number>;
  /** tokenledger's event-loop delay p99 and max during the load (prom-client resets them at every scrape). */
  loopP99Ms: number; loopMaxMs: number;
}

const log = (msg: string): void => { process.stderr.write(`bench: ${msg}\n`); };

/** Rows the ClickHouse exporter has written so far. */
async function sentRows(child: TokenledgerChild): Promise<number> {
  return metricSum(await child.metrics(), 'tokenledger_exporter_sent_rows_total', 'exporter="clickhouse"');
}

/** A load run, then wait until every acknowledged call is in ClickHouse; rows/s over the whole span. */
async function phase<L extends LoadResult>(child: TokenledgerChild, run: () => Promise<L>): Promise<Phase<L>> {
  const rows0 = await sentRows(child);
  const cpu0 = child.stats().cpuSeconds;
  const threads0 = threadCpu(child.pid);
  const gen0 = process.cpuUsage();
  const t0 = performance.now();
  const load = await run();
  const deadline = performance.now() + P.drainS * 1000;
  const text = await child.metrics();
  const loopP99Ms = metricSum(text, 'nodejs_eventloop_lag_p99_seconds') * 1000;
  const loopMaxMs = metricSum(text, 'nodejs_eventloop_lag_max_seconds') * 1000;
  let rows = metricSum(text, 'tokenledger_exporter_sent_rows_total', 'exporter="clickhouse"');
  const backlog = load.calls - (rows - rows0);
  while (rows - rows0 < load.calls && performance.now() < deadline) {
    await sleep(100);
    rows = await sentRows(child);
  }
  const seconds = (performance.now() - t0) / 1000;
  const gen = process.cpuUsage(gen0);
  const threads = new Map([...threadCpu(child.pid)].map(([name, cpu]) => [name, cpu - (threads0.get(name) ?? 0)]));
  return {
    threads,
    load, backlog, rowsPerS: (rows - rows0) / seconds, drained: rows - rows0 >= load.calls,
    cpuSeconds: child.stats().cpuSeconds - cpu0, generatorCpuSeconds: (gen.user + gen.system) / 1e6, loopP99Ms, loopMaxMs,
  };
}

/** One side of the comparison with the collector: spans acknowledged, load seconds, CPU until written. */
interface Side { spans: number; calls: number; seconds: number; cpuSeconds: number }
interface VersusOtelcol { otelcol: Side; tokenledger: Side; rounds: number }

/**
 * Alternating HTTP/protobuf saturation rounds on the same traces, the collector first, then
 * tokenledger (already running): the machine's other load hits both alike. The collector's CPU is
 * counted until its file stopped growing, tokenledger's until its rows are in ClickHouse.
 */
async function versusOtelcol(binary: string, child: TokenledgerChild, httpT: Transport, traces: Payload): Promise<VersusOtelcol> {
  const oc = new OtelcolChild(binary);
  const load: Load = { traces, ccEvery: 0 };
  const otelcol: Side = { spans: 0, calls: 0, seconds: 0, cpuSeconds: 0 };
  const tokenledger: Side = { spans: 0, calls: 0, seconds: 0, cpuSeconds: 0 };
  const add = (s: Side, l: LoadResult, cpuSeconds: number): void => { s.spans += l.spans; s.calls += l.calls; s.seconds += l.seconds; s.cpuSeconds += cpuSeconds; };
  try {
    await oc.start();
    await withTransport(httpTransport(oc.httpPort, CONCURRENCY), async (ocT) => {
      for (let r = 1; r <= P.vsRounds; r++) {
        log(`vs otelcol, round ${r} of ${P.vsRounds}: the collector, then tokenledger, HTTP saturation ${P.satS} s each`);
        const cpu0 = oc.stats().cpuSeconds;
        const l = await saturate(ocT, load, { concurrency: CONCURRENCY, maxCalls: P.maxCalls, seconds: P.satS });
        await oc.drained(P.drainS * 1000);
        add(otelcol, l, oc.stats().cpuSeconds - cpu0);
        const p = await phase(child, () => saturate(httpT, load, { concurrency: CONCURRENCY, maxCalls: P.maxCalls, seconds: P.satS }));
        add(tokenledger, p.load, p.cpuSeconds);
      }
    });
    await oc.stop();
  } catch (err) {
    oc.kill();
    log(`otelcol log tail:\n${oc.logTail()}`);
    throw err;
  } finally {
    oc.remove();
  }
  return { otelcol, tokenledger, rounds: P.vsRounds };
}

function withTransport<T>(t: Transport, f: (t: Transport) => Promise<T>): Promise<T> {
  return f(t).finally(() => t.close());
}

/**
 * Rows in the calls table and, embedded only, rows holding the large-content marker anywhere
 * (formatRow needs a newer ClickHouse than Debian's 18.16; the server run sends no large content).
 */
async function tableCheck(mode: 'embedded' | 'server', where: { path?: string; database: string }): Promise<{ rows: number; withContent: number }> {
  const cfg = { ...chDefaults, mode, database: where.database, ...(where.path ? { path: where.path } : {}) };
  const c = await openClient(cfg, repo);
  const leak = mode === 'embedded' ? `countIf(position(formatRow('TSV', *), '${CONTENT_MARKER}') > 0)` : '0';
  try {
    const rs = await c.client.query({
      query: `SELECT count() AS rows, ${leak} AS withContent FROM ${where.database}.${cfg.table} FINAL`,
      format: 'JSONEachRow',
    });
    const [r] = await rs.json<{ rows: string | number; withContent: string | number }>();
    return { rows: Number(r?.rows ?? 0), withContent: Number(r?.withContent ?? 0) };
  } finally {
    await c.close();
  }
}

async function serverAvailable(): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`${SERVER_URL}/ping`, { timeout: 1000 }, (res) => { res.resume(); resolve(res.statusCode === 200); });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

async function dropServerDatabase(database: string): Promise<void> {
  const c = await openClient({ ...chDefaults, mode: 'server', url: SERVER_URL }, repo);
  try {
    await c.client.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  } finally {
    await c.close();
  }
}

/** bench/storage.ts's JSON line: the ClickHouse exporter alone (embedded, disk queue) in a process of its own. */
interface Storage { calls: number; cpu_us_per_call: number; cpu_us_per_call_by_thread: Record<string, number>; acked_per_s: number; rows_per_s: number }

function storagePath(calls: number): Promise<Storage> {
  const script = join(repo, 'dist', 'bench', 'storage.js');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script, '--calls', String(calls)], { timeout: 300_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`storage bench failed: ${err.message}\n${stderr}`));
      resolve(JSON.parse(stdout) as Storage);
    });
  });
}

interface Results {
  storage: Storage;
  ceiling: { decode: Rate; decodeConvert: Rate };
  largeCeiling: { decode: Rate; decodeConvert: Rate };
  pricingSPerRecord: number;
  normalizeSPerCall: number;
  grpc: Phase; http: Phase; rateHttp: Phase<RateResult>; rateGrpc: Phase<RateResult>; large: Phase;
  overload: { phase: Phase<FloodResult>; good: Answers; hwmBeforeMb: number; hwmAfterMb: number; reasons: Record<string, number> };
  rssPeakMb: number; rssAfterMb: number; idleRssMb: number; heapMb: number;
  embeddedTable: { rows: number; withContent: number }; metricsLeak: boolean; acked: number;
  server: Phase | null; serverTable: { rows: number; withContent: number } | null;
  traces: Payload; largeTraces: Payload;
  /** null without --vs-otelcol; a reason when the collector could not be had. */
  vs: VersusOtelcol | { skipped: string } | null;
}

async function withChild<T>(child: TokenledgerChild, f: () => Promise<T>): Promise<T> {
  const onExit = (): void => child.kill();
  process.once('exit', onExit);
  try {
    await child.start();
    return await f();
  } catch (err) {
    child.kill();
    log(`tokenledger log tail:\n${child.logTail()}`);
    throw err;
  } finally {
    process.off('exit', onExit);
  }
}

async function main(): Promise<void> {
  const traces = liteLLMTraces({ calls: CALLS_PER_REQUEST });
  const rateTraces = liteLLMTraces({ calls: (RATE_CALLS_PER_S * TICK_MS) / 1000, copyBase: 0x4000 });
  const largeTraces = liteLLMTraces({ calls: LARGE_CALLS_PER_REQUEST, contentBytes: LARGE_CONTENT_BYTES, copyBase: 0x8000 });
  const cc = { logs: claudeCodeLogs(5), metrics: claudeCodeMetrics(), ccEvery: CC_EVERY };
  const load: Load = { traces, ...cc };

  log(`ceiling: decode in this process (${traces.bytes.length} B request, ${traces.items} spans)`);
  const ceiling = decodeCeiling(traces, P.ceilMs);
  const largeCeiling = decodeCeiling(largeTraces, P.ceilMs);
  log(`pricing: priceCalls on ${P.pricing} records`);
  const realistic = realisticCalls(traces, P.pricing);
  const pricingSPerRecord = pricingSecondsPerRecord(realistic.calls);
  const normalizeSPerCall = realistic.normalizeSPerCall;
  log(`storage path: the ClickHouse exporter alone (embedded, disk queue), ${P.storageCalls} calls, in a process of its own`);
  const storage = await storagePath(P.storageCalls);

  const otelcol = vsOtelcol ? await ensureOtelcol(repo, log) : null;
  if (otelcol && 'skipped' in otelcol) log(`vs otelcol: skipped, ${otelcol.skipped}`);

  const profDir = mkdtempSync(join(tmpdir(), 'tl-bench-prof-'));
  const child = new TokenledgerChild({ repo, redis: joinStore === 'redis' ? redisUrl : undefined, nodeArgs: [...childNodeArgs, ...(profile ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [])] });
  // An IIFE so that the data directory goes away on every path, after the table was read.
  const embedded = await (async () => {
    try {
      const r = await withChild(child, async () => {
        const grpc = grpcTransport(child.grpcPort);
        const httpT = httpTransport(child.httpPort, CONCURRENCY);
        const idleRssMb = child.stats().rssMb;
        try {
          // Both transports warm up: a warm-up over gRPC alone left gRPC's measured phase, which
          // comes first, with the code HTTP's phase found already optimized.
          log('warm-up over gRPC and HTTP');
          const warmGrpc = await phase(child, () => saturate(grpc, load, { concurrency: CONCURRENCY, maxCalls: P.maxCalls, seconds: P.warmS }));
          const warmHttp = await phase(child, () => saturate(httpT, load, { concurrency: CONCURRENCY, maxCalls: P.maxCalls, seconds: P.warmS }));
          log(`saturation over gRPC, ${CONCURRENCY} in flight, ${P.satS} s`);
          const g = await phase(child, () => saturate(grpc, load, { concurrency: CONCURRENCY, maxCalls: P.maxCalls, seconds: P.satS }));
          log(`saturation over HTTP, ${CONCURRENCY} in flight, ${P.satS} s`);
          const h = await phase(child, () => saturate(httpT, load, { concurrency: CONCURRENCY, maxCalls: P.maxCalls, seconds: P.satS }));
          const vs = otelcol && 'path' in otelcol ? await versusOtelcol(otelcol.path, child, httpT, traces) : otelcol;
          const rateLoad: Load = { traces: rateTraces, ...cc, ccEvery: 0 };
          log(`fixed rate ${RATE_CALLS_PER_S} calls/s over HTTP and gRPC, ${P.rateS} s each`);
          const rateHttp = await phase(child, () => fixedRate(httpT, rateLoad, { tickMs: TICK_MS, seconds: P.rateS, maxInFlight: MAX_IN_FLIGHT }));
          const rateGrpc = await phase(child, () => fixedRate(grpc, rateLoad, { tickMs: TICK_MS, seconds: P.rateS, maxInFlight: MAX_IN_FLIGHT }));
          log(`large content (${Math.round(largeTraces.bytes.length / largeTraces.items / 1024)} KB a span) over gRPC, ${P.largeS} s`);
          const large = await phase(child, () => saturate(grpc, { traces: largeTraces, ccEvery: 0 }, { concurrency: CONCURRENCY, maxCalls: P.maxCalls, seconds: P.largeS }));
          const before = child.stats().hwmMb;
          const reasons0 = refusalReasons(await child.metrics());
          log(`overload: ${OVERLOAD_CONCURRENCY} HTTP requests in flight from one client, a good client at one request every ${GOOD_EVERY_MS} ms from ${GOOD_CLIENT_ADDRESS}, ${P.overS} s`);
          let good: Answers | undefined;
          const o = await withTransport(httpTransport(child.httpPort, OVERLOAD_CONCURRENCY), (t) => phase(child, async () => {
            const [f, g] = await Promise.all([
              flood(t, load, { concurrency: OVERLOAD_CONCURRENCY, seconds: P.overS, refusalPauseMs: OVERLOAD_REFUSAL_PAUSE_MS }),
              goodClient(child.httpPort, P.overS),
            ]);
            good = g;
            // The good client's calls are acknowledged calls too: phase() waits for them in ClickHouse.
            return { ...f, calls: f.calls + g.calls };
          }));
          const reasons1 = refusalReasons(await child.metrics());
          const reasons = Object.fromEntries(Object.entries(reasons1).map(([r, v]) => [r, v - (reasons0[r] ?? 0)]).filter(([, v]) => (v as number) > 0));
          const overloadPhase = { phase: o, good: good!, hwmBeforeMb: before, hwmAfterMb: child.stats().hwmMb, reasons };
          const text = await child.metrics();
          const metricsLeak = text.includes(CONTENT_MARKER);
          const heapMb = metricSum(text, 'nodejs_heap_size_total_bytes') / 1048576;
          const { hwmMb, rssMb } = child.stats();
          return { warmCalls: warmGrpc.load.calls + warmHttp.load.calls, vs, grpc: g, http: h, rateHttp, rateGrpc, large, overload: overloadPhase, metricsLeak, rssPeakMb: hwmMb, rssAfterMb: rssMb, idleRssMb, heapMb };
        } finally {
          grpc.close();
          httpT.close();
          await child.stop();
        }
      });
      const vsCalls = r.vs && 'otelcol' in r.vs ? r.vs.tokenledger.calls : 0;
      const acked = r.warmCalls + vsCalls + r.overload.phase.load.calls + [r.grpc, r.http, r.large].reduce((s, p) => s + p.load.calls, 0) + r.rateHttp.load.calls + r.rateGrpc.load.calls;
      const embeddedTable = await tableCheck('embedded', { path: join(child.dir, 'data', 'clickhouse'), database: chDefaults.database });
      if (profile) printProfile(profDir);
      return { ...r, acked, embeddedTable };
    } finally {
      child.remove();
      if (!profile) rmSync(profDir, { recursive: true, force: true });
    }
  })();

  let server: Phase | null = null;
  let serverTable: Results['serverTable'] = null;
  if (await serverAvailable()) {
    const database = `tl_bench_${process.pid}`;
    const sChild = new TokenledgerChild({ repo, server: { url: SERVER_URL, database }, redis: joinStore === 'redis' ? redisUrl : undefined, nodeArgs: childNodeArgs });
    try {
      server = await withChild(sChild, async () => {
        try {
          log(`server mode (${SERVER_URL}, database ${database}): saturation over gRPC, ${P.serverS} s`);
          return await withTransport(grpcTransport(sChild.grpcPort), (t) => phase(sChild, () => saturate(t, load, { concurrency: CONCURRENCY, maxCalls: P.maxCalls, seconds: P.serverS })));
        } finally {
          await sChild.stop();
        }
      });
      serverTable = await tableCheck('server', { database });
    } finally {
      sChild.remove();
      await dropServerDatabase(database);
    }
  }
  report({ storage, ceiling, largeCeiling, pricingSPerRecord, normalizeSPerCall, ...embedded, server, serverTable, traces, largeTraces });
}

function printProfile(dir: string): void {
  process.stdout.write(`\nTop self time in tokenledger (node --cpu-prof, whole run; open ${dir}/*.cpuprofile in Chrome DevTools):\n`);
  for (const f of topSelfTime(dir, repo)) process.stdout.write(`  ${String(f.selfPct).padStart(5)}%  ${f.name}  ${f.where}\n`);
}

/** Runs bench/good-client.js (a process of its own) from GOOD_CLIENT_ADDRESS for `seconds`; its answers and acknowledged calls. */
function goodClient(port: number, seconds: number): Promise<Answers & { calls: number }> {
  const script = join(repo, 'dist', 'bench', 'good-client.js');
  const args = [script, '--port', String(port), '--from', GOOD_CLIENT_ADDRESS, '--every-ms', String(GOOD_EVERY_MS), '--seconds', String(seconds)];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { timeout: (seconds + 60) * 1000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`good client failed: ${err.message}\n${stderr}`));
      const r = JSON.parse(stdout) as { answered: number; refused: number; unanswered: number; answerMs: number[]; refusalMs: number[]; calls: number };
      resolve({ ...r, answerMs: Float64Array.from(r.answerMs), refusalMs: Float64Array.from(r.refusalMs) });
    });
  });
}

/** The receiver's refused requests by reason, from its /metrics. */
function refusalReasons(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^tokenledger_receiver_refused_requests_total\{[^}]*reason="([a-z_]+)"[^}]*\} ([0-9.e+]+)$/gm)) out[m[1]] = (out[m[1]] ?? 0) + Number(m[2]);
  return out;
}

/** One client's attempts during the overload: answered within the client timeout, refused early, unanswered. */
function answersLine(a: Answers): string {
  const total = a.answered + a.refused + a.unanswered;
  const pct = (v: number): string => (total === 0 ? '0' : (100 * v / total).toFixed(1));
  const q = (v: Float64Array, x: number): number => round(quantile(v, x), 1);
  return `${fmt(total)} attempts: ${fmt(a.answered)} answered within ${TIMEOUT_MS / 1000} s (${pct(a.answered)} %, p50 ${q(a.answerMs, 0.5)} ms, p99 ${q(a.answerMs, 0.99)} ms), `
    + `${fmt(a.refused)} refused early with 503 (${pct(a.refused)} %, after p50 ${q(a.refusalMs, 0.5)} ms, p99 ${q(a.refusalMs, 0.99)} ms), ${fmt(a.unanswered)} unanswered`;
}

/** Thread groups by CPU, largest first, as shares of the process's CPU. */
function threadLine(threads: Map<string, number>): string {
  const total = [...threads.values()].reduce((a, b) => a + b, 0);
  const top = [...threads].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
  return top.slice(0, 8).map(([k, v]) => `${k} ${round((100 * v) / total)} %`).join(', ') + (top.length > 8 ? `, ${top.length - 8} more` : '');
}

function rateLine(p: Phase<RateResult>): string {
  const r = p.load;
  const q = (v: number): number => round(quantile(r.latencies, v), 1);
  return `p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms; ${fmt(r.calls / r.seconds)} calls/s acked; `
    + `tokenledger event loop delay p99 ${round(p.loopP99Ms, 1)} ms, max ${round(p.loopMaxMs, 1)} ms; `
    + `generator late ticks ${r.lateTicks} (max lag ${round(r.maxLagMs)} ms), skipped ${r.skippedTicks}, refusals ${r.refusals}`;
}

/**
 * Every acknowledged call must be exactly one row: say so loudly when not. `unanswered` requests
 * (the overload's clients gave up after their timeout) may have been stored all the same, up to
 * `unansweredCalls` rows more than acknowledged.
 */
function mismatch(rows: number, acked: number, unanswered = 0, unansweredCalls = 0): string {
  if (rows === acked) return '';
  if (rows > acked && rows - acked <= unansweredCalls) {
    return ` — ${fmt(rows - acked)} rows more than acked, within the ${fmt(unansweredCalls)} calls of the ${unanswered} overload requests answered after the client's ${TIMEOUT_MS / 1000} s timeout (stored, not counted as acked)`;
  }
  return ` — MISMATCH: ${rows > acked ? 'duplicates' : 'lost calls'}`;
}

const round = (v: number, digits = 0): number => Math.round(v * 10 ** digits) / 10 ** digits;
const fmt = (v: number): string => Math.round(v).toLocaleString('en-US');

function report(x: Results): void {
  const spansPerS = x.grpc.load.spans / x.grpc.load.seconds;
  const callsPerS = x.grpc.load.calls / x.grpc.load.seconds;
  const cpuPerCall = x.grpc.cpuSeconds / x.grpc.load.calls;
  const largeSpansPerS = x.large.load.spans / x.large.load.seconds;
  const lat = (p: Phase<RateResult>, q: number): number => round(quantile(p.load.latencies, q), 2);
  const spansPerCall = x.traces.items / x.traces.calls;
  const perCall = (r: Rate): number => r.itemsPerS / spansPerCall;
  const us = (seconds: number): number => round(seconds * 1e6, 1);
  const grpcToHttp = callsPerS / (x.http.load.calls / x.http.load.seconds);
  const rowsToAcked = x.grpc.rowsPerS / callsPerS;
  const vs = x.vs && 'otelcol' in x.vs ? x.vs : null;
  const unanswered = x.overload.phase.load.flood.unanswered + x.overload.good.unanswered;
  const side = (s: Side): { spansPerS: number; usPerSpan: number } => ({ spansPerS: s.spans / s.seconds, usPerSpan: (s.cpuSeconds / s.spans) * 1e6 });
  const oc = vs && side(vs.otelcol);
  const tl = vs && side(vs.tokenledger);
  const rows: [string, string][] = [
    ['payload', `LiteLLM 1.81.3 capture, ${x.traces.calls} calls × ${x.traces.items / x.traces.calls} spans a request, ${round(x.traces.bytes.length / x.traces.items)} B a span; + Claude Code logs/metrics every ${CC_EVERY}th request`],
    ['decode ceiling (protobuf decode, this process)', `${fmt(x.ceiling.decode.itemsPerS)} spans/s (${round(x.ceiling.decode.mibPerS)} MiB/s)`],
    ['decode + conversion (decodeExport)', `${fmt(x.ceiling.decodeConvert.itemsPerS)} spans/s`],
    ['saturation gRPC (end to end, acked)', `${fmt(spansPerS)} spans/s, ${fmt(callsPerS)} calls/s, refusals ${x.grpc.load.refusals}`],
    ['saturation HTTP/protobuf', `${fmt(x.http.load.spans / x.http.load.seconds)} spans/s, ${fmt(x.http.load.calls / x.http.load.seconds)} calls/s, refusals ${x.http.load.refusals}`],
    ['gRPC ÷ HTTP saturation throughput', `${round(grpcToHttp, 2)}×`],
    ['pipeline ÷ decode ceiling', `${round((100 * spansPerS) / x.ceiling.decode.itemsPerS, 1)} %`],
    [`ack latency @ ${RATE_CALLS_PER_S} calls/s HTTP`, rateLine(x.rateHttp)],
    [`ack latency @ ${RATE_CALLS_PER_S} calls/s gRPC`, rateLine(x.rateGrpc)],
    [`overload: ${OVERLOAD_CONCURRENCY} HTTP in flight, one client`, answersLine(x.overload.phase.load.flood)],
    [`overload: good client (1 request / ${GOOD_EVERY_MS} ms)`, answersLine(x.overload.good)],
    ['overload: acked, refusals by reason, RSS', `${fmt(x.overload.phase.load.calls / x.overload.phase.load.seconds)} calls/s acked; `
      + `${Object.entries(x.overload.reasons).map(([r, v]) => `${r} ${fmt(v)}`).join(', ') || 'no refusals'}; RSS peak ${round(x.overload.hwmBeforeMb)} → ${round(x.overload.hwmAfterMb)} MB`],
    ['RSS peak (VmHWM) / at end / idle after start', `${round(x.rssPeakMb)} / ${round(x.rssAfterMb)} / ${round(x.idleRssMb)} MB (V8 heap at end ${round(x.heapMb)} MB; the rest is native, mostly chDB)`],
    ['CPU per 100k calls (gRPC saturation, until written)', `${round(cpuPerCall * 1e5, 2)} s tokenledger; load generator ${round((x.grpc.generatorCpuSeconds / x.grpc.load.calls) * 1e5, 2)} s`],
    ['ClickHouse embedded (chDB, disk queue)', `${fmt(x.grpc.rowsPerS)} rows/s${x.grpc.drained ? '' : ' (NOT drained in time)'}`],
    ['rows stored ÷ calls acked per second (gRPC saturation)', `${round(rowsToAcked, 2)}× (rows/s over the load and its drain); `
      + `when the load stopped ${fmt(x.grpc.backlog)} acked calls were not stored yet = ${round(x.grpc.backlog / callsPerS, 1)} s of them (batches: 5,000 rows or 1 s)`],
    ['ClickHouse server', x.server ? `${fmt(x.server.rowsPerS)} rows/s, ${fmt(x.server.load.calls / x.server.load.seconds)} calls/s acked${x.server.drained ? '' : ' (NOT drained in time)'}` : 'server: not available'],
    ['rows in ClickHouse (FINAL) / calls acked', `embedded ${fmt(x.embeddedTable.rows)} / ${fmt(x.acked)}${mismatch(x.embeddedTable.rows, x.acked, unanswered, unanswered * x.traces.calls)}`
      + (x.server && x.serverTable ? `; server ${fmt(x.serverTable.rows)} / ${fmt(x.server.load.calls)}${mismatch(x.serverTable.rows, x.server.load.calls)}` : '')],
    ['CPU by thread (gRPC saturation, until written)', threadLine(x.grpc.threads)],
    ['CPU per call: decode / +conversion / normalizer (in process)', `${us(1 / perCall(x.ceiling.decode))} / ${us(1 / perCall(x.ceiling.decodeConvert))} / ${us(x.normalizeSPerCall)} µs, of ${us(cpuPerCall)} µs for the whole pipeline`],
    ['storage path alone (ClickHouse exporter, embedded, disk queue)', `${x.storage.cpu_us_per_call} µs CPU a call (`
      + `${Object.entries(x.storage.cpu_us_per_call_by_thread).slice(0, 5).map(([k, v]) => `${k} ${v}`).join(', ')}); ${fmt(x.storage.acked_per_s)} calls/s acked, ${fmt(x.storage.rows_per_s)} rows/s stored`],
    ['pricing (priceCalls) per record', `${round(x.pricingSPerRecord * 1e6, 2)} µs = ${round((100 * x.pricingSPerRecord) / cpuPerCall, 1)} % of the pipeline's CPU per call`],
    ['large content: span size', `${fmt(x.largeTraces.bytes.length / x.largeTraces.items)} B a span (${x.largeTraces.calls} calls a request)`],
    ['large content: saturation gRPC', `${fmt(largeSpansPerS)} spans/s, ${fmt(x.large.load.calls / x.large.load.seconds)} calls/s, CPU ${round((x.large.cpuSeconds / x.large.load.calls) * 1e5, 2)} s per 100k calls`],
    ['large content: decode ceiling', `${fmt(x.largeCeiling.decode.itemsPerS)} spans/s (${round(x.largeCeiling.decode.mibPerS)} MiB/s); decode+conversion ${fmt(x.largeCeiling.decodeConvert.itemsPerS)} spans/s`],
    ['large content in ClickHouse rows / in /metrics', `${x.embeddedTable.withContent} rows / ${x.metricsLeak ? 'FOUND' : 'none'}`],
  ];
  if (x.vs) {
    rows.push([`vs OpenTelemetry Collector ${OTELCOL_VERSION} (HTTP, alternated)`, oc && tl && vs
      ? `collector ${fmt(oc.spansPerS)} spans/s at ${round(oc.usPerSpan, 2)} µs CPU a span; tokenledger ${fmt(tl.spansPerS)} spans/s at ${round(tl.usPerSpan, 2)} µs; `
        + `spans/s ${round(tl.spansPerS / oc.spansPerS, 2)}×, CPU a span ${round(tl.usPerSpan / oc.usPerSpan, 2)}× (${vs.rounds} rounds of ${P.satS} s each)`
      : `skipped: ${'skipped' in x.vs ? x.vs.skipped : ''}`]);
  }
  const w = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(`\ntokenledger bench (${quick ? 'quick' : 'full'}, join store ${joinStore}), node ${process.version}${childNodeArgs.length ? `, child flags ${childNodeArgs.join(' ')}` : ''}\n`);
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(w)}  ${v}\n`);
  const json = {
    mode: quick ? 'quick' : 'full', join_store: joinStore, child_node_args: childNodeArgs,
    spans_per_s: round(spansPerS), calls_per_s: round(callsPerS),
    spans_per_s_http: round(x.http.load.spans / x.http.load.seconds), calls_per_s_http: round(x.http.load.calls / x.http.load.seconds),
    decode_ceiling_spans_per_s: round(x.ceiling.decode.itemsPerS), decode_convert_spans_per_s: round(x.ceiling.decodeConvert.itemsPerS),
    pipeline_to_decode_ratio: round(spansPerS / x.ceiling.decode.itemsPerS, 3),
    ack_p50_ms: lat(x.rateHttp, 0.5), ack_p99_ms: lat(x.rateHttp, 0.99),
    ack_p50_ms_grpc: lat(x.rateGrpc, 0.5), ack_p99_ms_grpc: lat(x.rateGrpc, 0.99),
    ack_rate_calls_per_s: round(x.rateHttp.load.calls / x.rateHttp.load.seconds),
    event_loop_p99_ms: round(x.rateHttp.loopP99Ms, 1), event_loop_max_ms: round(x.rateHttp.loopMaxMs, 1),
    generator_late_ticks: x.rateHttp.load.lateTicks + x.rateGrpc.load.lateTicks,
    refusals: x.grpc.load.refusals + x.http.load.refusals + x.rateHttp.load.refusals + x.rateGrpc.load.refusals + x.large.load.refusals,
    rss_mb: round(x.rssPeakMb), rss_idle_mb: round(x.idleRssMb), v8_heap_mb: round(x.heapMb), cpu_s_per_100k_calls: round(cpuPerCall * 1e5, 2),
    overload_answered: x.overload.phase.load.flood.answered, overload_refused_early: x.overload.phase.load.flood.refused,
    overload_unanswered: x.overload.phase.load.flood.unanswered + x.overload.good.unanswered,
    overload_refusal_p99_ms: round(quantile(x.overload.phase.load.flood.refusalMs, 0.99), 1), overload_refusal_reasons: x.overload.reasons,
    good_client_p50_ms: round(quantile(x.overload.good.answerMs, 0.5), 1), good_client_p99_ms: round(quantile(x.overload.good.answerMs, 0.99), 1),
    good_client_answered: x.overload.good.answered, good_client_refused: x.overload.good.refused,
    overload_rss_growth_mb: round(x.overload.hwmAfterMb - x.overload.hwmBeforeMb),
    generator_cpu_s_per_100k_calls: round((x.grpc.generatorCpuSeconds / x.grpc.load.calls) * 1e5, 2),
    clickhouse_rows_per_s_embedded: round(x.grpc.rowsPerS), clickhouse_rows_per_s_server: x.server ? round(x.server.rowsPerS) : null,
    clickhouse_rows: x.embeddedTable.rows, calls_acked: x.acked, overload_unanswered_calls_max: unanswered * x.traces.calls, rows_match_acked: x.embeddedTable.rows === x.acked && (x.serverTable === null || x.serverTable.rows === x.server?.load.calls),
    normalizer_share_pct: round((100 * x.normalizeSPerCall) / cpuPerCall, 2),
    decode_share_pct: round((100 * spansPerCall) / x.ceiling.decode.itemsPerS / cpuPerCall, 2),
    pricing_share_pct: round((100 * x.pricingSPerRecord) / cpuPerCall, 2),
    large_bytes_per_span: round(x.largeTraces.bytes.length / x.largeTraces.items), large_spans_per_s: round(largeSpansPerS),
    large_decode_ceiling_spans_per_s: round(x.largeCeiling.decode.itemsPerS), large_pipeline_to_decode_ratio: round(largeSpansPerS / x.largeCeiling.decode.itemsPerS, 3),
    large_cpu_s_per_100k_calls: round((x.large.cpuSeconds / x.large.load.calls) * 1e5, 2),
    large_content_rows_in_clickhouse: x.embeddedTable.withContent, large_content_in_metrics: x.metricsLeak,
    cpu_by_thread_pct: Object.fromEntries([...x.grpc.threads].filter(([, v]) => v > 0).map(([k, v]) => [k, round((100 * v) / x.grpc.cpuSeconds, 1)])),
    storage_cpu_us_per_call: x.storage.cpu_us_per_call, storage_rows_per_s: x.storage.rows_per_s,
    grpc_to_http_ratio: round(grpcToHttp, 3), rows_to_acked_ratio: round(rowsToAcked, 3), backlog_at_load_end_s: round(x.grpc.backlog / callsPerS, 2),
    ...(x.vs ? {
      otelcol_spans_per_s: oc ? round(oc.spansPerS) : null, otelcol_cpu_us_per_span: oc ? round(oc.usPerSpan, 2) : null,
      vs_tokenledger_spans_per_s: tl ? round(tl.spansPerS) : null, vs_tokenledger_cpu_us_per_span: tl ? round(tl.usPerSpan, 2) : null,
      vs_otelcol_spans_ratio: oc && tl ? round(tl.spansPerS / oc.spansPerS, 3) : null, vs_otelcol_cpu_ratio: oc && tl ? round(tl.usPerSpan / oc.usPerSpan, 3) : null,
      vs_otelcol_skipped: 'skipped' in x.vs ? x.vs.skipped : null,
    } : {}),
  };
  process.stdout.write(JSON.stringify(json) + '\n');
}

const watchdog = setTimeout(() => { log('watchdog: the run took too long, exiting'); process.exit(2); }, (quick ? 180 : 900) * 1000);
watchdog.unref();
main().then(() => process.exit(0), (err: unknown) => {
  log(`failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exit(1);
});
