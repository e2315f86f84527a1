/**
 * Checks the records of one instrumented app against what the mock upstream served: one record
 * per call the library reported, with exactly the upstream's tokens in Anthropic meaning (less
 * what the library itself loses, losses.ts), model, provider, streaming flag, status, the app's
 * resource attribution (service.name, team.id, deployment.environment as the `env` dimension),
 * the end user and session where the library carries them from the app's context, and nothing else. Used on the committed captures (unit test) and on a live run (e2e).
 */
import type { LlmCall } from '../../../core/llm-call.js';
import { LIBRARIES } from './libraries.js';
import { lossesOf, type ManifestCall, type SourceManifest } from './losses.js';

export type CheckedRow = Pick<LlmCall, 'call_id' | 'status' | 'model' | 'provider' | 'streaming' | 'service_name' | 'team' | 'user' | 'session_id' | 'source'
  | 'input_tokens' | 'output_tokens' | 'cache_read_tokens' | 'cache_write_5m_tokens' | 'cache_write_1h_tokens' | 'cost_usd'>
  & { attributes: Record<string, string>; dimensions: Record<string, string> };

/** The canonical model of a planned call (the plan names dated, regional or gateway-alias ids). */
const canonicalModel = (c: ManifestCall): string => (c.model.includes('claude-sonnet-4-5') ? 'claude-sonnet-4-5' : c.model);

export interface CallOutcome<R extends CheckedRow> {
  call: ManifestCall;
  rows: R[];
  problems: string[];
}

/**
 * The records of one call: by a provider id the record carries, else (libraries that keep none) by
 * its output count, unique per call in the plan, or by its error status for a failed call.
 */
function recordsOf<R extends CheckedRow>(rows: R[], ids: string[], output: number | null, errors: number): R[] {
  const byId = rows.filter((r) => ids.includes(r.call_id) || Object.values(r.attributes).some((v) => ids.includes(v)));
  if (byId.length > 0) return byId;
  if (output === null) return rows.filter((r) => r.status === 'error').slice(0, errors);
  return rows.filter((r) => r.status === 'ok' && r.output_tokens === output);
}

/** `sources`: the sources a record may come from (the gateway's, when a call is also reported through one). */
export function checkSource<R extends CheckedRow>(lib: string, manifest: Pick<SourceManifest, 'identity' | 'calls'>, rows: R[], sources = ['otel_genai']): { calls: CallOutcome<R>[]; extra: R[] } {
  const claimed = new Set<R>();
  const calls: CallOutcome<R>[] = [];
  for (const c of manifest.calls) {
    const losses = lossesOf(lib, c);
    const served = c.attempts.find((a) => a.status === 200 && a.usage !== null);
    const ids = c.attempts.flatMap((a) => [a.requestId, a.responseId]).filter((x) => x !== '');
    const output = served ? served.usage!.output + (losses.includes('output_plus_one') ? 1 : 0) : null;
    const errors = losses.includes('error') || losses.includes('span') ? 0 : 1;
    const mine = recordsOf(rows.filter((r) => !claimed.has(r)), ids, output, errors);
    for (const r of mine) claimed.add(r);
    const problems: string[] = [];
    calls.push({ call: c, rows: mine, problems });
    if (losses.includes('span')) {
      if (mine.length > 0) problems.push(`the library reports no span here, yet ${mine.length} record(s): update losses.ts`);
      continue;
    }
    if (served === undefined) {
      if (losses.includes('error')) continue;
      if (mine.length !== 1 || mine[0].status !== 'error') problems.push(`want one error record, got ${mine.map((r) => r.status).join(',') || 'none'}`);
      else if (mine[0].input_tokens + mine[0].output_tokens > 0) problems.push('tokens billed on an error');
      continue;
    }
    if (mine.length !== 1) {
      problems.push(`${mine.length} records for one call`);
      continue;
    }
    const r = mine[0];
    const u = served.usage!;
    const want = {
      input: losses.includes('cache_reads_in_input') ? u.input + u.cacheRead : u.input,
      output: output!,
      cache_read: losses.includes('cache_reads_in_input') || losses.includes('cache') ? 0 : u.cacheRead,
      cache_write: losses.includes('cache') ? 0 : u.cacheWrite5m + u.cacheWrite1h,
    };
    const got = { input: r.input_tokens, output: r.output_tokens, cache_read: r.cache_read_tokens, cache_write: r.cache_write_5m_tokens + r.cache_write_1h_tokens };
    for (const k of Object.keys(want) as (keyof typeof want)[]) if (want[k] !== got[k]) problems.push(`${k} ${got[k]} != mock ${want[k]}`);
    if (!losses.includes('cache_split') && !losses.includes('cache') && r.cache_write_1h_tokens !== u.cacheWrite1h) problems.push(`1h writes ${r.cache_write_1h_tokens} != ${u.cacheWrite1h}`);
    if (r.model !== canonicalModel(c)) problems.push(`model ${r.model}`);
    if (r.provider !== c.provider) problems.push(`provider ${r.provider} != ${c.provider}`);
    if (r.status !== 'ok') problems.push(`status ${r.status}`);
    if (r.streaming !== c.stream && !losses.includes('streaming')) problems.push(`streaming ${String(r.streaming)}`);
    if (r.service_name !== manifest.identity.service) problems.push(`service ${r.service_name}`);
    if (r.team !== manifest.identity.team) problems.push(`team ${r.team}`);
    if (r.dimensions.env !== manifest.identity.environment) problems.push(`env ${r.dimensions.env}`);
    const carried = LIBRARIES.find((l) => l.lib === lib)?.contextAttributes === true;
    const user = carried ? manifest.identity.user : '';
    const session = carried ? manifest.identity.session : '';
    if (r.user !== user) problems.push(`user "${r.user}" != "${user}"`);
    if (r.session_id !== session) problems.push(`session "${r.session_id}" != "${session}"`);
    if (!sources.includes(r.source)) problems.push(`source ${r.source}`);
  }
  return { calls, extra: rows.filter((r) => !claimed.has(r)) };
}

/** Every problem of a check as one line each, extra records included. */
export function problemsOf(result: ReturnType<typeof checkSource>): string[] {
  return [
    ...result.calls.flatMap((c) => c.problems.map((p) => `${c.call.id}: ${p}`)),
    ...result.extra.map((r) => `extra record ${r.call_id} (${r.model}, ${r.status}, out ${r.output_tokens})`),
  ];
}
