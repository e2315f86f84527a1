/**
 * A cache keyed by six strings as nested maps, so that the hot path hashes the record's own short
 * strings instead of building and hashing one long concatenated key per record.
 */
type Level<V> = Map<string, Level<V> | V>;

export class KeyCache<V> {
  private root: Level<V> = new Map();
  private count = 0;

  constructor(private readonly limit: number) {}

  get(a: string, b: string, c: string, d: string, e: string, f: string): V | undefined {
    const l1 = this.root.get(a) as Level<V> | undefined;
    const l2 = l1?.get(b) as Level<V> | undefined;
    const l3 = l2?.get(c) as Level<V> | undefined;
    const l4 = l3?.get(d) as Level<V> | undefined;
    const l5 = l4?.get(e) as Level<V> | undefined;
    return l5?.get(f) as V | undefined;
  }

  /** Stores a value; past `limit` entries the whole cache is dropped first (entries are cheap to rebuild). */
  set(a: string, b: string, c: string, d: string, e: string, f: string, v: V): void {
    if (this.count >= this.limit) {
      this.root = new Map();
      this.count = 0;
    }
    let level = this.root;
    for (const k of [a, b, c, d, e]) {
      let next = level.get(k) as Level<V> | undefined;
      if (!next) {
        next = new Map();
        level.set(k, next);
      }
      level = next;
    }
    if (!level.has(f)) this.count++;
    level.set(f, v);
  }
}
