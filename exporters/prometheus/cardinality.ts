import { OTHER } from '../../core/attribution.js';

export { OTHER };

/**
 * Bounds the distinct label combinations of the spend metrics. The first `cap` combinations are
 * kept as they are. Past the cap, a new combination keeps its first `keep` values (provider,
 * model, route, source) and folds the others (attribution) to __other__; these folded
 * combinations may add another 10% of the cap, after which every value folds to __other__.
 * At most cap + ceil(cap / 10) + 1 combinations ever exist, whatever the input.
 */
export class LabelSetGuard<T> {
  private readonly sets = new Map<string, T>();
  private readonly reserve: number;

  constructor(
    private readonly cap: number,
    private readonly keep: number,
    private readonly make: (values: readonly string[]) => T,
    private readonly onFold: () => void,
  ) {
    this.reserve = Math.ceil(cap / 10);
  }

  get size(): number {
    return this.sets.size;
  }

  resolve(values: readonly string[]): T {
    const key = values.join('\u0000');
    const hit = this.sets.get(key);
    if (hit !== undefined) return hit;
    if (this.sets.size < this.cap) return this.add(key, values);

    this.onFold();
    const folded = values.map((v, i) => (i < this.keep ? v : OTHER));
    const foldedKey = folded.join('\u0000');
    const foldedHit = this.sets.get(foldedKey);
    if (foldedHit !== undefined) return foldedHit;
    if (this.sets.size < this.cap + this.reserve) return this.add(foldedKey, folded);

    const all = values.map(() => OTHER);
    const allKey = all.join('\u0000');
    return this.sets.get(allKey) ?? this.add(allKey, all);
  }

  /** Registers a combination that already exists (series kept across a reload) without folding it. */
  seed(values: readonly string[]): void {
    const key = values.join('\u0000');
    if (!this.sets.has(key)) this.add(key, values);
  }

  private add(key: string, values: readonly string[]): T {
    const entry = this.make(values);
    this.sets.set(key, entry);
    return entry;
  }
}
