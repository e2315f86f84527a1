import type { Attributes } from '../../core/telemetry.js';
import { str } from './attrs.js';
import { parsePythonDict, type PyValue } from './python-repr.js';
import type { LiteLLMIdentity } from './types.js';

/**
 * LiteLLM key/team/user identity. v1 writes `metadata.user_api_key_*` (absent values as '' or
 * 'None'); v2 stamps allowlisted Baggage as `litellm.team.id`, `litellm.api_key.hash`,
 * `litellm.metadata.<k>`. Both are read, whichever layout the span has.
 */
export function readIdentity(a: Attributes): LiteLLMIdentity {
  let endUser = val(a, 'metadata.user_api_key_end_user_id') || val(a, 'litellm.end_user.id')
    || val(a, 'litellm.metadata.user_api_key_end_user_id') || val(a, 'llm.user');
  let session = val(a, 'gen_ai.conversation.id');
  // Claude Code sends `metadata.user_id` (a per-session JSON blob, or `user_…_session_<uuid>` in older
  // releases) which LiteLLM takes as the end user: it names a session, not a customer.
  if (endUser.startsWith('{')) {
    session ||= sessionFromJson(endUser);
    endUser = '';
  } else {
    const i = endUser.indexOf('_session_');
    if (endUser.startsWith('user_') && i > 0) {
      session ||= endUser.slice(i + 9);
      endUser = '';
    }
  }
  return {
    team_id: val(a, 'metadata.user_api_key_team_id') || val(a, 'metadata.team_id') || val(a, 'litellm.team.id'),
    team_alias: val(a, 'metadata.user_api_key_team_alias') || val(a, 'metadata.team_alias') || val(a, 'litellm.team.alias'),
    key_alias: val(a, 'metadata.user_api_key_alias') || val(a, 'litellm.metadata.user_api_key_alias'),
    key_hash: val(a, 'metadata.user_api_key_hash') || val(a, 'litellm.api_key.hash'),
    user_id: realUser(val(a, 'metadata.user_api_key_user_id') || val(a, 'litellm.metadata.user_api_key_user_id')),
    user_email: val(a, 'metadata.user_api_key_user_email') || val(a, 'litellm.metadata.user_api_key_user_email'),
    end_user: endUser,
    org_id: val(a, 'metadata.user_api_key_org_id') || val(a, 'litellm.metadata.user_api_key_org_id'),
    session_id: session,
    tags: readTags(a),
  };
}

/** Client `x-` headers LiteLLM logged (`requester_custom_headers`, a Python-repr dict), names lower-cased. */
export function readHeaders(a: Attributes): Record<string, string> | null {
  const raw = str(a, 'metadata.requester_custom_headers') || str(a, 'litellm.metadata.requester_custom_headers');
  if (raw === '' || raw === 'None') return null;
  const d = raw[0] === '{' && raw[1] === '"' ? jsonDict(raw) : parsePythonDict(raw);
  if (!d) return null;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(d)) if (typeof v === 'string' || typeof v === 'number') out[k.toLowerCase()] = String(v);
  return out;
}

/** LiteLLM names requests made with the master key `default_user_id`: no one in particular. */
function realUser(id: string): string {
  return id === 'default_user_id' ? '' : id;
}

function val(a: Attributes, key: string): string {
  const v = str(a, key);
  return v === 'None' ? '' : v;
}

function sessionFromJson(text: string): string {
  const d = jsonDict(text);
  const s = d?.['session_id'];
  return typeof s === 'string' ? s : '';
}

function jsonDict(text: string): Record<string, PyValue> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, PyValue>) : undefined;
  } catch (err) {
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** Request tags, where LiteLLM lets them through: `tags` in requester_metadata (v1) or allowlisted `litellm.metadata.tags` (v2). */
function readTags(a: Attributes): string[] {
  const v2 = a['litellm.metadata.tags'];
  if (Array.isArray(v2)) return v2.filter((t): t is string => typeof t === 'string');
  if (typeof v2 === 'string' && v2 !== '') return splitTags(v2);
  const rm = str(a, 'metadata.requester_metadata');
  if (!rm.includes("'tags'")) return [];
  const tags = parsePythonDict(rm)?.['tags'];
  return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
}

/** `a,b` or a JSON / Python list string. */
export function splitTags(s: string): string[] {
  const t = s.trim();
  if (t.startsWith('[')) {
    const normalized = t.replaceAll("'", '"');
    try {
      const v: unknown = JSON.parse(normalized);
      if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
    }
  }
  const out: string[] = [];
  for (const part of t.split(',')) {
    const p = part.trim();
    if (p !== '') out.push(p);
  }
  return out;
}
