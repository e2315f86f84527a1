import type { LlmCall } from '../../core/llm-call.js';

/** Strings longer than this are not pooled: values that long are rarely repeated. */
const MAX_POOLED_LENGTH = 256;

/** A record's fields that take few distinct values across calls. */
const REPEATED_FIELDS = ['source', 'source_version', 'route', 'provider', 'model', 'model_raw', 'region', 'error_type', 'user', 'team', 'key_alias', 'customer', 'service_name'] as const;

/**
 * One instance of each string that many records repeat (model, provider, team, key alias…):
 * decoding makes a fresh copy for every span, and the join index keeps up to `dedupe.max_entries`
 * records, so sharing them makes an entry smaller and leaves less for the garbage collector to
 * promote and mark. Bounded: emptied when full, which only costs new copies.
 */
export class StringPool {
  private readonly pool = new Map<string, string>();

  constructor(private readonly max: number) {}

  intern(s: string): string {
    if (s.length === 0 || s.length > MAX_POOLED_LENGTH) return s;
    const known = this.pool.get(s);
    if (known !== undefined) return known;
    if (this.pool.size >= this.max) this.pool.clear();
    this.pool.set(s, s);
    return s;
  }

  /** The record's repeated fields, tags and map values replaced by their pooled instances. */
  internCall(call: LlmCall): void {
    for (const f of REPEATED_FIELDS) call[f] = this.intern(call[f]);
    for (let i = 0; i < call.tags.length; i++) call.tags[i] = this.intern(call.tags[i]);
    this.internValues(call.dimensions);
    this.internValues(call.attributes);
  }

  private internValues(map: Record<string, string>): void {
    for (const k in map) map[k] = this.intern(map[k]);
  }
}
