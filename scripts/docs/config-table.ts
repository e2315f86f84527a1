/** A component's config block (its JSON Schema) as a Markdown table: key, type, default, meaning. */

import { DURATION_PATTERN } from '../../core/config/duration.js';

type Schema = Record<string, unknown>;

/** ` (1 … 5000000)`, ` (≤ 1024)`: the bounds validation enforces, shown with the type. */
function range(s: Schema): string {
  const low = s.minimum ?? s.exclusiveMinimum;
  const lowText = low === undefined ? '' : `${s.exclusiveMinimum !== undefined ? '> ' : ''}${String(low)}`;
  if (s.maximum === undefined) return lowText === '' || s.exclusiveMinimum !== undefined ? (lowText ? ` (${lowText})` : '') : ` (≥ ${lowText})`;
  return lowText === '' ? ` (≤ ${String(s.maximum)})` : s.exclusiveMinimum !== undefined ? ` (${lowText}, ≤ ${String(s.maximum)})` : ` (${lowText} … ${String(s.maximum)})`;
}

/** ` (1ms … 1h)`, ` (≤ 596h)`: a duration's bounds (minDuration, maxDuration, a Node timer's limit). */
function durationRange(s: Schema): string {
  const max = s.maxDuration ?? (s.format === 'timer-duration' ? '596h' : undefined);
  if (s.minDuration === undefined) return max === undefined ? '' : ` (≤ ${String(max)})`;
  return max === undefined ? ` (≥ ${String(s.minDuration)})` : ` (${String(s.minDuration)} … ${String(max)})`;
}

function typeOf(s: Schema): string {
  if (s.type === 'integer' || s.type === 'number') return `${s.type}${range(s)}`;
  if (s.pattern === DURATION_PATTERN) return `duration${durationRange(s)}`;
  if (Array.isArray(s.enum)) return s.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' \\| ');
  if (s.type === 'array') return `list of ${typeOf((s.items as Schema | undefined) ?? {})}`;
  if (s.format) return `${String(s.type)} (${String(s.format)})`;
  if (s.pattern) return `${String(s.type)} (\`${String(s.pattern).replace(/\|/g, '\\|')}\`)`;
  if (Array.isArray(s.type)) return s.type.join(' \\| ');
  return String(s.type ?? 'any');
}

export function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function rows(schema: Schema, prefix: string, out: string[]): void {
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  for (const [key, s] of Object.entries(props)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const dflt = s.default === undefined ? '' : `\`${JSON.stringify(s.default)}\``;
    out.push(`| \`${path}\` | ${typeOf(s)} | ${dflt} | ${cell(String(s.description ?? ''))} |`);
    if (s.type === 'object' && s.properties) rows(s, path, out);
    const each = s.additionalProperties as Schema | boolean | undefined;
    if (typeof each === 'object' && each.properties) rows(each, `${path}.<name>`, out);
    const items = s.items as Schema | undefined;
    if (s.type === 'array' && items?.type === 'object' && items.properties) rows(items, `${path}[]`, out);
  }
}

export function configTable(schema: Schema): string {
  const out = ['| key | type | default | meaning |', '| --- | --- | --- | --- |'];
  rows(schema, '', out);
  return out.join('\n');
}
