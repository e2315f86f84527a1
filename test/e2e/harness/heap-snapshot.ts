/**
 * What a V8 heap snapshot says is reachable. V8 runs a full garbage collection before it writes
 * one, so unlike RSS or `nodejs_heap_size_used_bytes` this does not depend on when the collector
 * last ran (Node 24's V8 may leave dead large objects for minutes under light traffic).
 */
import { readFileSync } from 'node:fs';

interface RawSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface HeapObject {
  /** V8's node type: `string`, `native` (an ArrayBuffer's bytes are `system / JSArrayBufferData`), `code`… */
  type: string;
  /** A string's first 1024 characters (V8 cuts names there), or the object's class. */
  name: string;
  bytes: number;
}

export interface HeapSummary {
  /** Every reachable object, ArrayBuffer contents (Buffers) included. */
  totalBytes: number;
  /** The largest objects, largest first. */
  largest: HeapObject[];
  /** Whether any reachable string contains `needle` (within its first 1024 characters). */
  hasString(needle: string): boolean;
  /** How many reachable strings are `value` (of at most 1024 characters): copies, not references. */
  copiesOf(value: string): number;
}

export function readHeapSnapshot(path: string, keepLargest = 10): HeapSummary {
  let raw: RawSnapshot;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as RawSnapshot;
  } catch (err) {
    throw new Error(`heap snapshot ${path}: ${(err as Error).message}`);
  }
  const fields = raw.snapshot.meta.node_fields;
  const types = raw.snapshot.meta.node_types[0];
  const stride = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const stringType = types.indexOf('string');
  let totalBytes = 0;
  const all: HeapObject[] = [];
  const strings: string[] = [];
  for (let i = 0; i < raw.nodes.length; i += stride) {
    const bytes = raw.nodes[i + sizeAt];
    totalBytes += bytes;
    const type = raw.nodes[i + typeAt];
    const name = raw.strings[raw.nodes[i + nameAt]];
    if (type === stringType) strings.push(name);
    all.push({ type: types[type], name, bytes });
  }
  all.sort((a, b) => b.bytes - a.bytes);
  return {
    totalBytes,
    largest: all.slice(0, keepLargest).map((o) => ({ ...o, name: o.name.slice(0, 80) })),
    hasString: (needle) => strings.some((s) => s.includes(needle)),
    copiesOf: (value) => strings.filter((s) => s === value).length,
  };
}
