import type { LlmCall } from './llm-call.js';

/** Attribution fields of LlmCall usable as labels; any other configured name is read from `dimensions`. */
export const ATTRIBUTION_FIELDS = ['team', 'customer', 'key_alias', 'user'] as const;

/** Label value that stands for every value a cardinality bound refused to keep apart. */
export const OTHER = '__other__';

export type LabelReader = (call: LlmCall) => string;

/** A reader for one attribution label: a record field, or a dimension of that name ('' when unset). */
export function labelReader(name: string): LabelReader {
  switch (name) {
    case 'team': return (c) => c.team;
    case 'customer': return (c) => c.customer;
    case 'key_alias': return (c) => c.key_alias;
    case 'user': return (c) => c.user;
    default: return (c) => c.dimensions[name] ?? '';
  }
}
