import type { Batch } from '../../core/batch.js';
import type { ComponentContext, Processor } from '../../core/component.js';
import type { LlmCall } from '../../core/llm-call.js';
import type { CostEnrichmentConfig } from './config.js';
import { costEnrichmentMetrics } from './metrics.js';
import type { OnceLog } from './once-log.js';
import type { Pricer } from './pricer.js';

/** Prices batch.calls, batch.updates and their bases into copies; counts unpriced and drifting calls (new calls only). */
export class CostEnrichmentProcessor implements Processor {
  private readonly metrics;

  constructor(private readonly pricer: Pricer, private readonly config: CostEnrichmentConfig, private readonly log: OnceLog, ctx: ComponentContext) {
    this.metrics = ctx.metrics.declare(costEnrichmentMetrics);
  }

  process(batch: Batch): Batch {
    const priced = { ...batch, calls: this.priceAll(batch.calls, true), updates: this.priceAll(batch.updates, false) };
    return batch.updateBases === undefined ? priced : { ...priced, updateBases: this.priceAll(batch.updateBases, false) };
  }

  /** Updates re-describe calls already counted, so they are priced but not counted again. */
  private priceAll(records: readonly LlmCall[], count: boolean): LlmCall[] {
    const out = new Array<LlmCall>(records.length);
    for (let i = 0; i < records.length; i++) {
      const call = records[i];
      const r = this.pricer.price(call);
      out[i] = { ...call, cost_usd: r.costUsd, price_ref: r.ref };
      if (r.unpriced !== '') {
        if (count) this.metrics.unpricedCalls.inc({ model: call.model, provider: call.provider });
        this.log.warn(`unpriced\u001f${call.provider}\u001f${call.model}`, 'no price for model; cost_usd set to 0', () => ({
          provider: call.provider, model: call.model, model_raw: call.model_raw, reason: r.unpriced, detail: r.detail,
        }));
      } else if (count && call.reported_cost_usd !== null && this.drifts(r.costUsd, call.reported_cost_usd)) {
        this.metrics.driftCalls.inc({ model: call.model });
        this.log.warn(`drift\u001f${call.model}`, 'reported cost differs from computed cost', () => ({
          provider: call.provider, model: call.model, cost_usd: r.costUsd, reported_cost_usd: call.reported_cost_usd, price_ref: r.ref, source: call.source,
        }));
      }
    }
    return out;
  }

  private drifts(cost: number, reported: number): boolean {
    return Math.abs(cost - reported) > this.config.drift_tolerance_usd + this.config.drift_tolerance_ratio * Math.abs(reported);
  }
}
