import { setTimeout as sleep } from 'node:timers/promises';
import { instance, stamp, type Payload } from './payload.js';
import { TimeoutError, type Transport } from './transport.js';

/**
 * The load generator: saturation (K requests in flight until N calls or T seconds) and a fixed
 * rate (one request every tick). Retryable refusals are counted and the same request is sent again
 * after a short pause; only acknowledged calls count. Every request is stamped with a new value of
 * one process-wide counter, so no two requests of a run share ids.
 */

export interface Load {
  traces: Payload;
  /** Claude Code logs and metrics, sent every `ccEvery`-th request (0: never). */
  logs?: Payload;
  metrics?: Payload;
  ccEvery: number;
}

export interface LoadResult {
  transport: string;
  seconds: number;
  requests: number;
  /** Acknowledged model calls (LiteLLM and Claude Code). */
  calls: number;
  /** Acknowledged LiteLLM spans. */
  spans: number;
  refusals: number;
  /** Per-request acknowledgement latency in ms (send to final ack, retries included), sorted. */
  latencies: Float64Array;
}

const RETRY_PAUSE_MS = 20;
let seq = 1;

/** One request's own copies of the payloads: a buffer is reused only after its request was acknowledged. */
class Slot {
  private readonly bufs = new Map<Payload, Buffer>();
  body(p: Payload): Buffer {
    let b = this.bufs.get(p);
    if (!b) this.bufs.set(p, (b = instance(p)));
    stamp(b, p.patches, seq++);
    return b;
  }
}

class Tally {
  requests = 0; calls = 0; spans = 0; refusals = 0;
  readonly lat: number[] = [];
  acked(p: Payload): void {
    this.requests++;
    this.calls += p.calls;
    if (p.signal === 'traces') this.spans += p.items;
  }
  result(transport: string, seconds: number): LoadResult {
    return { transport, seconds, requests: this.requests, calls: this.calls, spans: this.spans, refusals: this.refusals, latencies: Float64Array.from(this.lat).sort() };
  }
}

/** Sends one payload until it is acknowledged (retryable refusals pause and retry), or the deadline passes. */
async function deliver(t: Transport, slot: Slot, p: Payload, tally: Tally, deadline: number): Promise<void> {
  const body = slot.body(p);
  const t0 = performance.now();
  for (;;) {
    if ((await t.send(p.signal, body)) === 'ok') break;
    tally.refusals++;
    if (performance.now() > deadline) return;
    await sleep(RETRY_PAUSE_MS);
  }
  tally.lat.push(performance.now() - t0);
  tally.acked(p);
}

/** The payloads of the n-th request of a run: traces, or every ccEvery-th the Claude Code logs and metrics. */
function payloadsFor(load: Load, n: number): Payload[] {
  if (load.ccEvery > 0 && n % load.ccEvery === load.ccEvery - 1) {
    return [load.logs, load.metrics].filter((p): p is Payload => p !== undefined);
  }
  return [load.traces];
}

