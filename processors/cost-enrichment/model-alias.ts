import type { MatchLogic, ModelInfo } from '@pydantic/genai-prices';

/**
 * Whether the catalog entry genai-prices matched for `requested` is the same model, not a neighbour
 * its prefix patterns happened to catch (`starts_with: claude-sonnet-5` takes `claude-sonnet-5-5`;
 * `contains: us.anthropic.claude-sonnet-5` takes `us.anthropic.claude-sonnet-5-5-v1:0`). The same
 * model is: the entry's id in another spelling (modelIdentity), or an id the entry's rule names in
 * full (the catalog's own aliases: `equals: claude-sonnet-4` on `claude-sonnet-4-0`, `starts_with:
 * deepseek-r1` on `deepseek-reasoner`). Anything else is unpriced.
 */
export function sameModel(requested: string, entry: ModelInfo): boolean {
  const id = modelIdentity(requested);
  return id === modelIdentity(entry.id) || literals(entry.match).some((v) => modelIdentity(v) === id);
}

/** Cross-region and vendor prefixes of Bedrock ids (`us.`, `global.`, `regional.`, `anthropic.`, `us-gov.`). */
const DOTTED_PREFIX = /^(?:[a-z][a-z-]*\.)+/;
/** Alias suffixes of one model: Vertex `@20250929`, Bedrock `-v1:0`, snapshot dates, `-latest`. */
const VERTEX_VERSION = /@[a-z0-9-]+$/;
const BEDROCK_VERSION = /(?:-v\d+)?(?::\d+)?$/;
const SNAPSHOT = /-(?:\d{8}|\d{4}-\d{2}-\d{2}|latest)$/;
/** `claude-3.5-haiku`: a dotted version is the same as a dashed one. */
const DOTTED_VERSION = /(\d)\.(\d)/g;
/** `claude-sonnet-4-0` is Anthropic's alias of `claude-sonnet-4`: a zero minor version says nothing. */
const ZERO_MINOR = /(-\d+)-0$/;
/** `claude-4-5-haiku` and `claude-3-7-sonnet` name the same models as `claude-haiku-4-5` and `claude-sonnet-3-7`. */
const VERSION_FIRST = /^claude-(\d+(?:-\d+)?)-(opus|sonnet|haiku)$/;

/**
 * One spelling per model: lower case, no provider path or Bedrock region/vendor prefix, no Vertex
 * or Bedrock version, no snapshot date or `-latest`, dashes for dots in versions, family before version.
 */
export function modelIdentity(id: string): string {
  let s = id.trim().toLowerCase();
  s = s.slice(s.lastIndexOf('/') + 1).replace(DOTTED_PREFIX, '').replace(VERTEX_VERSION, '').replace(BEDROCK_VERSION, '');
  s = s.replace(SNAPSHOT, '').replace(DOTTED_VERSION, '$1-$2').replace(VERSION_FIRST, 'claude-$2-$1');
  return s.replace(ZERO_MINOR, '$1');
}

/** The ids an entry's match rule spells out (`equals`, `starts_with`, `contains`, alone or under `or`). */
function literals(m: MatchLogic): string[] {
  if ('equals' in m) return [m.equals];
  if ('starts_with' in m) return [m.starts_with];
  if ('contains' in m) return [m.contains];
  if ('or' in m) return m.or.flatMap(literals);
  return [];
}
