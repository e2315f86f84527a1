/**
 * The call_ids counted most recently, with the cost counted for each, oldest forgotten first. A
 * pipeline whose other exporter refused a batch is answered "retry later" and the client re-sends it
 * all: the calls this exporter already counted then arrive again, with the same call_id (provider
 * request id, LiteLLM call id, trace:span). And an update of a counted call may price it higher
 * (a second source's 5m/1h cache-write split, or its provider and region): only that rise is counted.
 */
export class RecentCalls {
  private readonly costs = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** False when `id` was counted recently; otherwise remembers it with the cost counted. */
  add(id: string, cost: number): boolean {
    if (this.costs.has(id)) return false;
    this.costs.set(id, cost);
    // A Map iterates in insertion order: its first key is the oldest.
    if (this.costs.size > this.max) this.costs.delete(this.costs.keys().next().value!);
    return true;
  }

  /**
   * How much more than already counted an update of a recently counted call costs (0 when it costs
   * no more, or the call is not known here: a counter cannot go down, and an unknown call was
   * counted elsewhere or too long ago). Remembers the higher cost.
   */
  rise(id: string, cost: number): number {
    const counted = this.costs.get(id);
    if (counted === undefined || !(cost > counted)) return 0;
    this.costs.set(id, cost);
    return cost - counted;
  }
}
