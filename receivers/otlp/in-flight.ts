/** Bytes of requests received and not yet acknowledged, bounded so that memory stays bounded. */
export class InFlightBytes {
  private held = 0;

  constructor(private readonly limit: number, private readonly onChange: (held: number) => void) {}

  /** Takes `n` more bytes; false (and nothing taken) when that would pass the limit. */
  tryAcquire(n: number): boolean {
    if (this.held + n > this.limit) return false;
    this.held += n;
    this.onChange(this.held);
    return true;
  }

  release(n: number): void {
    this.held -= n;
    this.onChange(this.held);
  }

  get bytes(): number {
    return this.held;
  }
}
