import { resolve } from 'node:path';
import type { Counter, Gauge } from 'prom-client';
import type { Batch } from '../../core/batch.js';
import type { ComponentContext, Processor } from '../../core/component.js';
import type { LlmCall, TokenType } from '../../core/llm-call.js';
import type { Attributes, ResourceLogs, ResourceMetrics, ResourceSpans, Span } from '../../core/telemetry.js';
import { Attribution } from './attribution.js';
import { str } from './attrs.js';
import { extractClaudeCodeEvent, isClaudeCodeEvent } from './claude-code-events.js';
import { isClaudeCodeMetrics, readUsageIntervals, usageIntervalCall, type UsageInterval } from './claude-code-metrics.js';
import { extractClaudeCodeSpan, isClaudeCodeLlmSpan } from './claude-code-traces.js';
import type { NormalizerConfig } from './config.js';
import { CumulativeState } from './cumulative.js';
import { classifyGenAI, extractGenAI } from './genai-semconv.js';
import type { IndexEntry, JoinIndex, SessionGroup } from './join-index.js';
import { MemoryJoinStore, type JoinLookup, type JoinStore, type JoinTxn } from './join-store.js';
import { RedisJoinStore } from './join-store-redis.js';
import { extractLiteLLM, type LiteLLMLayout, type LiteLLMOptions } from './litellm-common.js';
import { ENDED_SPAN_FIX, RAW_REQUEST_SPAN, recoverFromRawSpan } from './litellm-ended-span.js';
import { isLiteLLMResource, RequestSpans } from './litellm-request-spans.js';
import { litellmLegacy } from './litellm-legacy.js';
import { litellmSemconv } from './litellm-semconv.js';
import { litellmV2 } from './litellm-v2.js';
import { betterBreakdown, GATEWAY_SOURCE, mergeCall, tokensDiffer } from './merge.js';
import { extractOpenInference, isOpenInferenceLlm } from './openinference.js';
import { PlausibilityGate } from './plausibility-gate.js';
import { SdkSpanPairing, withSdkPair } from './sdk-span-pairing.js';
import { tokenVerdict } from './plausibility.js';
import { AttributeFilter } from './privacy.js';
import { ModelProviders } from './providers.js';
import { logRecordKey, spanRecordKey } from './record-key.js';
import { hasTokens } from './tokens.js';
import type { Extracted, Shape } from './types.js';
import { UndoLog } from './undo-log.js';

/** Most specific first: a V2 span also carries the semconv keys, a semconv span the legacy ones. */
const LITELLM_LAYOUTS: readonly LiteLLMLayout[] = [litellmV2, litellmSemconv, litellmLegacy];

/**
 * How far apart in time a usage-less gateway span and the client's report of a call may start to be
 * joined by session alone: the same call starts milliseconds apart at both, plus clock skew.
 */
const SESSION_MATCH_MS = 60_000;

const SPAN_KIND_SERVER = 2;

/** Records of refused batches remembered as counted: more than clients re-send while an exporter refuses. */
const MAX_RECOUNTS = 100_000;

/**
 * One report read from a batch, before exactly-once: `counted` for the Claude Code report this mode
 * only counts (firstSight), `count` for the Claude Code token totals it feeds when first seen.
 */
interface Report {
  x: Extracted;
  record: string;
  counted: boolean;
  count: 'events' | 'metrics' | '';
  /** A call recovered from LiteLLM's raw_gen_ai_request span: counted as recovered once it is taken (not on a re-send). */
  recovered?: { trace_id: string; service_name: string };
}

const NO_LOOKUP: JoinLookup = { keys: [], sessions: [] };

interface Metrics {
  records: Counter<'source' | 'shape' | 'record_type'>;
  unknown: Counter<'signal' | 'reason'>;
  duplicates: Counter<'source'>;
  joins: Counter<'first' | 'second'>;
  updates: Counter<'source'>;
  joinMismatch: Counter<'first' | 'second'>;
  inconsistent: Counter<'source' | 'reason'>;
  ccTokens: Counter<'from' | 'type'>;
  ccDrift: Gauge<'type'>;
  indexEntries: Gauge;
  indexEvictions: Counter;
  cumulativeSeries: Gauge;
  cumulativeResets: Counter;
  unjoinedLinks: Counter<'source' | 'shape'>;
  endedSpans: Counter<'outcome'>;
  storeErrors: Counter<'op'>;
  abandoned: Counter;
}

