/**
 * Reads single fields out of LiteLLM's serialized blobs (the usage object as a Python repr, the
 * hidden_params JSON) without parsing them whole: on the hot path a span carries a ~1 KB blob
 * of which a handful of numbers matter. A field is found by its quoted key followed by `: `,
 * in either quote style, so `'prompt_tokens': ` never matches `'prompt_tokens_details'`.
 */
function valueStart(text: string, key: string, from: number): number {
  // One quote style per blob: Python reprs use ', json.dumps uses " (with ": " separators).
  const q = text.charCodeAt(1) === 39 ? "'" : '"';
  const i = text.indexOf(`${q}${key}${q}: `, from);
  if (i >= 0) return i + key.length + 4;
  if (q === "'") return -1;
  const j = text.indexOf(`"${key}":`, from);
  return j < 0 ? -1 : j + key.length + 3;
}

/** The number after `key` (searching from `from`, up to `to`), undefined when absent, None/null or not a number. */
export function numberField(text: string, key: string, from = 0, to = text.length): number | undefined {
  const start = valueStart(text, key, from);
  if (start < 0 || start > to) return undefined;
  let end = start;
  while (end < text.length) {
    const c = text.charCodeAt(end);
    if ((c >= 48 && c <= 57) || c === 45 || c === 46 || c === 43 || c === 101 || c === 69) end++;
    else break;
  }
  if (end === start) return undefined;
  const n = Number(text.slice(start, end));
  return Number.isFinite(n) ? n : undefined;
}

/** The string after `key`, '' when absent or not a string. Escapes are not expected in ids and URLs; a value with one is refused. */
export function stringField(text: string, key: string, from = 0): string {
  const start = valueStart(text, key, from);
  if (start < 0) return '';
  const quote = text[start];
  if (quote !== '"' && quote !== "'") return '';
  const end = text.indexOf(quote, start + 1);
  if (end < 0) return '';
  const value = text.slice(start + 1, end);
  return value.includes('\\') ? '' : value;
}

/** The extent [start, end) of the dict that is the value of `key`, or null. Braces inside strings are not expected in usage objects. */
export function dictField(text: string, key: string): [number, number] | null {
  const start = valueStart(text, key, 0);
  if (start < 0 || text[start] !== '{') return null;
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 123) depth++;
    else if (c === 125 && --depth === 0) return [start, i + 1];
  }
  return null;
}
