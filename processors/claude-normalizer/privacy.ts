import { isContentKey } from '../../core/privacy.js';
import type { AnyValue, Attributes } from '../../core/telemetry.js';
import { headOf } from './bounded-strings.js';

/**
 * Which source attributes a record keeps for audit. Only listed keys are kept, and content keys
 * (core/privacy.ts) never are, even when a listed prefix covers them: prompt and response content
 * must not leave the normalizer. Listing a content key itself is refused at validation.
 */
export class AttributeFilter {
  private readonly exact: string[] = [];
  private readonly prefixes: string[] = [];

  /** `truncated` is told of every value cut to `maxLength`. */
  constructor(include: string[], private readonly maxCount: number, private readonly maxLength: number, private readonly truncated: () => void = () => {}) {
    for (const k of include) {
      if (k.endsWith('*')) this.prefixes.push(k.slice(0, -1));
      else if (!isContentKey(k)) this.exact.push(k);
    }
  }

  /** Kept attributes of `attrs`, then `extra` (values found in blobs), then `resource`, bounded in count and value length. */
  pick(attrs: Attributes, resource: Attributes, extra?: Attributes): Record<string, string> {
    const out: Record<string, string> = {};
    let n = 0;
    for (const src of extra ? [attrs, extra, resource] : [attrs, resource]) {
      for (const k of this.exact) {
        if (n >= this.maxCount) return out;
        if (k in out) continue;
        const v = this.render(src[k]);
        if (v !== '') { out[k] = v; n++; }
      }
      if (this.prefixes.length === 0) continue;
      for (const k of Object.keys(src)) {
        if (n >= this.maxCount) return out;
        if (k in out || isContentKey(k) || !this.prefixes.some((p) => k.startsWith(p))) continue;
        const v = this.render(src[k]);
        if (v !== '') { out[k] = v; n++; }
      }
    }
    return out;
  }

  private render(v: AnyValue | undefined): string {
    if (v === undefined || v === null || v instanceof Uint8Array) return '';
    const s = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
    if (s.length <= this.maxLength) return s;
    this.truncated();
    return headOf(s, this.maxLength);
  }
}
