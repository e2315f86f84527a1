/**
 * Joins what the mock upstream served with what tokenledger stored: one row per billable call,
 * matched by an id the call is known by (LiteLLM call id, provider request or response id), or
 * else by its output token count, which the call plan makes unique per call.
 */
import type { ServedCall } from '../mock-upstream/server.js';
import type { CallSpec, SentCall } from './calls.js';
import type { CallRow } from './tokenledger.js';

export interface CallCheck {
  spec: CallSpec;
  httpStatus: number;
  billable: ServedCall[];
  rows: CallRow[];
  /** Each failed check, as a short phrase; empty when the call is right. */
  problems: string[];
  /** LiteLLM itself reports no usage for this call (a known LiteLLM defect): nothing to bill. */
  lostByLitellm: boolean;
}

const tokenSum = (rows: CallRow[], f: (r: CallRow) => number): number => rows.reduce((a, r) => a + f(r), 0);

function idsOf(s: SentCall, served: ServedCall[]): Set<string> {
  const ids = new Set<string>();
  if (s.litellmCallId) ids.add(s.litellmCallId);
  for (const c of served) {
    if (c.requestId) ids.add(c.requestId);
    if (c.responseId) ids.add(c.responseId);
  }
  return ids;
}

function matches(row: CallRow, ids: Set<string>): boolean {
  if (ids.has(row.call_id)) return true;
  for (const v of Object.values(row.attributes ?? {})) if (ids.has(v)) return true;
  return false;
}

/**
 * What a LiteLLM release itself gets wrong for a call: no usage at all, the streaming flag, no
 * tags, no key identity, or (`endedSpan`) LLM attributes set on an already ended span: the row
 * is then one tokenledger recovered from the raw_gen_ai_request span (exact tokens, the team only,
 * no client headers), or none, the call counted as lost.
 */
export interface GatewayDefects {
  usage: boolean;
  streamingFlag: boolean;
  tags: boolean;
  identity?: boolean;
  endedSpan?: boolean;
}

/** Attribution a virtual key's calls must get (tokenledger's defaults over the custom_auth identity). */
export interface ExpectedIdentity { user: string; team: string; key_alias: string; org_id: string }

/** A row recovered from a raw_gen_ai_request span: the raw span carries the team but not the key. */
export function recoveredRow(row: CallRow): boolean {
  return row.key_alias === '' && row.team !== '';
}

export function checkCalls(
  sent: SentCall[], served: ServedCall[], rows: CallRow[], defectsOf: (s: CallSpec) => GatewayDefects, identityOf: (s: SentCall) => ExpectedIdentity | null = () => null,
): { checks: CallCheck[]; unmatched: CallRow[] } {
  const claimed = new Set<CallRow>();
  const checks: CallCheck[] = [];
  for (const s of sent) {
    const attempts = served.filter((c) => c.mockId === s.spec.id);
    const billable = attempts.filter((c) => c.status === 200 && c.usage !== null);
    const ids = idsOf(s, attempts);
    let mine = rows.filter((r) => !claimed.has(r) && matches(r, ids));
    if (mine.length === 0 && billable.length > 0) mine = rows.filter((r) => !claimed.has(r) && r.output_tokens === billable[0].usage!.output);
    for (const r of mine) claimed.add(r);
    const problems: string[] = [];
    const ok = mine.filter((r) => r.status === 'ok');
    const defects = defectsOf(s.spec);
    // A call whose attributes went to an ended span and could not be recovered has no row: lost, and counted by tokenledger.
    const lost = billable.length > 0 && (defects.usage || (defects.endedSpan === true && ok.length === 0));
    if (lost) {
      if (ok.some((r) => r.output_tokens > 0)) problems.push('LiteLLM reports no usage here, yet tokens were stored: the known loss is gone, update the list');
    } else if (billable.length > 0) {
      const u = billable[0].usage!;
      if (ok.length !== billable.length) problems.push(`${ok.length} ok rows for ${billable.length} billable upstream call(s)`);
      else {
        const want = { input: u.input, output: u.output, cache_read: u.cacheRead, cache_write: u.cacheWrite5m + u.cacheWrite1h };
        const got = { input: tokenSum(ok, (r) => r.input_tokens), output: tokenSum(ok, (r) => r.output_tokens), cache_read: tokenSum(ok, (r) => r.cache_read_tokens), cache_write: tokenSum(ok, (r) => r.cache_write_5m_tokens + r.cache_write_1h_tokens) };
        for (const k of Object.keys(want) as (keyof typeof want)[]) if (want[k] !== got[k]) problems.push(`${k} ${got[k]} != mock ${want[k]}`);
        if (ok[0].streaming !== s.spec.stream && !defects.streamingFlag) problems.push(`streaming ${String(ok[0].streaming)} != ${s.spec.stream}`);
        const recovered = defects.endedSpan === true && recoveredRow(ok[0]);
        problems.push(...attributionProblems(s.spec, ok[0], defects.tags || recovered, recovered));
        const id = identityOf(s);
        if (id) problems.push(...identityProblems(ok[0], defects.identity ? { user: '', team: '', key_alias: '', org_id: '' } : recovered ? { user: '', team: id.team, key_alias: '', org_id: '' } : id));
      }
    } else if (tokenSum(mine, (r) => r.input_tokens + r.output_tokens + r.cache_read_tokens + r.cache_write_5m_tokens + r.cache_write_1h_tokens) > 0) {
      problems.push('tokens stored for a call the upstream did not serve');
    }
    checks.push({ spec: s.spec, httpStatus: s.status, billable, rows: mine, problems, lostByLitellm: lost });
  }
  return { checks, unmatched: rows.filter((r) => !claimed.has(r) && r.status === 'ok') };
}

