/**
 * Call_ids an exporter remembers against re-sends: at ~100 bytes each, ~10 MB; more than the calls a
 * client re-sends while an exporter refuses (a full queue empties in seconds to minutes).
 */
export const RECENT_CALLS = 100_000;

/**
 * The call_ids counted most recently, with the cost counted for each, oldest forgotten first. A
 * pipeline whose other exporter refused a batch is answered "retry later" and the client re-sends it
 * all: the calls an exporter already counted then arrive again, with the same call_id (provider
 * request id, LiteLLM call id, trace:span). And an update of a call may price it higher (a second
 * source's 5m/1h cache-write split, or its provider and region): only that rise is counted.
 */
export class RecentCalls {
  private readonly costs = new Map<string, number>();
  /**
   * Ids in the order they were remembered, as a ring: the oldest is overwritten. (Deleting a Map's
   * first key instead made V8 scan the holes its earlier deletions left: 70–220 µs an add once
   * full, measured, against 2 µs.)
   */
  private readonly order: (string | undefined)[];
  private next = 0;

  constructor(private readonly max: number) {
    this.order = new Array<string | undefined>(max);
  }

  /** False when `id` was counted recently; otherwise remembers it with the cost counted. */
  add(id: string, cost: number): boolean {
    if (this.costs.has(id)) return false;
    this.remember(id, cost);
    return true;
  }

  /**
   * How much more an update of call `id` costs than what was counted for it: this exporter's own
   * count when it counted the call, else the price of the version the update replaces (`baseCost`,
   * when the producer knows it: another replica counted the call). 0 when it costs no more (a
   * counter cannot go down) or nothing is known. Remembers the higher cost, so a re-sent update
   * counts nothing again.
   */
  rise(id: string, cost: number, baseCost: number | undefined): number {
    const counted = this.costs.get(id) ?? baseCost;
    if (counted === undefined || !(cost > counted)) return 0;
    if (this.costs.has(id)) this.costs.set(id, cost);
    else this.remember(id, cost);
    return cost - counted;
  }

  private remember(id: string, cost: number): void {
    const oldest = this.order[this.next];
    if (oldest !== undefined) this.costs.delete(oldest);
    this.order[this.next] = id;
    this.next = (this.next + 1) % this.max;
    this.costs.set(id, cost);
  }
}
