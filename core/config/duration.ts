/** Durations in pipeline.yaml are written like the collector's: `500ms`, `30s`, `5m`, `1h`. */
export const DURATION_PATTERN = '^[0-9]+(ms|s|m|h)$';
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

export function parseDuration(text: string): number {
  const m = /^([0-9]+)(ms|s|m|h)$/.exec(text);
  if (!m) throw new Error(`bad duration '${text}': expected a number followed by ms, s, m or h`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** Node's timers fire at once beyond 2^31 − 1 ms (about 24.8 days): a longer duration would mean "now". */
export const MAX_DURATION_MS = 2_147_483_647;

/** The ajv `timer-duration` format (not JSON Schema's ISO 8601 `duration`): at most MAX_DURATION_MS (the shape is DURATION_PATTERN's to report). */
export function isDuration(text: string): boolean {
  return !/^([0-9]+)(ms|s|m|h)$/.test(text) || parseDuration(text) <= MAX_DURATION_MS;
}
