import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LabelSetGuard, OTHER } from '../../../exporters/prometheus/cardinality.js';

const guard = (cap: number) => {
  let folds = 0;
  const g = new LabelSetGuard<string[]>(cap, 2, (v) => [...v], () => { folds++; });
  return { g, folds: () => folds };
};

describe('cardinality guard', () => {
  it('keeps the first cap combinations, then folds attribution values, then everything', () => {
    const { g, folds } = guard(3);
    for (const team of ['a', 'b', 'c']) expect(g.resolve(['anthropic', 'm1', team])).toEqual(['anthropic', 'm1', team]);
    expect(folds()).toBe(0);
    expect(g.resolve(['anthropic', 'm1', 'd'])).toEqual(['anthropic', 'm1', OTHER]);
    expect(g.resolve(['anthropic', 'm1', 'e'])).toEqual(['anthropic', 'm1', OTHER]);
    expect(folds()).toBe(2);
    // The reserve (ceil(3/10) = 1 combination) is used up: a new model folds completely.
    expect(g.resolve(['openai', 'gpt-4o', 'a'])).toEqual([OTHER, OTHER, OTHER]);
    expect(g.resolve(['anthropic', 'm1', 'a'])).toEqual(['anthropic', 'm1', 'a']);
    expect(g.size).toBe(5);
  });

  it('never holds more than cap + ceil(cap/10) + 1 combinations, whatever arrives', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 50 }),
      fc.array(fc.tuple(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 })), { maxLength: 300 }),
      (cap, combos) => {
        const { g } = guard(cap);
        for (const c of combos) g.resolve(c);
        return g.size <= cap + Math.ceil(cap / 10) + 1;
      },
    ));
  });

  it('a million distinct user ids cost a bounded number of series', () => {
    const { g, folds } = guard(100);
    for (let i = 0; i < 1_000_000; i++) g.resolve(['anthropic', 'claude-sonnet-4-5', `user-${i}`]);
    expect(g.size).toBe(101);
    expect(folds()).toBe(1_000_000 - 100);
  });

  it('seeded combinations (kept across a reload) are found without folding', () => {
    const { g, folds } = guard(1);
    g.seed(['p', 'm', 'x']);
    g.seed(['p', 'm', 'y']);
    expect(g.resolve(['p', 'm', 'y'])).toEqual(['p', 'm', 'y']);
    expect(folds()).toBe(0);
  });
});
