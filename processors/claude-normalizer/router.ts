import type { Batch } from '../../core/batch.js';
import type { Logger } from '../../core/logger.js';
import type { Attributes, ResourceLogs, ResourceMetrics, ResourceSpans, Span } from '../../core/telemetry.js';
import { Attribution } from './attribution.js';
import type { NormalizerConfig } from './config.js';
import type { CumulativeState, SeriesChange } from './cumulative.js';
import { fingerprintKey, logRecordKey, spanRecordKey } from './join-keys.js';
import { RAW_REQUEST_SPAN } from './litellm-ended-span.js';
import { isLiteLLMResource } from './litellm-request-spans.js';
import type { SpansWithoutUsage } from './litellm-spans-without-usage.js';
import type { NormalizerMetrics } from './metrics.js';
import { PlausibilityGate } from './plausibility-gate.js';
import { AttributeFilter } from './privacy.js';
import { ModelProviders } from './providers.js';
import { SdkSpanPairing, withSdkPair } from './sdk-span-pairing.js';
import { StringPool } from './string-pool.js';
import type { Read, ReadOptions, SpanReader, SpanSite } from './reader.js';
import { LOG_READERS, METRIC_READERS, SPAN_READERS } from './readers.js';
import { hasTokens } from './tokens.js';
import type { Extracted, Report } from './types.js';

/** Distinct repeated strings kept (a few MB at most). */
const STRING_POOL_SIZE = 20_000;

/**
 * Reads a batch's telemetry into the reports the exactly-once join takes, in order: each record to
 * the first reader of its signal's table that detects it (readers.ts), then, for a record to bill,
 * attribution, kept attributes, the plausibility gate and the fingerprint key — all before the
 * join, whose store must know the batch's keys.
 */
export class ShapeRouter {
  private readonly opts: ReadOptions;
  private readonly attribution: Attribution;
  private readonly filter: AttributeFilter;
  private readonly gate: PlausibilityGate;
  /** A library's span and the provider SDK's own span of one call that share no id (sdk-span-pairing.ts). */
  private readonly sdkPairing = new SdkSpanPairing();
  private readonly strings = new StringPool(STRING_POOL_SIZE);

  constructor(
    private readonly cfg: NormalizerConfig,
    private readonly logger: Logger,
    private readonly m: NormalizerMetrics,
    private readonly cumulative: CumulativeState,
    private readonly withoutUsage: SpansWithoutUsage,
  ) {
    const providers = new ModelProviders(cfg.model_providers);
    this.opts = {
      providers, litellm: { providers, promptTokensInclude: cfg.litellm.prompt_tokens_include },
      genaiInputIncludesCache: cfg.genai.input_includes_cache, usageFromMetrics: cfg.claude_code.usage_from === 'metrics',
    };
    this.attribution = new Attribution(cfg.attribution, cfg.dimensions);
    this.gate = new PlausibilityGate(logger, m);
    this.filter = new AttributeFilter(cfg.attributes.include, cfg.attributes.max_count, cfg.attributes.max_value_length, () => this.gate.truncated('attributes'));
  }

  /** The batch's reports; `series` collects the cumulative points they moved (undone if the batch is refused). */
  read(batch: Batch, series: SeriesChange[], now: number): Report[] {
    const reports: Report[] = [];
    for (const rs of batch.resourceSpans) this.spans(rs, reports, now);
    for (const rl of batch.resourceLogs) this.logs(rl, reports);
    for (const rm of batch.resourceMetrics) this.metrics(rm, reports, series);
    return reports;
  }

