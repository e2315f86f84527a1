/**
 * Budget periods in a configured IANA time zone, computed with the Intl API only. A period is
 * [startMs, endMs) in epoch milliseconds; days are 23 or 25 hours long across DST changes, weeks
 * start on Monday (ISO 8601), months at the 1st, all at local midnight.
 */
export type PeriodKind = 'day' | 'week' | 'month';

export interface PeriodBounds {
  startMs: number;
  endMs: number;
}

interface LocalDate {
  year: number;
  month: number;
  day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Throws a RangeError naming the zone when the runtime does not know it. */
export function assertTimeZone(timeZone: string): void {
  try {
    formatter(timeZone);
  } catch (err) {
    throw new RangeError(`unknown time zone '${timeZone}' (expected an IANA name such as 'UTC' or 'Europe/Berlin')`, { cause: err });
  }
}

/** The local wall-clock time at `ms`, expressed as if it were UTC (so that Date.UTC arithmetic applies). */
function wallClockMs(ms: number, timeZone: string): number {
  const p: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(ms)) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
}

function localDate(ms: number, timeZone: string): LocalDate {
  const wall = new Date(wallClockMs(ms, timeZone));
  return { year: wall.getUTCFullYear(), month: wall.getUTCMonth() + 1, day: wall.getUTCDate() };
}

/** Offset of local time from UTC at instant `ms`, in milliseconds (whole seconds). */
function offsetMs(ms: number, timeZone: string): number {
  const seconds = Math.floor(ms / 1000) * 1000;
  return wallClockMs(seconds, timeZone) - seconds;
}

/**
 * First instant of a local date (day and month may overflow; Date.UTC normalizes them). Where
 * midnight falls into a DST gap (e.g. America/Santiago), the day starts at the end of the gap;
 * where it occurs twice, at the earlier one.
 */
export function startOfLocalDay(year: number, month: number, day: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day);
  const first = wall - offsetMs(wall, timeZone);
  const second = wall - offsetMs(first, timeZone);
  const target = new Date(wall);
  const onOrAfterTarget = (ms: number): boolean => {
    const d = localDate(ms, timeZone);
    return Date.UTC(d.year, d.month - 1, d.day) >= target.getTime();
  };
  const candidates = [first, second].filter(onOrAfterTarget).sort((a, b) => a - b);
  return candidates[0] ?? Math.max(first, second);
}

export function periodBounds(ms: number, period: PeriodKind, timeZone: string): PeriodBounds {
  const d = localDate(ms, timeZone);
  switch (period) {
    case 'day':
      return { startMs: startOfLocalDay(d.year, d.month, d.day, timeZone), endMs: startOfLocalDay(d.year, d.month, d.day + 1, timeZone) };
    case 'week': {
      const mondayOffset = (new Date(Date.UTC(d.year, d.month - 1, d.day)).getUTCDay() + 6) % 7;
      const monday = d.day - mondayOffset;
      return { startMs: startOfLocalDay(d.year, d.month, monday, timeZone), endMs: startOfLocalDay(d.year, d.month, monday + 7, timeZone) };
    }
    case 'month':
      return { startMs: startOfLocalDay(d.year, d.month, 1, timeZone), endMs: startOfLocalDay(d.year, d.month + 1, 1, timeZone) };
  }
}
