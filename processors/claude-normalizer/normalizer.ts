import { resolve } from 'node:path';
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
import { ExactlyOnce, lookupOf, type Outcome } from './exactly-once.js';
import { classifyGenAI, extractGenAI } from './genai-semconv.js';
import { MemoryJoinStore, type JoinLookup, type JoinStore, type JoinTxn } from './join-store.js';
import { RedisJoinStore } from './join-store-redis.js';
import { extractLiteLLM, type LiteLLMOptions } from './litellm-extract.js';
import type { LiteLLMLayout } from './litellm-layout.js';
import { ENDED_SPAN_FIX, RAW_REQUEST_SPAN, recoverFromRawSpan } from './litellm-ended-span.js';
import { normalizerMetrics, type NormalizerMetrics } from './metrics.js';
import { isLiteLLMResource, RequestSpans } from './litellm-request-spans.js';
import { litellmLegacy } from './litellm-legacy.js';
import { litellmSemconv } from './litellm-semconv.js';
import { litellmV2 } from './litellm-v2.js';
import { extractOpenInference, isOpenInferenceLlm } from './openinference.js';
import { PlausibilityGate } from './plausibility-gate.js';
import { tokenVerdict } from './plausibility.js';
import { AttributeFilter } from './privacy.js';
import { ModelProviders } from './providers.js';
import { fingerprintKey, logRecordKey, spanRecordKey, usageIntervalKey } from './join-keys.js';
import { hasTokens } from './tokens.js';
import type { Extracted, Report, Shape } from './types.js';
import { UndoLog } from './undo-log.js';

/** Most specific first: a V2 span also carries the semconv keys, a semconv span the legacy ones. */
const LITELLM_LAYOUTS: readonly LiteLLMLayout[] = [litellmV2, litellmSemconv, litellmLegacy];

const SPAN_KIND_SERVER = 2;

/** Records of refused batches remembered as counted: more than clients re-send while an exporter refuses. */
const MAX_RECOUNTS = 100_000;

const NO_LOOKUP: JoinLookup = { keys: [], sessions: [] };


/** How often the warning about LiteLLM's spans without usage is repeated while they keep coming. */
const ENDED_SPAN_WARN_MS = 60_000;

/** The processor: decoded telemetry in, one LlmCall per real model call out (README.md). */
export class ClaudeNormalizer implements Processor {
  private readonly providers: ModelProviders;
  private readonly attribution: Attribution;
  private readonly filter: AttributeFilter;
  private readonly gate: PlausibilityGate;
  private readonly engine: ExactlyOnce;
  private readonly litellmOpts: LiteLLMOptions;
  private readonly store: JoinStore;
  private readonly cumulative: CumulativeState;
  private readonly requests = new RequestSpans();
  private endedSpanWarnedAt = -Infinity;
  private unverifiedSeen = 0;
  private readonly m: NormalizerMetrics;
  private readonly ccTotals = { events: new Map<TokenType, number>(), metrics: new Map<TokenType, number>() };
  /** Each committed batch in flight, by output: its transaction and what it changed, until its exporters accept it or abandon() takes it back. */
  private readonly inFlight = new WeakMap<Batch, { txn: JoinTxn; undo: UndoLog }>();
  /** The record an update replaces (Batch.updateBases). */
  private readonly baseOf = new WeakMap<LlmCall, LlmCall>();
  /** recount(): records of refused batches already counted, oldest forgotten first. */
  private readonly recounts = new Set<string>();
  private evictionsSeen = 0;
  private resetsSeen = 0;

  constructor(private readonly cfg: NormalizerConfig, private readonly ctx: ComponentContext, private readonly now: () => number = Date.now) {
    this.providers = new ModelProviders(cfg.model_providers);
    this.attribution = new Attribution(cfg.attribution, cfg.dimensions);
    this.m = ctx.metrics.declare(normalizerMetrics);
    this.gate = new PlausibilityGate(ctx.logger, this.m);
    this.engine = new ExactlyOnce(cfg.attributes.max_count, this.m, ctx.logger);
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
    this.engine.begin(txn.index, undo);
    const calls: LlmCall[] = [];
    const updates: LlmCall[] = [];
    try {
      for (const r of reports) {
        const outcome = this.engine.take(r, now);
        this.collect(outcome, r, calls, updates);
        if (outcome.kind === 'resent' || this.recounts.delete(r.record)) continue;
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

  /** A report's outcome in the batch's new calls and updates. */
  private collect(o: Outcome, r: Report, calls: LlmCall[], updates: LlmCall[]): void {
    if (o.kind === 'billed') {
      calls.push(o.call);
      this.m.records.inc({ source: o.call.source, shape: r.x.shape, record_type: o.call.record_type });
    } else if (o.kind === 'merged') {
      if (o.position >= 0 && calls[o.position] === o.replaces) {
        calls[o.position] = o.call;
        return;
      }
      updates.push(o.call);
      this.baseOf.set(o.call, o.replaces);
      this.m.updates.inc({ source: r.x.call.source });
    }
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
          this.report(reports, extractOpenInference(rs.resource, span, this.providers), spanRecordKey(span));
          continue;
        }
        const verdict = classifyGenAI(a);
        if (verdict === 'call' || (verdict === 'no_usage' && span.status.code === 2)) {
          this.report(reports, extractGenAI(rs.resource, span, this.providers, this.cfg.genai.input_includes_cache), spanRecordKey(span));
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
      const record = usageIntervalKey(call.call_id);
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
    if (this.cfg.dedupe.fingerprint_join && call.record_type === 'call' && call.session_id !== '' && hasTokens(call)) x.keys.push(fingerprintKey(call));
    reports.push({ x, record, counted: false, ...extra });
  }

  /** A link-only report no billable report joined: nothing was billed for it here. */
  private unjoinedLink(call: LlmCall, shape: Shape): void {
    this.m.unjoinedLinks.inc({ source: call.source, shape });
    this.ctx.logger.debug('link-only report joined no billable report', { call_id: call.call_id, shape, session_id: call.session_id });
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
