import { resolve } from 'node:path';
import type { Batch } from '../../core/batch.js';
import type { ComponentContext, Processor } from '../../core/component.js';
import { parseDuration } from '../../core/config/duration.js';
import type { LlmCall } from '../../core/llm-call.js';
import { ClaudeCodeTotals } from './claude-code-totals.js';
import type { NormalizerConfig } from './config.js';
import { CumulativeState } from './cumulative.js';
import { ExactlyOnce, lookupOf, type Outcome } from './exactly-once.js';
import { MemoryJoinStore, type JoinLookup, type JoinStore, type JoinTxn } from './join-store.js';
import { RedisJoinStore } from './join-store-redis.js';
import { SpansWithoutUsage } from './litellm-spans-without-usage.js';
import { normalizerMetrics, type NormalizerMetrics } from './metrics.js';
import { ShapeRouter } from './router.js';
import type { Report, Shape } from './types.js';
import { UndoLog } from './undo-log.js';

/** Records of refused batches remembered as counted: more than clients re-send while an exporter refuses. */
const MAX_RECOUNTS = 100_000;

const NO_LOOKUP: JoinLookup = { keys: [], sessions: [] };

type Records = Pick<Batch, 'calls' | 'callVersions' | 'updates' | 'updateVersions' | 'updateBases'>;

/** One batch's new calls and updates, each with its ingest version (Outcome). */
interface Made {
  calls: LlmCall[];
  callVersions: number[];
  updates: LlmCall[];
  updateVersions: number[];
}

/** The processor: decoded telemetry in, one LlmCall per real model call out (README.md). */
export class ClaudeNormalizer implements Processor {
  private readonly m: NormalizerMetrics;
  private readonly router: ShapeRouter;
  private readonly engine: ExactlyOnce;
  private readonly store: JoinStore;
  private readonly cumulative: CumulativeState;
  private readonly withoutUsage: SpansWithoutUsage;
  private readonly claudeCode: ClaudeCodeTotals;
  /** Each committed batch in flight, by output: its transaction and what it changed, until its exporters accept it or abandon() takes it back. */
  private readonly inFlight = new WeakMap<Batch, { txn: JoinTxn; undo: UndoLog }>();
  /** The record an update replaces (Batch.updateBases). */
  private readonly baseOf = new WeakMap<LlmCall, LlmCall>();
  /** recount(): records of refused batches already counted, oldest forgotten first. */
  private readonly recounts = new Set<string>();
  private evictionsSeen = 0;
  private resetsSeen = 0;

  constructor(cfg: NormalizerConfig, private readonly ctx: ComponentContext, private readonly now: () => number = Date.now) {
    this.m = ctx.metrics.declare(normalizerMetrics);
    this.cumulative = new CumulativeState(cfg.cumulative.max_series);
    this.withoutUsage = new SpansWithoutUsage(this.m.endedSpans, ctx.logger);
    this.router = new ShapeRouter(cfg, ctx.logger, this.m, this.cumulative, this.withoutUsage);
    this.engine = new ExactlyOnce(cfg.attributes.max_count, this.m, ctx.logger);
    this.claudeCode = new ClaudeCodeTotals(this.m);
    this.store = cfg.dedupe.store === 'redis'
      // Namespaced by pipeline and component id: another pipeline's normalizer sees its own copies of the data.
      ? new RedisJoinStore(cfg.dedupe.redis, ctx.pipeline === undefined ? ctx.id : `${ctx.pipeline}/${ctx.id}`, ctx.logger, (op) => this.m.storeErrors.inc({ op }))
      : new MemoryJoinStore(parseDuration(cfg.dedupe.window), cfg.dedupe.max_entries, (e) => {
        if (!e.billed) this.unjoinedLink(e.record, e.shapes[0]);
      }, now, cfg.dedupe.snapshot.path === '' ? undefined : {
        file: resolve(ctx.configDir, cfg.dedupe.snapshot.path), intervalMs: parseDuration(cfg.dedupe.snapshot.interval),
        logger: ctx.logger, onError: (op) => this.m.storeErrors.inc({ op }),
      });
  }

