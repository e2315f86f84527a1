import { createAjv } from '../../../core/config/ajv.js';
import type { SpendQuery, SpendStore } from '../../../core/host.js';
import { emptyCall, type LlmCall } from '../../../core/llm-call.js';
import { prometheusExporterFactory, type PrometheusExporterConfig } from '../../../exporters/prometheus/index.js';

/** A config as the loader would hand it over: validated against the factory's schema, defaults applied. */
export function configOf(partial: Record<string, unknown>): PrometheusExporterConfig {
  const config = structuredClone(partial);
  const validate = createAjv().compile(prometheusExporterFactory.schema);
  if (!validate(config)) throw new Error(`invalid config: ${JSON.stringify(validate.errors)}`);
  return config as unknown as PrometheusExporterConfig;
}

let seq = 0;
export function llmCall(fields: Partial<LlmCall> = {}): LlmCall {
  seq++;
  return {
    ...emptyCall(), call_id: `call-${seq}`, timestamp: new Date().toISOString(), source: 'litellm', route: 'openai_chat',
    provider: 'anthropic', model: 'claude-sonnet-4-5', model_raw: 'claude-sonnet-4-5', duration_ms: 1200, price_ref: 'genai-prices:anthropic/claude-sonnet-4-5',
    ...fields,
  };
}

/**
 * A SpendStore over records kept in memory: the core interface implemented the obvious way,
 * standing in for the ClickHouse exporter's store (which integration tests use).
 */
export class MemorySpendStore implements SpendStore {
  readonly calls: LlmCall[] = [];
  readonly queries: SpendQuery[] = [];

  async spendBy(q: SpendQuery): Promise<Map<string, number>> {
    this.queries.push(q);
    const out = new Map<string, number>();
    for (const c of this.calls) {
      const ts = Date.parse(c.timestamp);
      if (ts < q.fromMs || ts >= q.toMs) continue;
      if (!Object.entries(q.where).every(([k, v]) => label(c, k) === v)) continue;
      const key = label(c, q.groupBy);
      out.set(key, (out.get(key) ?? 0) + c.cost_usd);
    }
    return out;
  }
}

function label(c: LlmCall, name: string): string {
  switch (name) {
    case 'team': return c.team;
    case 'customer': return c.customer;
    case 'key_alias': return c.key_alias;
    case 'user': return c.user;
    default: return c.dimensions[name] ?? '';
  }
}

/** A clock tests move by hand. */
export function manualClock(startIso: string): { now: () => number; set: (iso: string) => void; advance: (ms: number) => void } {
  let t = Date.parse(startIso);
  return { now: () => t, set: (iso) => { t = Date.parse(iso); }, advance: (ms) => { t += ms; } };
}
