/** Why a request was not admitted to the pipeline. */
export type AdmissionRefusal = 'queue_full' | 'queue_timeout';

/** Gives the slot back; call exactly once. */
export type Release = () => void;

interface Waiter {
  client: string;
  grant: (release: Release) => void;
  timer: NodeJS.Timeout;
}

/**
 * At most `maxActive` requests are decoded and in the pipeline at once; the others wait, up to
 * `maxQueued` of them and each until its deadline, then are refused — early, while the client still
 * listens for the answer, rather than answered past its timeout. Free slots go round-robin across
 * clients (FIFO within one), so a client with many requests waiting does not delay another's.
 */
export class Admission {
  private active = 0;
  private queued = 0;
  /** Waiters by client, in turn order: the next slot goes to the first client's first waiter. */
  private readonly turns = new Map<string, Waiter[]>();

  constructor(private readonly maxActive: number, private readonly maxQueued: number, private readonly onChange: (queued: number) => void) {}

  /** A slot for a request of `client`, at once or after waiting at most `waitMs`; else why not. */
  enter(client: string, waitMs: number): Promise<Release | AdmissionRefusal> {
    if (this.active < this.maxActive && this.queued === 0) {
      this.active++;
      return Promise.resolve(this.release());
    }
    if (this.queued >= this.maxQueued) return Promise.resolve('queue_full');
    if (waitMs <= 0) return Promise.resolve('queue_timeout');
    return new Promise((resolve) => {
      const waiter: Waiter = {
        client,
        grant: resolve,
        timer: setTimeout(() => {
          this.remove(waiter);
          resolve('queue_timeout');
        }, waitMs),
      };
      const line = this.turns.get(client);
      if (line) line.push(waiter);
      else this.turns.set(client, [waiter]);
      this.queued++;
      this.onChange(this.queued);
    });
  }

  private release(): Release {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.active--;
      this.next();
    };
  }

  /** Hands a free slot to the client whose turn it is; that client goes to the back of the line. */
  private next(): void {
    if (this.active >= this.maxActive) return;
    const first = this.turns.entries().next();
    if (first.done === true) return;
    const [client, line] = first.value;
    const waiter = line.shift()!;
    this.turns.delete(client);
    if (line.length > 0) this.turns.set(client, line);
    clearTimeout(waiter.timer);
    this.queued--;
    this.onChange(this.queued);
    this.active++;
    waiter.grant(this.release());
  }

  private remove(waiter: Waiter): void {
    const line = this.turns.get(waiter.client);
    if (line === undefined) return;
    const i = line.indexOf(waiter);
    if (i < 0) return;
    line.splice(i, 1);
    if (line.length === 0) this.turns.delete(waiter.client);
    this.queued--;
    this.onChange(this.queued);
  }
}
