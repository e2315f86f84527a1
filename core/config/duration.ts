/** Durations in pipeline.yaml are written like the collector's: `500ms`, `30s`, `5m`, `1h`. */
export const DURATION_PATTERN = '^[0-9]+(ms|s|m|h)$';
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

export function parseDuration(text: string): number {
  const m = /^([0-9]+)(ms|s|m|h)$/.exec(text);
  if (!m) throw new Error(`bad duration '${text}': expected a number followed by ms, s, m or h`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** The shortest way to write `ms` as a duration: the largest unit that divides it (90000 → `90s`, 3600000 → `1h`, 0 → `0s`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  for (const unit of ['h', 'm', 's'] as const) if (ms > 0 && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  return `${ms}ms`;
}

/** Node's timers fire at once beyond 2^31 − 1 ms (about 24.8 days): a longer duration would mean "now". */
export const MAX_DURATION_MS = 2_147_483_647;

/** The ajv `timer-duration` format (not JSON Schema's ISO 8601 `duration`): at most MAX_DURATION_MS (the shape is DURATION_PATTERN's to report). */
export function isDuration(text: string): boolean {
  return !/^([0-9]+)(ms|s|m|h)$/.test(text) || parseDuration(text) <= MAX_DURATION_MS;
}

/** The ajv keywords `minDuration` / `maxDuration`: a duration within the bound (a malformed one is the pattern's to report). */
export function durationWithin(bound: string, text: unknown, below: boolean): boolean {
  if (typeof text !== 'string' || !/^([0-9]+)(ms|s|m|h)$/.test(text)) return true;
  return below ? parseDuration(text) <= parseDuration(bound) : parseDuration(text) >= parseDuration(bound);
}

export interface DurationOptions {
  min?: string;
  max?: string;
  /** False for a duration no Node timer waits for (a Redis key's TTL): it may pass MAX_DURATION_MS up to `max`. */
  timer?: boolean;
}

/** JSON Schema of a duration key, the one way pipeline.yaml writes a length of time. */
export function durationSchema(dflt: string | undefined, description: string, opts: DurationOptions = {}): Record<string, unknown> {
  return {
    type: 'string',
    pattern: DURATION_PATTERN,
    ...(opts.timer === false ? {} : { format: 'timer-duration' }),
    ...(opts.min === undefined ? {} : { minDuration: opts.min }),
    ...(opts.max === undefined ? {} : { maxDuration: opts.max }),
    ...(dflt === undefined ? {} : { default: dflt }),
    description,
  };
}

/** The unit of an integer key from before durations were strings (`budget_sync_ms`, `window_seconds`). */
function oldUnitMs(key: string): number | undefined {
  if (key.endsWith('_ms')) return 1;
  if (key.endsWith('_seconds')) return 1000;
  return undefined;
}

/**
 * What a key renamed to a duration (`renamedKeys` in an object's schema: old name → new name) tells
 * a user upgrading an old pipeline.yaml, with the value rewritten when it can be.
 */
export function renamedKeyMessage(oldKey: string, newKey: string, value: unknown): string {
  const unit = oldUnitMs(oldKey);
  const example = unit !== undefined && typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? formatDuration(value * unit) : '30s';
  return `'${oldKey}' was renamed '${newKey}' and takes a duration (500ms, 30s, 5m, 1h): write ${newKey}: ${example}`;
}
