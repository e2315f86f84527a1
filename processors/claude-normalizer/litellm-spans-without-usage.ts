import type { Logger } from '../../core/logger.js';
import type { Attributes, Span } from '../../core/telemetry.js';
import { str } from './attrs.js';
import { ENDED_SPAN_FIX, recoverFromRawSpan } from './litellm-ended-span.js';
import { RequestSpans } from './litellm-request-spans.js';
import type { NormalizerMetrics } from './metrics.js';
import type { ModelProviders } from './providers.js';
import type { Extracted } from './types.js';

/** How often the warning about LiteLLM's spans without usage is repeated while they keep coming. */
const WARN_EVERY_MS = 60_000;

/** Where a recovered call came from, in its log line. */
export interface RecoveredFrom { trace_id: string; service_name: string }

/**
 * LiteLLM calls exported without usage (litellm-ended-span.ts): the watch of LiteLLM's request
 * spans, the calls recovered from raw spans or lost, counted in
 * `tokenledger_normalizer_litellm_spans_without_usage_total` and warned about with the fix.
 */
export class SpansWithoutUsage {
  readonly requests = new RequestSpans();
  private warnedAt = -Infinity;
  private unverifiedSeen = 0;

  constructor(private readonly counter: NormalizerMetrics['endedSpans'], private readonly logger: Logger) {}

  /** Watched requests that waited too long for their LLM span: lost. */
  expire(now: number): void {
    const unreported = this.requests.expire(now);
    if (unreported > 0) this.count('lost', unreported, now, {});
  }

  /**
   * A raw_gen_ai_request span whose parent went out without LLM attributes: its call when its
   * provider usage gives it exactly (counted as recovered once the join takes it), else counted
   * lost. Undefined for every other raw span.
   */
  recover(resource: Attributes, scopeVersion: string, raw: Span, now: number, providers: ModelProviders): { x: Extracted; from: RecoveredFrom } | undefined {
    const parentRoute = this.requests.bareParentRoute(raw);
    if (parentRoute === undefined) return undefined;
    const x = recoverFromRawSpan(resource, scopeVersion, raw, parentRoute, providers);
    const from = { trace_id: raw.traceId, service_name: str(resource, 'service.name') };
    if (x === null) {
      this.count('lost', 1, now, from);
      return undefined;
    }
    return { x, from };
  }

  /** Counts calls LiteLLM sent without usage; the warning naming the fix is repeated at most every WARN_EVERY_MS. */
  count(outcome: 'recovered' | 'lost', n: number, now: number, fields: Partial<RecoveredFrom>): void {
    this.counter.inc({ outcome }, n);
    if (now - this.warnedAt < WARN_EVERY_MS) return;
    this.warnedAt = now;
    this.logger.warn(`LiteLLM sent spans without usage: it set the LLM attributes on a request span that had already ended. Set ${ENDED_SPAN_FIX} in LiteLLM's environment.`, {
      outcome, calls: n, ...fields, metric: 'tokenledger_normalizer_litellm_spans_without_usage_total',
    });
  }

  /** Watched requests dropped unjudged from a full watch list since the last call: unverified. */
  countUnverified(): void {
    const unverified = this.requests.unverified;
    if (unverified <= this.unverifiedSeen) return;
    this.counter.inc({ outcome: 'unverified' }, unverified - this.unverifiedSeen);
    this.unverifiedSeen = unverified;
  }
}
