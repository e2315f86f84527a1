import { describe, expect, it } from 'vitest';
import { RecentCalls } from '../../core/recent-calls.js';

describe('RecentCalls', () => {
  it('knows the last `max` call_ids and forgets the oldest first', () => {
    const r = new RecentCalls(3);
    expect(['a', 'b', 'c', 'a'].map((id) => r.add(id, 1))).toEqual([true, true, true, false]);
    expect(r.add('d', 1)).toBe(true); // 'a' forgotten
    expect(['b', 'a', 'c'].map((id) => r.add(id, 1))).toEqual([false, true, false]);
  });

  it('gives the rise of an update over the cost counted here, once, and nothing for a fall', () => {
    const r = new RecentCalls(10);
    r.add('a', 0.5);
    expect(r.rise('a', 0.75, 0.1)).toBeCloseTo(0.25, 12); // its own count wins over the base
    expect(r.rise('a', 0.75, 0.5)).toBe(0);
    expect(r.rise('a', 0.6, 0.5)).toBe(0);
    expect(r.rise('a', 0.8, undefined)).toBeCloseTo(0.05, 12);
  });

  it('for a call counted elsewhere, gives the rise over the replaced version\'s price, once; nothing without one', () => {
    const r = new RecentCalls(10);
    expect(r.rise('b', 0.75, 0.5)).toBeCloseTo(0.25, 12);
    expect(r.rise('b', 0.75, 0.5)).toBe(0); // the same update re-sent
    expect(r.rise('c', 9, undefined)).toBe(0);
  });

  it('stays cheap once full (it forgets one id per new one): a loose bound, the figure is printed', () => {
    const max = 100_000;
    const r = new RecentCalls(max);
    for (let i = 0; i < 2 * max; i++) r.add(`warm-${i}`, 1);
    const t0 = performance.now();
    for (let i = 0; i < max; i++) r.add(`full-${i}`, 1);
    const us = ((performance.now() - t0) * 1000) / max;
    process.stdout.write(`[RecentCalls] ${us.toFixed(2)} µs per add on a full set of ${max}\n`);
    expect(r.add('full-0', 1)).toBe(false); // still remembered: among the last `max`
    expect(r.add('warm-199999', 1)).toBe(true); // forgotten: `max` ids came after it
    expect(us).toBeLessThan(50); // was 70–220 µs when the oldest was found by iterating the Map
  });
});