/** How often the warning about LiteLLM's spans without usage is repeated while they keep coming. */
const ENDED_SPAN_WARN_MS = 60_000;

/** The processor: decoded telemetry in, one LlmCall per real model call out (README.md). */
export class ClaudeNormalizer implements Processor {
  private readonly providers: ModelProviders;
  private readonly attribution: Attribution;
  private readonly filter: AttributeFilter;
  private readonly gate: PlausibilityGate;
  private readonly litellmOpts: LiteLLMOptions;
  private readonly store: JoinStore;
  /** The index of the batch being joined: the store's, for the duration of one transaction. */
  private index!: JoinIndex;
  private readonly cumulative: CumulativeState;
  private readonly requests = new RequestSpans();
  private readonly sdkPairing = new SdkSpanPairing();
  private endedSpanWarnedAt = -Infinity;
  private unverifiedSeen = 0;
  private readonly m: Metrics;
  private readonly ccTotals = { events: new Map<TokenType, number>(), metrics: new Map<TokenType, number>() };
  private batchSeq = 0;
  /** Each committed batch in flight, by output: its transaction and what it changed, until its exporters accept it or abandon() takes it back. */
  private readonly inFlight = new WeakMap<Batch, { txn: JoinTxn; undo: UndoLog }>();
  /** The record an update replaces (Batch.updateBases). */
  private readonly baseOf = new WeakMap<LlmCall, LlmCall>();
  /** The joining batch's log: a join runs synchronously, so one batch at a time writes to it. */
  private undo!: UndoLog;
  /** recount(): records of refused batches already counted, oldest forgotten first. */
  private readonly recounts = new Set<string>();
  private evictionsSeen = 0;
  private resetsSeen = 0;