  async start(): Promise<void> {
    await this.store.start();
  }

  async shutdown(): Promise<void> {
    await this.store.close();
  }

  /**
   * Reads every report of the batch, then joins them under one store transaction: in memory a
   * synchronous step, with Redis one round trip to load and lock what the batch's keys lead to and
   * one to save it. A store failure rejects the batch with a RetryableError before anything is billed.
   */
  process(batch: Batch): Batch | Promise<Batch> {
    const now = this.now();
    this.withoutUsage.expire(now);
    const undo = new UndoLog();
    const reports = this.router.read(batch, undo.series, now);
    if (reports.length === 0 && this.store.needsLookup) return this.passOn(batch);
    const txn = this.store.begin(this.store.needsLookup ? lookupOf(reports) : NO_LOOKUP, now);
    if (txn instanceof Promise) return txn.then((t) => this.join(batch, reports, t, undo, now), (err: unknown) => this.refused(undo, err));
    return this.join(batch, reports, txn, undo, now);
  }

  /**
   * The pipeline could not deliver `output` (an exporter said retry later): the client will re-send
   * the telemetry, so the join store takes back what this batch committed (join-store.ts,
   * JoinTxn.abandon) and the cumulative series their points, and the re-send is read as new, not
   * dropped as a duplicate of a call never stored.
   */
  abandon(output: Batch): Promise<void> | undefined {
    const taken = this.inFlight.get(output);
    if (taken === undefined) return undefined;
    this.inFlight.delete(output);
    const { txn, undo } = taken;
    this.cumulative.restore(undo.series);
    this.recount(undo.counted);
    this.m.abandoned.inc(output.calls.length + output.updates.length);
    this.ctx.logger.debug('refused batch taken back from the join store', { calls: output.calls.length, updates: output.updates.length, entries: undo.addedEntries.length });
    const done = txn.abandon(undo);
    if (done === undefined) {
      this.gauges();
      return undefined;
    }
    return done.then(() => this.gauges());
  }

  private join(batch: Batch, reports: Report[], txn: JoinTxn, undo: UndoLog, now: number): Batch | Promise<Batch> {
    this.engine.begin(txn.index, undo);
    const made: Made = { calls: [], callVersions: [], updates: [], updateVersions: [] };
    try {
      for (const r of reports) {
        const outcome = this.engine.take(r, now);
        this.collect(outcome, r, made);
        if (outcome.kind === 'resent' || this.recounts.delete(r.record)) continue;
        if (r.count !== '') this.claudeCode.count(r.count, r.x.call);
        if (r.recovered !== undefined) this.withoutUsage.count('recovered', 1, now, r.recovered);
        if (r.count !== '' || r.recovered !== undefined) undo.counted.push(r.record);
      }
    } catch (err) {
      txn.abort()?.catch((e: Error) => this.ctx.logger.warn('join store: releasing a failed batch\'s locks failed (they expire)', { error: e.message }));
      return this.refused(undo, err);
    }
    undo.seal();
    this.gauges();
    // A new object per batch with reports: the key of its transaction for abandon(), whatever other pipelines do with the input.
    const out = reports.length === 0 ? this.passOn(batch) : { ...this.passOn(batch), ...this.withMade(batch, made) };
    const saved = txn.commit();
    if (saved === undefined) return this.committed(out, txn, undo);
    return saved.then(() => this.committed(out, txn, undo), (err: unknown) => this.refused(undo, err));
  }

