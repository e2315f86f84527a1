import type { Logger } from './logger.js';

/**
 * How long a request that arrives while a reload swaps the pipeline waits for the new one before
 * it is answered "retry later": under the 10 s default timeout of the OTLP exporters.
 */
export const HANDOFF_WAIT_MS = 5000;

interface Left { value: unknown; close: () => Promise<void> }

/**
 * Listening sockets carried from one graph to the next across a reload. A receiver whose endpoint
 * does not change never stops listening: a client that finds the port closed for a moment may drop
 * its batch (LiteLLM's OTLP/HTTP exporter does), while one whose request waits a moment loses
 * nothing. The service opens a handoff for the time of a reload; a receiver shutting down leaves
 * its listener under a key (its transport and endpoint), the next graph's receiver takes it, and
 * what no one took is closed when the reload ends.
 */
export class Handoff {
  private open = false;
  private readonly left = new Map<string, Left>();

  /** A reload starts: listeners of the graph being shut down may be left for the next one. */
  begin(): void {
    this.open = true;
  }

  /**
   * Leaves `value` under `key` for the next graph. False when no reload is under way (a stop): the
   * caller then closes it itself.
   */
  leave(key: string, value: unknown, close: () => Promise<void>): boolean {
    if (!this.open) return false;
    this.left.set(key, { value, close });
    return true;
  }

  /** What the previous graph left under `key`, if anything; the caller now owns it (uses or closes it). */
  take(key: string): unknown {
    const found = this.left.get(key);
    this.left.delete(key);
    return found?.value;
  }

  /** The reload is over: closes what the new graph did not take (an endpoint that changed or went away). */
  async end(logger: Logger): Promise<void> {
    this.open = false;
    const unclaimed = [...this.left];
    this.left.clear();
    await Promise.all(unclaimed.map(async ([key, { close }]) => {
      try {
        await close();
        logger.info('listener closed: the new configuration no longer uses it', { listener: key });
      } catch (err) {
        logger.error('closing a listener the new configuration no longer uses failed', { listener: key, err });
      }
    }));
  }
}

/**
 * Routes each arriving request to the attached target; while none is (a reload between two graphs)
 * the request waits, up to `maxWaitMs`, for the next target to attach. `expire` answers it
 * otherwise, with the last target that was attached (for its metrics and logs).
 */
export class Relay<T> {
  private current: T | undefined;
  private latest: T;
  private readonly waiting = new Set<Waiting<T>>();

  constructor(first: T, private readonly maxWaitMs: number = HANDOFF_WAIT_MS) {
    this.current = first;
    this.latest = first;
  }

  /** The target attached now or, between two, the one attached last. */
  get last(): T {
    return this.latest;
  }

  route(arrive: (target: T) => void, expire: (last: T) => void): void {
    if (this.current !== undefined) return arrive(this.current);
    const w: Waiting<T> = { arrive, expire, timer: setTimeout(() => { this.waiting.delete(w); expire(this.latest); }, this.maxWaitMs) };
    this.waiting.add(w);
  }

  attach(target: T): void {
    this.current = target;
    this.latest = target;
    for (const w of this.takeWaiting()) w.arrive(target);
  }

  detach(target: T): void {
    if (this.current === target) this.current = undefined;
  }

  /** Nothing will attach again: every waiting request is answered now. */
  close(): void {
    this.current = undefined;
    for (const w of this.takeWaiting()) w.expire(this.latest);
  }

  private takeWaiting(): Waiting<T>[] {
    const all = [...this.waiting];
    this.waiting.clear();
    for (const w of all) clearTimeout(w.timer);
    return all;
  }
}

interface Waiting<T> { arrive: (target: T) => void; expire: (last: T) => void; timer: NodeJS.Timeout }
