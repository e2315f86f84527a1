import { Ajv, type ErrorObject } from 'ajv';
import { durationWithin, isDuration, renamedKeyMessage } from './duration.js';

/** host:port where port is 0–65535 (0 asks the OS for a free port); host may be a name, IPv4 or [IPv6]. */
export function isHostPort(text: string): boolean {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]*):([0-9]{1,5})$/.exec(text);
  return m !== null && Number(m[2]) <= 65535;
}

function isUri(text: string): boolean {
  try {
    return Boolean(new URL(text).protocol);
  } catch {
    return false; // URL throws on anything it cannot parse; that is the answer
  }
}

export function createAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, verbose: true, strict: false });
  ajv.addFormat('host-port', isHostPort);
  ajv.addFormat('uri', isUri);
  ajv.addFormat('timer-duration', isDuration);
  ajv.addKeyword({ keyword: 'minDuration', type: 'string', schemaType: 'string', validate: (min: string, data: unknown) => durationWithin(min, data, false) });
  ajv.addKeyword({ keyword: 'maxDuration', type: 'string', schemaType: 'string', validate: (max: string, data: unknown) => durationWithin(max, data, true) });
  // Annotation only (old key → new key): read by explain() when such a key is found.
  ajv.addKeyword({ keyword: 'renamedKeys', schemaType: 'object' });
  return ajv;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list (${JSON.stringify(value).slice(0, 60)})`;
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

const FORMAT_HINT: Record<string, string> = {
  'host-port': 'host:port with a port from 0 to 65535',
  uri: 'a URL',
  'timer-duration': 'a duration of at most 596h (Node timers go no further)',
};

/** What was expected and what was found, in words a user of pipeline.yaml reads. */
export function explain(err: ErrorObject): string {
  const found = describe(err.data);
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'type': return `expected ${String(p.type).replace(',', ' or ')}, found ${found}`;
    case 'enum': return `expected one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, found ${found}`;
    case 'const': return `expected ${JSON.stringify(p.allowedValue)}, found ${found}`;
    case 'required': return `missing required key '${String(p.missingProperty)}'`;
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      const renamed = (err.parentSchema as { renamedKeys?: Record<string, string> } | undefined)?.renamedKeys?.[key];
      if (renamed !== undefined) return renamedKeyMessage(key, renamed, (err.data as Record<string, unknown>)[key]);
      const known = Object.keys((err.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      return `unknown key '${String(p.additionalProperty)}'` + (known.length ? `; expected one of: ${known.join(', ')}` : '');
    }
    case 'minimum': case 'maximum': case 'exclusiveMinimum': case 'exclusiveMaximum':
      return `expected a number ${String(p.comparison)} ${String(p.limit)}, found ${found}`;
    case 'pattern':
      return String(p.pattern).includes('(ms|s|m|h)')
        ? `expected a duration such as 500ms, 30s or 5m, found ${found}`
        : `expected a string matching ${String(p.pattern)}, found ${found}`;
    case 'minDuration': return `expected a duration of at least ${String(err.schema)}, found ${found}`;
    case 'maxDuration': return `expected a duration of at most ${String(err.schema)}, found ${found}`;
    case 'format': return `expected ${FORMAT_HINT[String(p.format)] ?? String(p.format)}, found ${found}`;
    case 'minItems': return `expected at least ${String(p.limit)} item(s), found ${(err.data as unknown[]).length}`;
    case 'minProperties': return `expected at least ${String(p.limit)} entr${p.limit === 1 ? 'y' : 'ies'}, found none`;
    case 'uniqueItems': return `expected no duplicates, found items ${String(p.j)} and ${String(p.i)} equal`;
    case 'minLength': return `expected at least ${String(p.limit)} character(s), found ${found}`;
    default: return `${err.message ?? err.keyword}, found ${found}`;
  }
}
