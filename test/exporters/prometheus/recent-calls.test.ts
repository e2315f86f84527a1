import { describe, expect, it } from 'vitest';
import { RecentCalls } from '../../../exporters/prometheus/recent-calls.js';

describe('RecentCalls', () => {
  it('knows the last `max` call_ids and forgets the oldest first', () => {
    const r = new RecentCalls(3);
    expect(['a', 'b', 'c', 'a'].map((id) => r.add(id, 1))).toEqual([true, true, true, false]);
    expect(r.add('d', 1)).toBe(true); // 'a' forgotten
    expect(['b', 'a', 'c'].map((id) => r.add(id, 1))).toEqual([false, true, false]);
  });

  it('gives the rise of an update over the cost counted, once, and nothing for a fall or an unknown call', () => {
    const r = new RecentCalls(10);
    r.add('a', 0.5);
    expect(r.rise('a', 0.75)).toBeCloseTo(0.25, 12);
    expect(r.rise('a', 0.75)).toBe(0);
    expect(r.rise('a', 0.6)).toBe(0);
    expect(r.rise('a', 0.8)).toBeCloseTo(0.05, 12);
    expect(r.rise('unknown', 9)).toBe(0);
  });
});
