import { describe, expect, it } from 'vitest';
import { assertTimeZone, periodBounds } from '../../../exporters/budget/periods.js';

const iso = (ms: number): string => new Date(ms).toISOString();
const bounds = (at: string, period: 'day' | 'week' | 'month', tz: string): [string, string] => {
  const b = periodBounds(Date.parse(at), period, tz);
  return [iso(b.startMs), iso(b.endMs)];
};

describe('budget periods in a time zone', () => {
  it('days start at local midnight', () => {
    expect(bounds('2026-11-24T17:00:00Z', 'day', 'UTC')).toEqual(['2026-11-24T00:00:00.000Z', '2026-11-25T00:00:00.000Z']);
    expect(bounds('2026-11-24T23:30:00Z', 'day', 'Europe/Berlin')).toEqual(['2026-11-24T23:00:00.000Z', '2026-11-25T23:00:00.000Z']);
    expect(bounds('2026-11-24T03:00:00Z', 'day', 'America/New_York')).toEqual(['2026-11-23T05:00:00.000Z', '2026-11-24T05:00:00.000Z']);
    expect(bounds('2026-11-24T12:00:00Z', 'day', 'Asia/Kolkata')).toEqual(['2026-11-23T18:30:00.000Z', '2026-11-24T18:30:00.000Z']);
  });

  it('DST days are 23 and 25 hours long', () => {
    const spring = periodBounds(Date.parse('2026-03-29T12:00:00Z'), 'day', 'Europe/Berlin');
    expect([iso(spring.startMs), iso(spring.endMs)]).toEqual(['2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z']);
    expect(spring.endMs - spring.startMs).toBe(23 * 3600_000);
    const autumn = periodBounds(Date.parse('2026-10-25T12:00:00Z'), 'day', 'Europe/Berlin');
    expect([iso(autumn.startMs), iso(autumn.endMs)]).toEqual(['2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z']);
    expect(autumn.endMs - autumn.startMs).toBe(25 * 3600_000);
  });

  it('a day whose midnight falls into a DST gap starts when the gap ends (America/Santiago)', () => {
    // Chile springs forward on 2026-09-06 at 00:00 local (-04 → -03): local midnight does not exist.
    expect(bounds('2026-09-06T12:00:00Z', 'day', 'America/Santiago')).toEqual(['2026-09-06T04:00:00.000Z', '2026-09-07T03:00:00.000Z']);
    expect(bounds('2026-09-05T12:00:00Z', 'day', 'America/Santiago')).toEqual(['2026-09-05T04:00:00.000Z', '2026-09-06T04:00:00.000Z']);
  });

  it('weeks start on Monday, across a DST change', () => {
    // 2026-10-25 (Sunday) Berlin falls back: the week of Mon 19 Oct is 169 hours.
    const w = periodBounds(Date.parse('2026-10-25T20:00:00Z'), 'week', 'Europe/Berlin');
    expect([iso(w.startMs), iso(w.endMs)]).toEqual(['2026-10-18T22:00:00.000Z', '2026-10-25T23:00:00.000Z']);
    expect(bounds('2026-11-30T00:30:00Z', 'week', 'UTC')).toEqual(['2026-11-30T00:00:00.000Z', '2026-12-07T00:00:00.000Z']);
    expect(bounds('2026-11-29T23:59:59Z', 'week', 'UTC')).toEqual(['2026-11-23T00:00:00.000Z', '2026-11-30T00:00:00.000Z']);
    expect(bounds('2027-01-01T10:00:00Z', 'week', 'UTC')).toEqual(['2026-12-28T00:00:00.000Z', '2027-01-04T00:00:00.000Z']);
  });

  it('months start on the 1st, at month ends, year ends and leap days', () => {
    expect(bounds('2026-01-31T23:59:59.999Z', 'month', 'UTC')).toEqual(['2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z']);
    expect(bounds('2028-02-29T12:00:00Z', 'month', 'UTC')).toEqual(['2028-02-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z']);
    expect(bounds('2026-12-31T23:30:00Z', 'month', 'Europe/Berlin')).toEqual(['2026-12-31T23:00:00.000Z', '2027-01-31T23:00:00.000Z']);
    expect(bounds('2026-12-31T22:30:00Z', 'month', 'Europe/Berlin')).toEqual(['2026-11-30T23:00:00.000Z', '2026-12-31T23:00:00.000Z']);
    // March in Berlin starts at +01 and ends at +02.
    expect(bounds('2026-03-15T00:00:00Z', 'month', 'Europe/Berlin')).toEqual(['2026-02-28T23:00:00.000Z', '2026-03-31T22:00:00.000Z']);
    expect(bounds('2026-11-24T12:00:00Z', 'month', 'Pacific/Auckland')).toEqual(['2026-10-31T11:00:00.000Z', '2026-11-30T11:00:00.000Z']);
  });

  it('every instant lies in its period, and consecutive periods tile time', () => {
    for (const tz of ['UTC', 'Europe/Berlin', 'America/Santiago', 'Australia/Lord_Howe', 'Asia/Kathmandu']) {
      for (const period of ['day', 'week', 'month'] as const) {
        let t = Date.parse('2026-01-01T00:00:00Z');
        let prev = periodBounds(t, period, tz);
        for (let i = 0; i < 400; i++, t += 23 * 3600_000) {
          const b = periodBounds(t, period, tz);
          expect(t >= b.startMs && t < b.endMs, `${tz} ${period} ${iso(t)}`).toBe(true);
          if (b.startMs !== prev.startMs) expect(b.startMs, `${tz} ${period} ${iso(t)}`).toBe(prev.endMs);
          prev = b;
        }
      }
    }
  });

  it('rejects an unknown time zone with its name', () => {
    expect(() => assertTimeZone('Europe/Berln')).toThrow(/unknown time zone 'Europe\/Berln'/);
  });
});
