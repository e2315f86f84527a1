import type { LlmCall } from '../../core/llm-call.js';
import { contentKeyProblem, credentialHeaderProblem } from '../../core/privacy.js';
import { str } from './attrs.js';
import type { AttributionConfig } from './config.js';
import { splitTags } from './litellm-identity.js';
import { parsePythonDict } from './python-repr.js';
import type { AttributionView, LiteLLMIdentity } from './types.js';

type RefKind = 'resource' | 'attribute' | 'header' | 'metadata' | 'litellm' | 'tag';
interface Ref { kind: RefKind; key: string }

const LITELLM_FIELDS = new Set<keyof LiteLLMIdentity>(['team_id', 'team_alias', 'key_alias', 'key_hash', 'user_id', 'user_email', 'end_user', 'org_id', 'session_id', 'tags']);

const REF_KINDS: readonly RefKind[] = ['resource', 'attribute', 'header', 'metadata', 'litellm', 'tag'];

/**
 * Why `text` cannot be a source: not a reference, an unknown litellm field, a credential header or
 * a content attribute (a source's value lands in rows and metric labels). '' when it can.
 */
export function refProblem(text: string): string {
  const i = text.indexOf(':');
  const kind = text.slice(0, i) as RefKind;
  const key = text.slice(i + 1);
  if (i <= 0 || key === '' || !REF_KINDS.includes(kind)) {
    return `"${text}" is not a source reference (resource:KEY, attribute:KEY, header:NAME, metadata:KEY, litellm:FIELD, tag:PREFIX)`;
  }
  switch (kind) {
    case 'header': return credentialHeaderProblem(key);
    case 'litellm': return LITELLM_FIELDS.has(key as keyof LiteLLMIdentity) ? '' : `"${text}": litellm fields are ${[...LITELLM_FIELDS].join(', ')}`;
    case 'attribute': case 'resource': return contentKeyProblem(key);
    case 'metadata': {
      // `metadata:KEY` reads the attribute metadata.KEY; `metadata:DICT.KEY` one key of a logged dict.
      const dot = key.indexOf('.');
      return dot < 0 ? contentKeyProblem(`metadata.${key}`) : contentKeyProblem(key.slice(dot + 1));
    }
    case 'tag': return '';
  }
}

/** `kind:key` → Ref, for a reference validation accepted (refProblem). */
export function parseRef(text: string, where: string): Ref {
  const problem = refProblem(text);
  if (problem !== '') throw new Error(`claude-normalizer: ${where}: ${problem}`);
  const i = text.indexOf(':');
  const kind = text.slice(0, i) as RefKind;
  const key = text.slice(i + 1);
  return { kind, key: kind === 'header' ? key.toLowerCase() : key };
}

/** Attribution fields resolved from configured sources, compiled once per component. */
export class Attribution {
  private readonly fields: [keyof Pick<LlmCall, 'user' | 'team' | 'key_alias' | 'customer' | 'session_id'>, Ref[]][];
  private readonly tags: Ref[];
  private readonly dimensions: [string, Ref[]][];

  constructor(cfg: AttributionConfig, dimensions: Record<string, string[]>) {
    const refs = (list: string[], where: string) => list.map((t) => parseRef(t, where));
    this.fields = [
      ['user', refs(cfg.user, 'attribution.user')],
      ['team', refs(cfg.team, 'attribution.team')],
      ['key_alias', refs(cfg.key_alias, 'attribution.key_alias')],
      ['customer', refs(cfg.customer, 'attribution.customer')],
      ['session_id', refs(cfg.session_id, 'attribution.session_id')],
    ];
    this.tags = refs(cfg.tags, 'attribution.tags');
    this.dimensions = Object.entries(dimensions).map(([name, list]) => [name, refs(list, `dimensions.${name}`)]);
  }

  apply(call: LlmCall, v: AttributionView): void {
    for (const [field, refs] of this.fields) {
      for (const r of refs) {
        const s = this.one(r, v);
        if (s !== '') { call[field] = s; break; }
      }
    }
    const tags: string[] = [];
    for (const r of this.tags) {
      if (r.kind === 'litellm' && r.key === 'tags') { if (v.litellm) for (const t of v.litellm.tags) add(tags, t); continue; }
      const raw = r.kind === 'attribute' ? v.attrs[r.key] : undefined;
      if (Array.isArray(raw)) { for (const t of raw) if (typeof t === 'string') add(tags, t); continue; }
      const s = this.one(r, v);
      if (s !== '') for (const t of splitTags(s)) add(tags, t);
    }
    call.tags = tags;
    if (this.dimensions.length > 0) {
      const dims: Record<string, string> = {};
      for (const [name, refs] of this.dimensions) {
        for (const r of refs) {
          const s = this.one(r, v, tags);
          if (s !== '') { dims[name] = s; break; }
        }
      }
      call.dimensions = dims;
    }
  }

  private one(r: Ref, v: AttributionView, tags?: string[]): string {
    switch (r.kind) {
      case 'resource': return str(v.resource, r.key);
      case 'attribute': return str(v.attrs, r.key);
      case 'header': return v.headers?.[r.key] ?? '';
      case 'metadata': {
        if (v.metadataPrefix === '') return '';
        const dot = r.key.indexOf('.');
        if (dot < 0) {
          const s = str(v.attrs, v.metadataPrefix + r.key);
          return s === 'None' ? '' : s;
        }
        // `spend_logs_metadata.project`: a key inside a dict LiteLLM logged as a Python repr.
        const d = parsePythonDict(str(v.attrs, v.metadataPrefix + r.key.slice(0, dot)));
        const inner = d?.[r.key.slice(dot + 1)];
        return typeof inner === 'string' || typeof inner === 'number' ? String(inner) : '';
      }
      case 'litellm': {
        if (!v.litellm || r.key === 'tags') return '';
        return v.litellm[r.key as Exclude<keyof LiteLLMIdentity, 'tags'>];
      }
      case 'tag': {
        const prefix = r.key + ':';
        for (const t of tags ?? []) if (t.startsWith(prefix)) return t.slice(prefix.length).trim();
        return '';
      }
    }
  }
}

function add(list: string[], t: string): void {
  if (t !== '' && !list.includes(t)) list.push(t);
}
