import { describe, expect, it } from 'vitest';
import { RecentCalls } from '../../../exporters/prometheus/recent-calls.js';

describe('RecentCalls', () => {
  it('knows the last `max` call_ids and forgets the oldest first', () => {
    const r = new RecentCalls(3);
    expect(['a', 'b', 'c', 'a'].map((id) => r.add(id))).toEqual([true, true, true, false]);
    expect(r.add('d')).toBe(true); // 'a' forgotten
    expect(['b', 'a', 'c'].map((id) => r.add(id))).toEqual([false, true, false]);
  });
});
