interface Point { start: string; value: number; time: string }

/** One point's change to a series, so that a refused batch can take it back (CumulativeState.restore). */
export interface SeriesChange {
  key: string;
  prev: Point | undefined;
  next: Point;
}

/**
 * Cumulative → delta for monotonic sums, per series, bounded (least recently seen evicted).
 * A series is new, or was reset, when its start time changes or its value goes down: then the whole
 * value counts as the delta. After a restart every cumulative series is new, so the totals since the
 * client's start are counted once more (documented in the README).
 */
export class CumulativeState {
  private readonly series = new Map<string, Point>();
  resets = 0;
  evictions = 0;

  constructor(private readonly maxSeries: number) {}

  get size(): number { return this.series.size; }

  /**
   * Delta since the last point of this series, and the time that delta starts at; null for a point
   * already counted: the same point re-sent, or an older one of the same run re-sent late (an
   * exporter retrying a request whose acknowledgement it missed), which must not move the series back.
   * `changes` collects the change, for restore().
   */
  delta(key: string, start: string, time: string, value: number, changes?: SeriesChange[]): { value: number; from: string } | null {
    const prev = this.series.get(key);
    if (prev !== undefined && prev.start === start && !nanosAfter(time, prev.time)) return null;
    if (prev !== undefined) this.series.delete(key);
    const next = { start, value, time };
    this.series.set(key, next);
    changes?.push({ key, prev, next });
    if (this.series.size > this.maxSeries) {
      const oldest = this.series.keys().next().value;
      if (oldest !== undefined) this.series.delete(oldest);
      this.evictions++;
    }
    if (prev === undefined) return { value, from: start };
    if (prev.start !== start || value < prev.value) {
      this.resets++;
      return { value, from: start };
    }
    return { value: value - prev.value, from: prev.time };
  }

  /**
   * Takes back points of a refused batch, newest first, so that the client's re-send of them counts:
   * a series later points have moved on from stays as it is (those points were counted from this one).
   */
  restore(changes: readonly SeriesChange[]): void {
    for (let i = changes.length - 1; i >= 0; i--) {
      const { key, prev, next } = changes[i];
      if (this.series.get(key) !== next) continue;
      if (prev === undefined) this.series.delete(key);
      else this.series.set(key, prev);
    }
  }
}

/** Whether decimal nanosecond timestamp `a` is later than `b` (too large for a double to compare exactly). */
function nanosAfter(a: string, b: string): boolean {
  return a.length !== b.length ? a.length > b.length : a > b;
}