export async function saturate(t: Transport, load: Load, opts: { concurrency: number; maxCalls: number; seconds: number }): Promise<LoadResult> {
  const tally = new Tally();
  const start = performance.now();
  const deadline = start + opts.seconds * 1000;
  let n = 0;
  const worker = async (): Promise<void> => {
    const slot = new Slot();
    while (tally.calls < opts.maxCalls && performance.now() < deadline) {
      for (const p of payloadsFor(load, n++)) await deliver(t, slot, p, tally, deadline);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  return tally.result(t.name, (performance.now() - start) / 1000);
}

export interface RateResult extends LoadResult {
  /** Ticks sent later than one tick after their schedule: the generator (not tokenledger) fell behind. */
  lateTicks: number;
  maxLagMs: number;
  /** Ticks not sent because `maxInFlight` requests were already waiting. */
  skippedTicks: number;
}

/** `callsPerTick` = the traces payload's calls; one request every `tickMs` for `seconds`. */
export async function fixedRate(t: Transport, load: Load, opts: { tickMs: number; seconds: number; maxInFlight: number }): Promise<RateResult> {
  const tally = new Tally();
  const free: Slot[] = [];
  const pending = new Set<Promise<void>>();
  let lateTicks = 0;
  let maxLagMs = 0;
  let skippedTicks = 0;
  let failure: unknown;
  const start = performance.now();
  const end = start + opts.seconds * 1000;
  const ticks = Math.floor((opts.seconds * 1000) / opts.tickMs);
  for (let k = 0; k < ticks && failure === undefined; k++) {
    const due = start + k * opts.tickMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const lag = performance.now() - due;
    if (lag > opts.tickMs) lateTicks++;
    if (lag > maxLagMs) maxLagMs = lag;
    if (pending.size >= opts.maxInFlight) {
      skippedTicks++;
      continue;
    }
    const slot = free.pop() ?? new Slot();
    const job = (async () => {
      for (const p of payloadsFor(load, k)) await deliver(t, slot, p, tally, end + 10_000);
    })().catch((err: unknown) => { failure ??= err; }).finally(() => { pending.delete(job); free.push(slot); });
    pending.add(job);
  }
  await Promise.all(pending);
  if (failure !== undefined) throw failure;
  return { ...tally.result(t.name, (performance.now() - start) / 1000), lateTicks, maxLagMs, skippedTicks };
}

/** How one client's export attempts ended: answered 200 within the client timeout, refused (503 / UNAVAILABLE), or unanswered. */
export interface Answers {
  answered: number;
  refused: number;
  unanswered: number;
  /** ms from send to the 200, sorted. */
  answerMs: Float64Array;
  /** ms from send to the refusal, sorted. */
  refusalMs: Float64Array;
}

export interface FloodResult extends LoadResult {
  flood: Answers;
}

class AnswerTally {
  answered = 0; refused = 0; unanswered = 0;
  readonly ok: number[] = [];
  readonly no: number[] = [];
  /** One attempt; true when acknowledged. Only a timeout is absorbed: any other failure fails the run. */
  async attempt(t: Transport, p: Payload, body: Buffer): Promise<boolean> {
    const t0 = performance.now();
    try {
      const outcome = await t.send(p.signal, body);
      (outcome === 'ok' ? this.ok : this.no).push(performance.now() - t0);
      if (outcome === 'ok') this.answered++;
      else this.refused++;
      return outcome === 'ok';
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      this.unanswered++;
      return false;
    }
  }
  result(): Answers {
    const sorted = (v: number[]): Float64Array => Float64Array.from(v).sort();
    return { answered: this.answered, refused: this.refused, unanswered: this.unanswered, answerMs: sorted(this.ok), refusalMs: sorted(this.no) };
  }
}

/**
 * Overload: `concurrency` requests in flight for `seconds`, every attempt sent once (a refusal
 * pauses `refusalPauseMs`, then the next request goes), each attempt classified.
 */
export async function flood(t: Transport, load: Load, opts: { concurrency: number; seconds: number; refusalPauseMs: number }): Promise<FloodResult> {
  const tally = new Tally();
  const answers = new AnswerTally();
  const start = performance.now();
  const deadline = start + opts.seconds * 1000;
  let n = 0;
  const worker = async (): Promise<void> => {
    const slot = new Slot();
    while (performance.now() < deadline) {
      for (const p of payloadsFor(load, n++)) {
        if (await answers.attempt(t, p, slot.body(p))) tally.acked(p);
        else { tally.refusals++; await sleep(opts.refusalPauseMs); }
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  return { ...tally.result(t.name, (performance.now() - start) / 1000), flood: answers.result() };
}

/** A well-behaved client: one request every `everyMs` for `seconds`, one at a time, never retrying; its answers and acknowledged calls. */
export async function wellBehaved(t: Transport, load: Load, opts: { everyMs: number; seconds: number }): Promise<{ answers: Answers; calls: number }> {
  const tally = new Tally();
  const answers = new AnswerTally();
  const slot = new Slot();
  const start = performance.now();
  for (let k = 0; performance.now() < start + opts.seconds * 1000; k++) {
    const due = start + k * opts.everyMs;
    if (due > performance.now()) await sleep(due - performance.now());
    for (const p of payloadsFor(load, k)) if (await answers.attempt(t, p, slot.body(p))) tally.acked(p);
  }
  return { answers: answers.result(), calls: tally.calls };
}

/** The q-quantile (0..1) of sorted values, in the values' unit; NaN when empty. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