  /** A report's outcome in the batch's new calls and updates. */
  private collect(o: Outcome, r: Report, made: Made): void {
    if (o.kind === 'billed') {
      made.calls.push(o.call);
      made.callVersions.push(o.version);
      this.m.records.inc({ source: o.call.source, shape: r.x.shape, record_type: o.call.record_type });
    } else if (o.kind === 'merged') {
      if (o.position >= 0 && made.calls[o.position] === o.replaces) {
        made.calls[o.position] = o.call;
        made.callVersions[o.position] = o.version;
        return;
      }
      made.updates.push(o.call);
      made.updateVersions.push(o.version);
      this.baseOf.set(o.call, o.replaces);
      this.m.updates.inc({ source: r.x.call.source });
    }
  }

  /**
   * The batch's calls and updates followed by this one's, with their versions (Batch.callVersions,
   * updateVersions) and the version each update replaces (Batch.updateBases), each while the
   * batch's own records all have one.
   */
  private withMade(batch: Batch, made: Made): Records {
    return {
      calls: [...batch.calls, ...made.calls],
      callVersions: alignedAppend(batch.callVersions, batch.calls.length, made.callVersions),
      updates: [...batch.updates, ...made.updates],
      updateVersions: alignedAppend(batch.updateVersions, batch.updates.length, made.updateVersions),
      updateBases: alignedAppend(batch.updateBases, batch.updates.length, made.updates.map((u) => this.baseOf.get(u)!)),
    };
  }

  /**
   * The batch as passed on: without the telemetry it read when nothing after it in the pipeline
   * reads telemetry (ComponentContext.telemetryAfter), so that the decoded spans are garbage at
   * once instead of living, promoted to V8's old generation, until every exporter acknowledged.
   */
  private passOn(batch: Batch): Batch {
    return this.ctx.telemetryAfter === false ? { ...batch, resourceSpans: [], resourceMetrics: [], resourceLogs: [] } : batch;
  }

  private committed(out: Batch, txn: JoinTxn, undo: UndoLog): Batch {
    if (!undo.empty || this.store.needsLookup) this.inFlight.set(out, { txn, undo });
    return out;
  }

  /** A batch the store refused: nothing of it is claimed, so its cumulative points count again on the re-send. */
  private refused(undo: UndoLog, err: unknown): never {
    this.cumulative.restore(undo.series);
    this.recount(undo.counted);
    throw err;
  }

  /**
   * Records whose Claude Code tokens or recovered LiteLLM span this process counted in a batch that
   * was then refused: the re-send does not count them again (the counters cannot go back).
   */
  private recount(records: readonly string[]): void {
    for (const r of records) {
      this.recounts.add(r);
      if (this.recounts.size > MAX_RECOUNTS) this.recounts.delete(this.recounts.values().next().value!);
    }
  }

  /** A link-only report no billable report joined: nothing was billed for it here. */
  private unjoinedLink(call: LlmCall, shape: Shape): void {
    this.m.unjoinedLinks.inc({ source: call.source, shape });
    this.ctx.logger.debug('link-only report joined no billable report', { call_id: call.call_id, shape, session_id: call.session_id });
  }

  private gauges(): void {
    const size = this.store.size();
    if (size !== undefined) this.m.indexEntries.set(size);
    const evictions = this.store.evictions();
    this.withoutUsage.countUnverified();
    if (evictions > this.evictionsSeen) {
      this.m.indexEvictions.inc(evictions - this.evictionsSeen);
      this.evictionsSeen = evictions;
    }
    this.m.cumulativeSeries.set(this.cumulative.size);
    if (this.cumulative.resets > this.resetsSeen) {
      this.m.cumulativeResets.inc(this.cumulative.resets - this.resetsSeen);
      this.resetsSeen = this.cumulative.resets;
    }
    this.claudeCode.setDrift();
  }
}

/** `known` (one per `length` records) followed by `added`; undefined when `known` does not cover every record. */
function alignedAppend<T>(known: T[] | undefined, length: number, added: T[]): T[] | undefined {
  const before = known ?? [];
  return before.length === length ? [...before, ...added] : undefined;
}
