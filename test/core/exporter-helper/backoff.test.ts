import { describe, expect, it } from 'vitest';
import { backoffDelay, retryBudgetExhausted } from '../../../core/exporter-helper/backoff.js';

const cfg = { initial_interval: '100ms', max_interval: '1s', max_elapsed: '5s' };

describe('backoffDelay', () => {
  it('doubles from the initial interval and caps at max_interval (no jitter at random = 0.5)', () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, cfg, () => 0.5))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('jitters by ±50%', () => {
    expect(backoffDelay(3, cfg, () => 0)).toBe(200);
    expect(backoffDelay(3, cfg, () => 0.999999)).toBe(600);
  });
});

describe('retryBudgetExhausted', () => {
  it('gives up when the next attempt would start after max_elapsed', () => {
    expect(retryBudgetExhausted(0, 4000, 900, cfg)).toBe(false);
    expect(retryBudgetExhausted(0, 4500, 900, cfg)).toBe(true);
  });

  it('never gives up with max_elapsed 0s', () => {
    expect(retryBudgetExhausted(0, 1e12, 1e6, { ...cfg, max_elapsed: '0s' })).toBe(false);
  });
});
