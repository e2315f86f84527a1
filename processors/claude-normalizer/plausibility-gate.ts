import type { Logger } from '../../core/logger.js';
import { boundRecordStrings, boundString, MAX_STRING_LENGTH } from './bounded-strings.js';
import { reportedCostVerdict, tokenVerdict } from './plausibility.js';
import type { NormalizerMetrics } from './metrics.js';
import type { Extracted } from './types.js';

/**
 * Where every report passes before the join index sees it (README, "Implausible values"): strings
 * capped, a report with impossible tokens quarantined — logged and counted, never indexed, emitted
 * or billed, so every exporter (and `tokenledger process`) has it or none does — and a reported
 * cost that cannot be right dropped to null.
 */
export class PlausibilityGate {
  readonly truncated = (field: string): void => { this.m.truncations.inc({ field }); };

  constructor(private readonly logger: Logger, private readonly m: Pick<NormalizerMetrics, 'quarantined' | 'untrustedCosts' | 'truncations'>) {}

  /** Bounds the report in place; false when it is quarantined. */
  admit(x: Extracted): boolean {
    const call = x.call;
    boundRecordStrings(call, this.truncated);
    for (let i = 0; i < x.keys.length; i++) {
      if (x.keys[i].length > MAX_STRING_LENGTH) {
        x.keys[i] = boundString(x.keys[i], MAX_STRING_LENGTH);
        this.truncated('join_key');
      }
    }
    const reason = tokenVerdict(call);
    if (reason !== '') {
      this.m.quarantined.inc({ source: call.source, reason });
      this.logger.warn('implausible report quarantined, not billed', {
        reason, call_id: call.call_id, source: call.source, shape: x.shape, record_type: call.record_type, model: call.model,
        duration_ms: call.duration_ms, input_tokens: call.input_tokens, output_tokens: call.output_tokens, cache_read_tokens: call.cache_read_tokens,
        cache_write_5m_tokens: call.cache_write_5m_tokens, cache_write_1h_tokens: call.cache_write_1h_tokens, trace_id: call.trace_id, span_id: call.span_id,
      });
      return false;
    }
    const costIssue = reportedCostVerdict(call);
    if (costIssue !== '') {
      this.m.untrustedCosts.inc({ source: call.source, reason: costIssue });
      this.logger.warn('reported cost not trusted, recorded as null', {
        reason: costIssue, call_id: call.call_id, source: call.source, model: call.model, reported_cost_usd: String(call.reported_cost_usd),
      });
      call.reported_cost_usd = null;
    }
    return true;
  }
}