  constructor(private readonly cfg: NormalizerConfig, private readonly ctx: ComponentContext, private readonly now: () => number = Date.now) {
    this.providers = new ModelProviders(cfg.model_providers);
    this.attribution = new Attribution(cfg.attribution, cfg.dimensions);
    this.gate = new PlausibilityGate(ctx);
    this.filter = new AttributeFilter(cfg.attributes.include, cfg.attributes.max_count, cfg.attributes.max_value_length, () => this.gate.truncated('attributes'));
    this.litellmOpts = { providers: this.providers, promptTokensInclude: cfg.litellm.prompt_tokens_include };
    this.store = cfg.dedupe.store === 'redis'
      // Namespaced by pipeline and component id: another pipeline's normalizer sees its own copies of the data.
      ? new RedisJoinStore(cfg.dedupe.redis, ctx.pipeline === undefined ? ctx.id : `${ctx.pipeline}/${ctx.id}`, ctx.logger, (op) => this.m.storeErrors.inc({ op }))
      : new MemoryJoinStore(cfg.dedupe.window_seconds * 1000, cfg.dedupe.max_entries, (e) => {
        if (!e.billed) this.unjoinedLink(e.record, e.shapes[0]);
      }, now, cfg.dedupe.snapshot.path === '' ? undefined : {
        file: resolve(ctx.configDir, cfg.dedupe.snapshot.path), intervalMs: cfg.dedupe.snapshot.interval_seconds * 1000,
        logger: ctx.logger, onError: (op) => this.m.storeErrors.inc({ op }),
      });
    this.cumulative = new CumulativeState(cfg.cumulative.max_series);
    const mt = ctx.metrics;
    this.m = {
      records: mt.counter('tokenledger_normalizer_records_total', 'LlmCall records emitted, by source and telemetry shape.', ['source', 'shape', 'record_type']),
      unknown: mt.counter('tokenledger_normalizer_unknown_shapes_total', 'LLM-looking telemetry the normalizer did not understand and skipped.', ['signal', 'reason']),
      duplicates: mt.counter('tokenledger_normalizer_duplicates_total', 'Re-sent reports (of a call, or of Claude Code usage only counted against the billed reports) and repeated reports of one call by one shape, dropped.', ['source']),
      joins: mt.counter('tokenledger_normalizer_joins_total', 'Reports of an already emitted call from another source or shape, joined to it.', ['first', 'second']),
      updates: mt.counter('tokenledger_normalizer_updates_total', 'Updates emitted for already emitted calls a join enriched.', ['source']),
      joinMismatch: mt.counter('tokenledger_normalizer_join_token_mismatch_total', 'Joined reports of one call whose tokens disagree (the first report is kept).', ['first', 'second']),
      inconsistent: mt.counter('tokenledger_normalizer_inconsistent_tokens_total', 'Reports whose tokens could not be made consistent (emitted, flagged) or were missing (reason missing_usage: kept as a link, not billed).', ['source', 'reason']),
      ccTokens: mt.counter('tokenledger_normalizer_claude_code_tokens_total', 'Claude Code tokens as reported by its events and by its metrics, whichever is billed.', ['from', 'type']),
      ccDrift: mt.gauge('tokenledger_normalizer_claude_code_drift_tokens', 'Claude Code tokens reported by metrics minus tokens reported by api_request events, since start.', ['type']),
      indexEntries: mt.gauge('tokenledger_normalizer_index_entries', 'Calls held in the exactly-once join index.'),
      indexEvictions: mt.counter('tokenledger_normalizer_index_evictions_total', 'Calls dropped from the join index (window passed or bound reached).'),
      cumulativeSeries: mt.gauge('tokenledger_normalizer_cumulative_series', 'Cumulative metric series tracked to compute deltas.'),
      cumulativeResets: mt.counter('tokenledger_normalizer_cumulative_resets_total', 'Cumulative series that restarted (new start time or lower value).'),
      abandoned: mt.counter('tokenledger_normalizer_abandoned_records_total', 'Records (calls and updates) of batches the exporters refused (retry later), taken back from the join store so that the re-send counts.'),
      unjoinedLinks: mt.counter('tokenledger_normalizer_unjoined_links_total', 'Link-only reports (LiteLLM spans without usage, Claude Code spans) that no billable report joined: nothing billed for them.', ['source', 'shape']),
      endedSpans: mt.counter('tokenledger_normalizer_litellm_spans_without_usage_total',
        `LiteLLM calls exported without usage because LiteLLM set it on an already ended span (fix: ${ENDED_SPAN_FIX}): outcome recovered (exactly, from the provider usage on raw_gen_ai_request), lost, or unverified (a request span dropped from a full watch list).`, ['outcome']),
      storeErrors: mt.counter('tokenledger_normalizer_join_store_errors_total', 'Join store failures: batches refused (retryable) because Redis failed (op load, save, release, resolve), held their calls too long (busy) or outlived their locks (lock_lost); in-memory index snapshots not written (snapshot).', ['op']),
    };
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
    const unreported = this.requests.expire(now);
    if (unreported > 0) this.spansWithoutUsage('lost', unreported, now, {});
    const undo = new UndoLog();
    const reports: Report[] = [];
    for (const rs of batch.resourceSpans) this.spans(rs, reports, now);
    for (const rl of batch.resourceLogs) this.logs(rl, reports);
    for (const rm of batch.resourceMetrics) this.metrics(rm, reports, undo);
    if (reports.length === 0 && this.store.needsLookup) return batch;
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
    this.index = txn.index;
    this.undo = undo;
    this.batchSeq++;
    const calls: LlmCall[] = [];
    const updates: LlmCall[] = [];
    try {
      for (const r of reports) {
        const fresh = r.counted ? this.firstSight(r.x, r.record, now) : this.accept(r.x, r.record, calls, updates, now);
        if (!fresh || this.recounts.delete(r.record)) continue;
        if (r.count !== '') this.countClaudeCode(r.count, r.x.call);
        if (r.recovered !== undefined) this.spansWithoutUsage('recovered', 1, now, r.recovered);
        if (r.count !== '' || r.recovered !== undefined) undo.counted.push(r.record);
      }
    } catch (err) {
      txn.abort()?.catch((e: Error) => this.ctx.logger.warn('join store: releasing a failed batch\'s locks failed (they expire)', { error: e.message }));
      return this.refused(undo, err);
    }
    undo.seal();
    this.gauges();
    // A new object per batch with reports: the key of its transaction for abandon(), whatever other pipelines do with the input.
    const out = reports.length === 0 ? batch : { ...batch, calls: [...batch.calls, ...calls], ...this.withUpdates(batch, updates) };
    const saved = txn.commit();
    if (saved === undefined) return this.committed(out, txn, undo);
    return saved.then(() => this.committed(out, txn, undo), (err: unknown) => this.refused(undo, err));
  }

