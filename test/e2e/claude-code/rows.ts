/** What the Claude Code scenarios read back from ClickHouse, and the expectations they share. */
import type { CallRow } from '../harness/tokenledger.js';
import type { MockUsage } from '../mock-upstream/server.js';

/** A row of tokenledger.llm_calls as read by the harness, with the fields these scenarios check. */
export interface CcRow extends CallRow {
  record_type: string;
  source: string;
  team: string;
  session_id: string;
  service_name: string;
}

export interface Tokens {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
}

export function rowTokens(r: CallRow): Tokens {
  return { input: r.input_tokens, output: r.output_tokens, cacheRead: r.cache_read_tokens, cacheWrite5m: r.cache_write_5m_tokens, cacheWrite1h: r.cache_write_1h_tokens };
}

export function sumTokens(list: Tokens[]): Tokens {
  const t: Tokens = { input: 0, output: 0, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0 };
  for (const x of list) {
    t.input += x.input; t.output += x.output; t.cacheRead += x.cacheRead; t.cacheWrite5m += x.cacheWrite5m; t.cacheWrite1h += x.cacheWrite1h;
  }
  return t;
}

export function mockTokens(u: MockUsage | null): Tokens {
  if (!u) throw new Error('mock call without usage');
  return { input: u.input, output: u.output, cacheRead: u.cacheRead, cacheWrite5m: u.cacheWrite5m, cacheWrite1h: u.cacheWrite1h };
}

/** The Prometheus token_type of each Tokens field. */
export const TOKEN_TYPE_LABELS: Record<keyof Tokens, string> = {
  input: 'input', output: 'output', cacheRead: 'cache_read', cacheWrite5m: 'cache_write_5m', cacheWrite1h: 'cache_write_1h',
};

/**
 * Versions whose api_request event splits cache creation into 5m and 1h. 2.1.197 reports only the
 * total (billed at the 5-minute rate); 2.1.330 is the oldest pinned version seen to split it.
 */
export function reportsCacheSplit(version: string): boolean {
  const [major, minor, patch] = version.split('.').map(Number);
  return major > 2 || (major === 2 && (minor > 1 || patch >= 330));
}

/** A prompt whose mock directive makes the mock report `u` under the id `id`. */
export function promptFor(id: string, u: MockUsage): string {
  return `Say hello. [[mock id=${id} in=${u.input} out=${u.output} cr=${u.cacheRead} cw5m=${u.cacheWrite5m} cw1h=${u.cacheWrite1h}]]`;
}
