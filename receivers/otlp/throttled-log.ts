import type { LogFields, Logger } from '../../core/logger.js';

/**
 * A warning logged at most once per `intervalMs` for each key, carrying how many were left out
 * since the last one: refusals come in floods under overload or attack, and one line every few
 * seconds says as much as thousands (the self-metrics count every one).
 */
export class ThrottledLog {
  private readonly last = new Map<string, { at: number; skipped: number }>();

  constructor(private readonly logger: Logger, private readonly intervalMs = 10_000, private readonly now: () => number = Date.now) {}

  warn(key: string, msg: string, fields: LogFields): void {
    const t = this.now();
    const seen = this.last.get(key);
    if (seen !== undefined && t - seen.at < this.intervalMs) {
      seen.skipped++;
      return;
    }
    this.logger.warn(msg, seen !== undefined && seen.skipped > 0 ? { ...fields, similar_not_logged: seen.skipped } : fields);
    this.last.set(key, { at: t, skipped: 0 });
  }
}