  private spans(rs: ResourceSpans, reports: Report[], now: number): void {
    let byId: Map<string, Span> | undefined;
    const spanById = (id: string): Span | undefined => (byId ??= spanIndex(rs)).get(id);
    // Judged once the whole request is read: the raw span's parent may come later in it.
    const raws: { span: Span; scopeVersion: string }[] = [];
    const fromLiteLLM = isLiteLLMResource(rs.resource);
    const requests = this.withoutUsage.requests;
    const found: { span: Span; site: SpanSite; reader: SpanReader | undefined }[] = [];
    for (const ss of rs.scopeSpans) {
      const site: SpanSite = { resource: rs.resource, scope: ss.scope, spanById };
      for (const span of ss.spans) found.push({ span, site, reader: SPAN_READERS.find((r) => r.detect(span, site)) });
    }
    // Only spans the generic readers read can be a library's or the SDK's report of one call: a
    // gateway's (LiteLLM's) spans never pair, and pairing every one of them costs a scan each.
    const generic = found.filter((f) => f.reader?.family === 'other').map(({ span, site }) => ({ span, scope: site.scope.name }));
    const sdkPairs = this.sdkPairing.pair(rs.resource, generic, now);
    for (const { span, site, reader } of found) {
      const family = reader?.family ?? 'other';
      if (family === 'litellm') {
        requests.noteReported(span);
      } else if (family === 'other' && span.name === RAW_REQUEST_SPAN) {
        raws.push({ span, scopeVersion: site.scope.version });
        requests.noteReported(span);
      } else if (family === 'other') {
        requests.noteBare(span, now, fromLiteLLM);
      }
      const reading = reader?.read(span, site, this.opts) ?? null;
      if (reading === null) continue;
      if ('unknown' in reading) this.unknown('traces', reading.unknown, span.name, span.attributes);
      else this.take(reports, family === 'other' ? { ...reading, x: withSdkPair(reading.x, sdkPairs.get(span)) } : reading, reading.record ?? spanRecordKey(span));
    }
    for (const raw of raws) {
      const recovered = this.withoutUsage.recover(rs.resource, raw.scopeVersion, raw.span, now, this.opts.providers);
      // Counted as recovered when the join takes it: a re-sent raw span is billed and counted once (its record key).
      if (recovered !== undefined) this.report(reports, recovered.x, spanRecordKey(raw.span), { count: '', recovered: recovered.from });
    }
  }

  private logs(rl: ResourceLogs, reports: Report[]): void {
    for (const sl of rl.scopeLogs) {
      const site = { resource: rl.resource, scope: sl.scope };
      for (const rec of sl.logRecords) {
        const reading = LOG_READERS.find((r) => r.detect(rec, site))?.read(rec, site, this.opts) ?? null;
        if (reading === null) continue;
        if ('unknown' in reading) this.unknown('logs', reading.unknown, rec.eventName || sl.scope.name, rec.attributes);
        else this.take(reports, reading, reading.record ?? logRecordKey(rec));
      }
    }
  }

  private metrics(rm: ResourceMetrics, reports: Report[], series: SeriesChange[]): void {
    const reader = METRIC_READERS.find((r) => r.detect(rm));
    if (reader === undefined) return;
    for (const reading of reader.read(rm, { cumulative: this.cumulative, changes: series }, this.opts)) this.take(reports, reading, reading.record);
  }

  /** A reading to bill goes through report(); one only counted (Claude Code's other usage report) is taken as it is. */
  private take(reports: Report[], reading: Read, record: string): void {
    const count = reading.count ?? '';
    if (reading.countOnly === true) reports.push({ x: reading.x, record, counted: true, count });
    else this.report(reports, reading.x, record, { count });
  }

  /**
   * A report to bill, added to the batch's reports: attribution and kept attributes, the
   * plausibility gate, and its fingerprint key, which needs the attributed session. A quarantined
   * report is not added.
   */
  private report(reports: Report[], x: Extracted, record: string, extra: Pick<Report, 'count' | 'recovered'>): void {
    const call = x.call;
    this.attribution.apply(call, x.view);
    call.attributes = this.filter.pick(x.view.attrs, x.view.resource, x.extraAttributes);
    // Before the join: a quarantined report is never billed nor joined, and no multi-megabyte value is held.
    if (!this.gate.admit(x)) return;
    this.strings.internCall(call);
    if (this.cfg.dedupe.fingerprint_join && call.record_type === 'call' && call.session_id !== '' && hasTokens(call)) x.keys.push(fingerprintKey(call));
    reports.push({ x, record, counted: false, ...extra });
  }

  private unknown(signal: string, reason: string, name: string, attrs: Attributes): void {
    this.m.unknown.inc({ signal, reason });
    if (this.logger.isLevelEnabled('debug')) {
      // Attribute names only: values may hold prompt content.
      this.logger.debug('unknown LLM-looking telemetry skipped', { signal, reason, name, keys: Object.keys(attrs).slice(0, 50) });
    }
  }
}

function spanIndex(rs: ResourceSpans): Map<string, Span> {
  const m = new Map<string, Span>();
  for (const ss of rs.scopeSpans) for (const s of ss.spans) m.set(s.spanId, s);
  return m;
}