const PROVIDER: Record<CallSpec['target'], string> = {
  anthropic: 'anthropic', anthropicTimeout: 'anthropic', bedrockConverse: 'aws.bedrock', bedrockInvoke: 'aws.bedrock',
  vertex: 'gcp.vertex_ai', openai: 'openai', bedrockConversePassthrough: 'aws.bedrock', bedrockInvokePassthrough: 'aws.bedrock',
};

/** Route, provider, customer (x-litellm-customer-id, else x-litellm-end-user-id) and x-litellm-tags of a stored row. */
function attributionProblems(spec: CallSpec, row: CallRow, tagsLost: boolean, headersLost: boolean): string[] {
  const out: string[] = [];
  if (row.route !== spec.route) out.push(`route ${row.route} != ${spec.route}`);
  if (row.provider !== PROVIDER[spec.target]) out.push(`provider ${row.provider} != ${PROVIDER[spec.target]}`);
  const customer = headersLost ? '' : spec.headers['x-litellm-customer-id'] ?? spec.headers['x-litellm-end-user-id'] ?? '';
  if (row.customer !== customer) out.push(`customer "${row.customer}" != "${customer}"`);
  const tags = (spec.headers['x-litellm-tags'] ?? '').split(',').filter((t) => t !== '');
  const missing = tagsLost ? [] : tags.filter((t) => !row.tags.includes(t));
  if (missing.length > 0) out.push(`tags ${JSON.stringify(row.tags)} lack ${missing.join(',')}`);
  return out;
}

/** Key alias, team, user and org (the `org` dimension, from litellm:org_id) of a stored row. */
function identityProblems(row: CallRow, want: ExpectedIdentity): string[] {
  const got: ExpectedIdentity = { user: row.user, team: row.team, key_alias: row.key_alias, org_id: row.dimensions?.['org'] ?? '' };
  return (Object.keys(want) as (keyof ExpectedIdentity)[]).filter((k) => got[k] !== want[k]).map((k) => `${k} "${got[k]}" != "${want[k]}"`);
}

/** The 5m / 1h split of cache writes, reported apart because some LiteLLM paths drop it. */
export function splitProblem(c: CallCheck): string {
  if (c.billable.length === 0 || c.rows.length === 0) return '';
  const u = c.billable[0].usage!;
  const r = c.rows.find((x) => x.status === 'ok');
  if (!r) return '';
  return r.cache_write_5m_tokens === u.cacheWrite5m && r.cache_write_1h_tokens === u.cacheWrite1h
    ? ''
    : `5m/1h cache-write split not carried through: stored ${r.cache_write_5m_tokens}/${r.cache_write_1h_tokens}, upstream ${u.cacheWrite5m}/${u.cacheWrite1h} (total right)`;
}