  /** The batch's updates and this one's, each with the version it replaces (Batch.updateBases) while every update has one. */
  private withUpdates(batch: Batch, updates: LlmCall[]): Pick<Batch, 'updates' | 'updateBases'> {
    const all = [...batch.updates, ...updates];
    const known = batch.updateBases ?? [];
    if (known.length !== batch.updates.length) return { updates: all };
    return { updates: all, updateBases: [...known, ...updates.map((u) => this.baseOf.get(u)!)] };
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

  private spans(rs: ResourceSpans, reports: Report[], now: number): void {
    const usageFromMetrics = this.cfg.claude_code.usage_from === 'metrics';
    let byId: Map<string, Span> | undefined;
    // Judged once the whole request is read: the raw span's parent may come later in it.
    const raws: { span: Span; scopeVersion: string }[] = [];
    const fromLiteLLM = isLiteLLMResource(rs.resource);
    const sdkPairs = this.sdkPairing.pair(rs, now);
    for (const ss of rs.scopeSpans) {
      for (const span of ss.spans) {
        const a = span.attributes;
        if (isClaudeCodeLlmSpan(span)) {
          // The api_request event bills the call; the span only links it (to LiteLLM through traceparent).
          if (!usageFromMetrics) this.report(reports, { ...extractClaudeCodeSpan(rs.resource, span, this.providers), linkOnly: true }, spanRecordKey(span));
          continue;
        }
        if (ss.scope.name.startsWith('com.anthropic.claude_code')) continue;
        const layout = LITELLM_LAYOUTS.find((l) => l.detect(a));
        if (layout) {
          const x = extractLiteLLM(layout, rs.resource, ss.scope.version, span, clientSpanOf(span, () => (byId ??= spanIndex(rs))), this.litellmOpts);
          // A successful call logged without usage (streamed pass-through before 1.108) bills nothing:
          // flagged, kept only as a link, so a client's report of the call is still one record.
          if (x.call.status === 'ok' && !hasTokens(x.call)) {
            x.tokenIssue ||= 'missing_usage';
            x.linkOnly = true;
          }
          this.report(reports, x, spanRecordKey(span));
          this.requests.noteReported(span);
          continue;
        }
        if (span.name === RAW_REQUEST_SPAN) {
          raws.push({ span, scopeVersion: ss.scope.version });
          this.requests.noteReported(span);
        } else {
          this.requests.noteBare(span, now, fromLiteLLM);
        }
        if (isOpenInferenceLlm(a)) {
          this.report(reports, withSdkPair(extractOpenInference(rs.resource, span, this.providers), sdkPairs.get(span)), spanRecordKey(span));
          continue;
        }
        const verdict = classifyGenAI(a);
        if (verdict === 'call' || (verdict === 'no_usage' && span.status.code === 2)) {
          this.report(reports, withSdkPair(extractGenAI(rs.resource, span, this.providers, this.cfg.genai.input_includes_cache, ss.scope.name), sdkPairs.get(span)), spanRecordKey(span));
        } else if (verdict === 'no_model' || verdict === 'no_usage') {
          this.unknown('traces', `genai_${verdict}`, span.name, a);
        }
      }
    }
    for (const raw of raws) this.endedSpanCall(rs, raw.span, raw.scopeVersion, reports, now);
  }

  /** A raw_gen_ai_request span whose parent went out without LLM attributes: recovered when exact, else lost; loudly either way. */
  private endedSpanCall(rs: ResourceSpans, raw: Span, scopeVersion: string, reports: Report[], now: number): void {
    const parentRoute = this.requests.bareParentRoute(raw);
    if (parentRoute === undefined) return;
    const x = recoverFromRawSpan(rs.resource, scopeVersion, raw, parentRoute, this.providers);
    const fields = { trace_id: raw.traceId, service_name: str(rs.resource, 'service.name') };
    if (x === null) {
      this.spansWithoutUsage('lost', 1, now, fields);
      return;
    }
    // Counted as recovered when the join takes it: a re-sent raw span is billed and counted once (its record key).
    this.report(reports, x, spanRecordKey(raw), { count: '', recovered: fields });
  }

  /** Counts calls LiteLLM sent without usage; the warning naming the fix is repeated at most every ENDED_SPAN_WARN_MS. */
  private spansWithoutUsage(outcome: 'recovered' | 'lost', n: number, now: number, fields: Record<string, string>): void {
    this.m.endedSpans.inc({ outcome }, n);
    if (now - this.endedSpanWarnedAt < ENDED_SPAN_WARN_MS) return;
    this.endedSpanWarnedAt = now;
    this.ctx.logger.warn(`LiteLLM sent spans without usage: it set the LLM attributes on a request span that had already ended. Set ${ENDED_SPAN_FIX} in LiteLLM's environment.`, {
      outcome, calls: n, ...fields, metric: 'tokenledger_normalizer_litellm_spans_without_usage_total',
    });
  }

  private logs(rl: ResourceLogs, reports: Report[]): void {
    const usageFromMetrics = this.cfg.claude_code.usage_from === 'metrics';
    for (const sl of rl.scopeLogs) {
      for (const rec of sl.logRecords) {
        const kind = isClaudeCodeEvent(sl.scope.name, rec);
        if (kind === '') {
          if ('gen_ai.usage.input_tokens' in rec.attributes || 'gen_ai.usage.output_tokens' in rec.attributes) {
            this.unknown('logs', 'genai_usage_on_log', rec.eventName || sl.scope.name, rec.attributes);
          }
          continue;
        }
        const x = extractClaudeCodeEvent(kind, rl.resource, rec, this.providers);
        const count = kind === 'api_request' ? 'events' : '';
        if (usageFromMetrics) reports.push({ x, record: logRecordKey(rec), counted: true, count });
        else this.report(reports, x, logRecordKey(rec), { count });
      }
    }
  }

  private metrics(rm: ResourceMetrics, reports: Report[], undo: UndoLog): void {
    if (!isClaudeCodeMetrics(rm)) return;
    const usageFromMetrics = this.cfg.claude_code.usage_from === 'metrics';
    for (const iv of readUsageIntervals(rm, this.cumulative, undo.series)) {
      const { call, view } = usageIntervalCall(iv, this.providers);
      const x: Extracted = { call, view, shape: 'claude_code_metrics', keys: [], tokenIssue: intervalIssue(iv) };
      const record = `uiv:${call.call_id}`;
      if (usageFromMetrics) this.report(reports, x, record, { count: 'metrics' });
      else reports.push({ x, record, counted: true, count: 'metrics' });
    }
  }

  /**
   * A report to bill (accept), added to the batch's reports: attribution and kept attributes, the
   * plausibility gate, and its fingerprint key, which needs the attributed session — all before the
   * join, whose store must know the batch's keys. A quarantined report is not added.
   */
  private report(reports: Report[], x: Extracted, record: string, extra: Pick<Report, 'count' | 'recovered'> = { count: '' }): void {
    const call = x.call;
    this.attribution.apply(call, x.view);
    call.attributes = this.filter.pick(x.view.attrs, x.view.resource, x.extraAttributes);
    // Before the join: a quarantined report is never billed nor joined, and no multi-megabyte value is held.
    if (!this.gate.admit(x)) return;
    if (this.cfg.dedupe.fingerprint_join && call.record_type === 'call' && call.session_id !== '' && hasTokens(call)) x.keys.push(fingerprint(call));
    reports.push({ x, record, counted: false, ...extra });
  }

  /**
   * Exactly-once for a report(): re-sent record or second report of a shape (dropped), new call, or
   * second source (joined). `record` is the identity of the telemetry record read (record-key.ts):
   * a record seen before is a re-send whatever ids it carries. False for a re-send.
   */
  private accept(x: Extracted, record: string, calls: LlmCall[], updates: LlmCall[], now: number): boolean {
    const call = x.call;
    if (this.index.find([record]) !== undefined) {
      this.duplicate(call, x.shape);
      return false;
    }
    if (x.tokenIssue !== '') {
      this.m.inconsistent.inc({ source: call.source, reason: x.tokenIssue });
      this.ctx.logger.debug('inconsistent tokens', { call_id: call.call_id, shape: x.shape, reason: x.tokenIssue });
    }
    // A successful gateway span without usage (LiteLLM 1.80 streamed /anthropic): never billed, only
    // a carrier of the gateway's attribution for the client's report of the call.
    const usageless = x.linkOnly === true && call.record_type === 'call' && !hasTokens(call);
    const found = x.keys.length > 0 ? this.index.find(x.keys) : undefined;
    const entry = (found && (!found.key.startsWith('fp:') || fingerprintJoins(found.entry, x, call)) ? found.entry : undefined)
      ?? (usageless ? this.closest(this.index.clientCalls, call) : undefined);
    const keys = [...x.keys, record];
    if (entry === undefined) {
      // Every report is indexed, if only by its record key, so that a re-send of it is recognised.
      if (x.linkOnly) {
        const link = this.index.add(call, x.shape, keys, now, false, this.batchSeq, -1);
        this.undo.add(link);
        if (usageless && call.session_id !== '') this.index.links.add(link);
        return true;
      }
      const link = this.gatewayLinkFor(call);
      const billed = link === undefined ? call : mergeCall(call, link.record, this.cfg.attributes.max_count) ?? call;
      const added = this.index.add(billed, x.shape, keys, now, true, this.batchSeq, calls.length);
      this.undo.add(added);
      added.splitKnown = x.cacheSplitKnown === true;
      if (link !== undefined) this.absorb(added, link, call);
      else if (this.awaitsGateway(call)) this.index.clientCalls.add(added);
      this.emit(billed, x, calls);
      return true;
    }
    const first = entry.record;
    if (entry.shapes.includes(x.shape)) {
      this.undo.touch(entry);
      this.index.addKeys(entry, [record]);
      this.duplicate(first, x.shape);
      return true;
    }
    this.undo.touch(entry);
    this.index.addKeys(entry, keys);
    entry.shapes.push(x.shape);
    // The gateway has reported this call: no usage-less gateway span is looking for it any more.
    if (call.source === GATEWAY_SOURCE) this.index.clientCalls.remove(entry);
    if (!entry.billed) {
      if (x.linkOnly) {
        entry.pending.push(call);
        return true;
      }
      // The first billable report of a call only linked so far: billed now, with what the links knew.
      this.index.links.remove(entry);
      let billed = call;
      for (const known of [first, ...entry.pending]) billed = mergeCall(billed, known, this.cfg.attributes.max_count) ?? billed;
      const link = entry.shapes.some(isGatewayShape) ? undefined : this.gatewayLinkFor(call);
      if (link !== undefined) billed = mergeCall(billed, link.record, this.cfg.attributes.max_count) ?? billed;
      entry.pending = [];
      entry.record = billed;
      entry.billed = true;
      entry.splitKnown = x.cacheSplitKnown === true;
      entry.batch = this.batchSeq;
      entry.position = calls.length;
      if (link !== undefined) this.absorb(entry, link, call);
      else if (this.awaitsGateway(call) && !entry.shapes.some(isGatewayShape)) this.index.clientCalls.add(entry);
      this.m.joins.inc({ first: first.source, second: call.source });
      this.emit(billed, x, calls);
      return true;
    }
    this.m.joins.inc({ first: first.source, second: call.source });
    let merged = mergeCall(first, call, this.cfg.attributes.max_count);
    if (!usageless) {
      if (tokensDiffer(first, call)) {
        this.m.joinMismatch.inc({ first: first.source, second: call.source });
        this.ctx.logger.debug('joined reports disagree on tokens', { call_id: first.call_id, shape: x.shape });
      }
      // The one token change a join may make: a finer breakdown of the same prompt, or the provider
      // SDK's own counts, from the report that knows them (merge.ts, betterBreakdown). Row stores then
      // price it right; /metrics counts only the rise of the cost (README, "Exactly once").
      const finer = betterBreakdown(first, entry.splitKnown, call, x.cacheSplitKnown === true, x.shape === 'anthropic_sdk');
      if (finer !== null) {
        merged ??= { ...first };
        merged.input_tokens = finer.input;
        merged.output_tokens = finer.output;
        merged.cache_read_tokens = finer.read;
        merged.cache_write_5m_tokens = finer.m5;
        merged.cache_write_1h_tokens = finer.h1;
        entry.splitKnown ||= x.cacheSplitKnown === true;
      }
    }
    if (merged === null) return true;
    entry.record = merged;
    if (entry.batch === this.batchSeq && calls[entry.position] === first) {
      calls[entry.position] = merged;
    } else {
      updates.push(merged);
      this.baseOf.set(merged, first);
      this.m.updates.inc({ source: call.source });
    }
    return true;
  }

  /** A billed client call that a usage-less gateway span of its session may still join. */
  private awaitsGateway(call: LlmCall): boolean {
    return call.source === 'claude_code' && call.record_type === 'call' && call.session_id !== '';
  }

  /** A usage-less gateway span waiting for this client call, if any. */
  private gatewayLinkFor(call: LlmCall): IndexEntry | undefined {
    return this.awaitsGateway(call) ? this.closest(this.index.links, call) : undefined;
  }

  /** The usage-less gateway span's keys and shapes now lead to the client call's entry. */
  private absorb(entry: IndexEntry, link: IndexEntry, call: LlmCall): void {
    this.undo.touch(link);
    this.index.links.remove(link);
    this.index.addKeys(entry, link.keys);
    for (const shape of link.shapes) if (!entry.shapes.includes(shape)) entry.shapes.push(shape);
    link.billed = true; // joined: not an unjoined link when it leaves the index
    this.m.joins.inc({ first: link.record.source, second: call.source });
  }

  /**
   * The entry of `group` with the same session and model (or a model the gateway could not name)
   * that started closest to `call`, within SESSION_MATCH_MS: how a usage-less gateway span and the
   * client's report of its call, which share no id and no tokens, find each other.
   */
  private closest(group: SessionGroup, call: LlmCall): IndexEntry | undefined {
    if (call.session_id === '' || call.record_type !== 'call') return undefined;
    const candidates = group.get(call.session_id);
    if (candidates.length === 0) return undefined;
    const t = Date.parse(call.timestamp);
    let best: IndexEntry | undefined;
    let bestGap = SESSION_MATCH_MS;
    for (const e of candidates) {
      if (!modelsMatch(e.record.model, call.model)) continue;
      const gap = Math.abs(Date.parse(e.record.timestamp) - t);
      if (gap <= bestGap) { best = e; bestGap = gap; }
    }
    return best;
  }

  /**
   * For the Claude Code report this mode does not bill (events when billing metrics, usage intervals
   * when billing events), only counted against the other: whether its record is new, remembered in
   * the index by its record key alone so that a re-send neither counts twice nor joins anything.
   */
  private firstSight(x: Extracted, record: string, now: number): boolean {
    if (this.index.find([record]) !== undefined) {
      this.duplicate(x.call, x.shape);
      return false;
    }
    this.undo.add(this.index.add(x.call, x.shape, [record], now, true, this.batchSeq, -1));
    return true;
  }

  private duplicate(call: LlmCall, shape: Shape): void {
    this.m.duplicates.inc({ source: call.source });
    this.ctx.logger.debug('duplicate report dropped', { call_id: call.call_id, shape });
  }

  /** A link-only report no billable report joined: nothing was billed for it here. */
  private unjoinedLink(call: LlmCall, shape: Shape): void {
    this.m.unjoinedLinks.inc({ source: call.source, shape });
    this.ctx.logger.debug('link-only report joined no billable report', { call_id: call.call_id, shape, session_id: call.session_id });
  }

  private emit(call: LlmCall, x: Extracted, calls: LlmCall[]): void {
    calls.push(call);
    this.m.records.inc({ source: call.source, shape: x.shape, record_type: call.record_type });
  }

  private countClaudeCode(from: 'events' | 'metrics', call: LlmCall): void {
    // Impossible counts (a negative delta, NaN) would throw in or poison the counters; the gate counts them.
    if (tokenVerdict(call) === 'invalid_tokens') return;
    const totals = this.ccTotals[from];
    const add = (type: TokenType, n: number) => {
      if (n === 0) return;
      this.m.ccTokens.inc({ from, type }, n);
      totals.set(type, (totals.get(type) ?? 0) + n);
    };
    add('input', call.input_tokens);
    add('output', call.output_tokens);
    add('cache_read', call.cache_read_tokens);
    add('cache_write_5m', call.cache_write_5m_tokens + call.cache_write_1h_tokens);
  }

  private unknown(signal: string, reason: string, name: string, attrs: Attributes): void {
    this.m.unknown.inc({ signal, reason });
    if (this.ctx.logger.isLevelEnabled('debug')) {
      // Attribute names only: values may hold prompt content.
      this.ctx.logger.debug('unknown LLM-looking telemetry skipped', { signal, reason, name, keys: Object.keys(attrs).slice(0, 50) });
    }
  }

  private gauges(): void {
    const size = this.store.size();
    if (size !== undefined) this.m.indexEntries.set(size);
    const evictions = this.store.evictions();
    if (this.requests.unverified > this.unverifiedSeen) {
      this.m.endedSpans.inc({ outcome: 'unverified' }, this.requests.unverified - this.unverifiedSeen);
      this.unverifiedSeen = this.requests.unverified;
    }
    if (evictions > this.evictionsSeen) {
      this.m.indexEvictions.inc(evictions - this.evictionsSeen);
      this.evictionsSeen = evictions;
    }
    this.m.cumulativeSeries.set(this.cumulative.size);
    if (this.cumulative.resets > this.resetsSeen) {
      this.m.cumulativeResets.inc(this.cumulative.resets - this.resetsSeen);
      this.resetsSeen = this.cumulative.resets;
    }
    for (const type of ['input', 'output', 'cache_read', 'cache_write_5m'] as const) {
      this.m.ccDrift.set({ type }, (this.ccTotals.metrics.get(type) ?? 0) - (this.ccTotals.events.get(type) ?? 0));
    }
  }
}

/**
 * Session, model and exact tokens: the key that joins a gateway's and a client's report of one call
 * when they share no id (LiteLLM 1.81 keeps neither the upstream request id nor the client's
 * traceparent on /v1/messages). Write tokens are summed: one side may have lost the 5m/1h split.
 */
function fingerprint(c: LlmCall): string {
  return `fp:${c.session_id}:${c.model}:${c.input_tokens}:${c.output_tokens}:${c.cache_read_tokens}:${c.cache_write_5m_tokens + c.cache_write_1h_tokens}`;
}

/**
 * Whether a fingerprint match joins: two sources whose ids do not contradict it, or two shapes of
 * one source in the same trace (Claude Code's api_request event and its llm_request span, when
 * neither carries a request id: /v1/messages through LiteLLM 1.80 and 1.81).
 */
function fingerprintJoins(e: IndexEntry, x: Extracted, call: LlmCall): boolean {
  if (idsConflict(e.keys, x.keys)) return false;
  if (e.record.source !== call.source) return true;
  return call.trace_id !== '' && e.record.trace_id === call.trace_id && !e.shapes.includes(x.shape);
}

function isGatewayShape(shape: Shape): boolean {
  return shape.startsWith('litellm');
}

/** A model the gateway could not name (`unknown` on LiteLLM 1.80's pass-through spans) matches any. */
function modelsMatch(a: string, b: string): boolean {
  return a === b || a === '' || b === '' || a === 'unknown' || b === 'unknown';
}

/** Two reports carry the same kind of id (request, response, LiteLLM call id) with different values. */
function idsConflict(a: readonly string[], b: readonly string[]): boolean {
  for (const ka of a) {
    const kind = ka.slice(0, ka.indexOf(':') + 1);
    if (kind === 'fp:' || kind === 'span:' || kind === 'rec:') continue;
    for (const kb of b) if (kb.startsWith(kind) && kb !== ka) return true;
  }
  return false;
}

/**
 * Every key the batch's reports may look up, and the sessions in which a usage-less gateway span
 * and a client call may meet (accept(): `usageless`, awaitsGateway()) — only those, as a shared
 * store locks them: a session every gateway call carries would serialize every batch.
 */
function lookupOf(reports: readonly Report[]): JoinLookup {
  const keys: string[] = [];
  const sessions: string[] = [];
  for (const { x, record } of reports) {
    keys.push(record, ...x.keys);
    const c = x.call;
    if (c.record_type === 'call' && c.session_id !== '' && (c.source === 'claude_code' || (x.linkOnly === true && !hasTokens(c)))) sessions.push(c.session_id);
  }
  return { keys, sessions };
}

function intervalIssue(iv: UsageInterval): string {
  return iv.input < 0 || iv.output < 0 || iv.cacheRead < 0 || iv.cacheCreation < 0 ? 'negative_delta' : '';
}

function spanIndex(rs: ResourceSpans): Map<string, Span> {
  const m = new Map<string, Span>();
  for (const ss of rs.scopeSpans) for (const s of ss.spans) m.set(s.spanId, s);
  return m;
}

/**
 * The span id of the client's span that called LiteLLM, when the client propagated `traceparent`:
 * the parent of LiteLLM's SERVER root span — the LLM span itself from 1.81 on, its parent
 * `Received Proxy Server Request` (`litellm_request` child), or a few levels up in V2
 * (`chat …` → `fastapi.dependencies` → `POST /…`). '' when that chain is not in the batch.
 */
function clientSpanOf(span: Span, spans: () => Map<string, Span>): string {
  let s: Span | undefined = span;
  for (let depth = 0; depth < 8 && s !== undefined && s.parentSpanId !== ''; depth++) {
    if (s.kind === SPAN_KIND_SERVER || s.name === 'Received Proxy Server Request') return s.parentSpanId;
    s = spans().get(s.parentSpanId);
  }
  return '';
}
