/**
 * What a request asks the mock to do. A prompt may carry `[[mock key=value ...]]` anywhere in
 * its text; the mock finds it in the raw body, so it survives every gateway transformation
 * (Anthropic, Bedrock Converse, Vertex, OpenAI shapes alike).
 *
 *   in, out, cr, cw5m, cw1h   usage to report (Anthropic meaning: `in` excludes cache tokens)
 *   id                        names the call, so attempts of one call are counted together
 *   error=429|529|500|timeout fail the call (`timeout`: never answer)
 *   times=N                   fail only the first N attempts of this id, then succeed
 *   delay=MS                  wait before answering
 *   final=output|full         an Anthropic stream's final message_delta usage: only `output_tokens`
 *                             (the documented example; default) or the cumulative usage with
 *                             input and cache counts (what the API sends today)
 */
export interface MockUsage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
}

export type MockError = 429 | 500 | 529 | 'timeout';

/** What the final `message_delta` of an Anthropic stream carries (see `final=` above). */
export type FinalDelta = 'output' | 'full';

export interface Directive {
  id: string;
  usage: Partial<MockUsage>;
  error: MockError | null;
  times: number;
  delayMs: number;
  finalDelta: FinalDelta;
}

const DIRECTIVE = /\[\[mock ([^\]]*)\]\]/;
const USAGE_KEYS: Record<string, keyof MockUsage> = { in: 'input', out: 'output', cr: 'cacheRead', cw5m: 'cacheWrite5m', cw1h: 'cacheWrite1h' };

function nonNegativeInt(key: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`mock directive: ${key}=${raw} is not a non-negative integer`);
  return n;
}

function parseError(raw: string): MockError {
  if (raw === 'timeout') return raw;
  const n = Number(raw);
  if (n === 429 || n === 500 || n === 529) return n;
  throw new Error(`mock directive: error=${raw} is not one of 429, 500, 529, timeout`);
}

function parseFinalDelta(raw: string): FinalDelta {
  if (raw === 'output' || raw === 'full') return raw;
  throw new Error(`mock directive: final=${raw} is not one of output, full`);
}

/** The directive in a raw request body, or null when it has none. Throws on a malformed one. */
export function parseDirective(body: string): Directive | null {
  const m = DIRECTIVE.exec(body);
  if (!m) return null;
  const d: Directive = { id: m[0], usage: {}, error: null, times: Infinity, delayMs: 0, finalDelta: 'output' };
  for (const pair of m[1].trim().split(/\s+/)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`mock directive: "${pair}" is not key=value`);
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    const usageKey = USAGE_KEYS[key];
    if (usageKey) d.usage[usageKey] = nonNegativeInt(key, value);
    else if (key === 'id') d.id = value;
    else if (key === 'error') d.error = parseError(value);
    else if (key === 'times') d.times = nonNegativeInt(key, value);
    else if (key === 'delay') d.delayMs = nonNegativeInt(key, value);
    else if (key === 'final') d.finalDelta = parseFinalDelta(value);
    else throw new Error(`mock directive: unknown key "${key}"`);
  }
  return d;
}

export function directiveText(d: { id?: string } & Partial<Record<'in' | 'out' | 'cr' | 'cw5m' | 'cw1h' | 'times' | 'delay', number>> & { error?: MockError; final?: FinalDelta }): string {
  return `[[mock ${Object.entries(d).map(([k, v]) => `${k}=${v}`).join(' ')}]]`;
}
