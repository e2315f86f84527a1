/**
 * The call_ids counted most recently, oldest forgotten first. A pipeline whose other exporter refused
 * a batch is answered "retry later" and the client re-sends it all: the calls this exporter already
 * counted then arrive again, with the same call_id (provider request id, LiteLLM call id, trace:span).
 */
export class RecentCalls {
  private readonly ids = new Set<string>();

  constructor(private readonly max: number) {}

  /** False when `id` was counted recently; otherwise remembers it. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    // A Set iterates in insertion order: its first value is the oldest.
    if (this.ids.size > this.max) this.ids.delete(this.ids.values().next().value!);
    return true;
  }
}
