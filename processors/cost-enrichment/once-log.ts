import type { LogFields, Logger } from '../../core/logger.js';

/** Distinct keys remembered, bounded so that a stream of junk model names cannot grow it forever. */
const LIMIT = 10_000;

/** Warns once per key (per model, say) for the component's lifetime; a reload starts afresh. */
export class OnceLog {
  private readonly seen = new Set<string>();

  constructor(private readonly logger: Logger) {}

  warn(key: string, msg: string, fields: () => LogFields): void {
    if (this.seen.has(key) || this.seen.size >= LIMIT) return;
    this.seen.add(key);
    this.logger.warn(msg, fields());
  }
}
