import { copy } from './bounded-strings.js';

/**
 * Reader for Python `repr()` literals. LiteLLM v1 writes dict-valued metadata (usage_object,
 * requester_custom_headers, requester_metadata) with `str(value)`, not JSON: single quotes,
 * True/False/None. Only literals are understood; anything else (an object repr such as
 * `Usage(...)`) yields undefined, never a guess.
 */
export type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

/** Past this many characters, parsed strings are copies instead of slices of the text. */
const LARGE_TEXT = 64 * 1024;

export function parsePythonLiteral(text: string): PyValue | undefined {
  const p = new Parser(text);
  try {
    const v = p.value();
    p.ws();
    return p.done() ? v : undefined;
  } catch (err) {
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** A repr'd dict, or undefined. */
export function parsePythonDict(text: string): Record<string, PyValue> | undefined {
  if (text === '' || text[0] !== '{') return undefined;
  const v = parsePythonLiteral(text);
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
}

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  done(): boolean { return this.i >= this.s.length; }

  ws(): void {
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c === 32 || c === 10 || c === 13 || c === 9) this.i++;
      else break;
    }
  }

  value(): PyValue {
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.dict();
    if (c === '[' || c === '(') return this.list(c === '[' ? ']' : ')');
    if (c === "'" || c === '"') return this.string(c);
    if (this.s.startsWith('True', this.i)) { this.i += 4; return true; }
    if (this.s.startsWith('False', this.i)) { this.i += 5; return false; }
    if (this.s.startsWith('None', this.i)) { this.i += 4; return null; }
    return this.number();
  }

  private dict(): Record<string, PyValue> {
    const out: Record<string, PyValue> = {};
    this.i++;
    this.ws();
    if (this.s[this.i] === '}') { this.i++; return out; }
    for (;;) {
      const k = this.value();
      this.ws();
      if (this.s[this.i] !== ':') throw new SyntaxError('expected :');
      this.i++;
      out[String(k)] = this.value();
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return out;
      if (c !== ',') throw new SyntaxError('expected , or }');
      this.ws();
      if (this.s[this.i] === '}') { this.i++; return out; }
    }
  }

  private list(close: string): PyValue[] {
    const out: PyValue[] = [];
    this.i++;
    this.ws();
    if (this.s[this.i] === close) { this.i++; return out; }
    for (;;) {
      out.push(this.value());
      this.ws();
      const c = this.s[this.i++];
      if (c === close) return out;
      if (c !== ',') throw new SyntaxError('expected , or ' + close);
      this.ws();
      if (this.s[this.i] === close) { this.i++; return out; }
    }
  }

  private string(quote: string): string {
    this.i++;
    // Fast path: no escape before the closing quote, one slice.
    const end = this.s.indexOf(quote, this.i);
    if (end < 0) throw new SyntaxError('unterminated string');
    const bs = this.s.indexOf('\\', this.i);
    if (bs < 0 || bs > end) {
      // A value out of a large blob is copied: the record (held in the join index) would keep the blob alive.
      const out = this.s.length > LARGE_TEXT ? copy(this.s.slice(this.i, end)) : this.s.slice(this.i, end);
      this.i = end + 1;
      return out;
    }
    let out = '';
    while (this.i < this.s.length) {
      const c = this.s[this.i++];
      if (c === quote) return out;
      if (c === '\\') {
        const e = this.s[this.i++];
        if (e === 'n') out += '\n';
        else if (e === 't') out += '\t';
        else if (e === 'r') out += '\r';
        else if (e === 'x' || e === 'u') {
          const len = e === 'x' ? 2 : 4;
          out += String.fromCharCode(parseInt(this.s.slice(this.i, this.i + len), 16));
          this.i += len;
        } else out += e;
      } else out += c;
    }
    throw new SyntaxError('unterminated string');
  }

  private number(): number {
    const start = this.i;
    while (this.i < this.s.length && isNumberChar(this.s.charCodeAt(this.i))) this.i++;
    if (start === this.i) throw new SyntaxError('unexpected ' + (this.s[this.i] ?? 'end'));
    const n = Number(this.s.slice(start, this.i));
    if (!Number.isFinite(n)) throw new SyntaxError('bad number');
    return n;
  }
}

/** 0-9 + - . e E */
function isNumberChar(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46 || c === 101 || c === 69;
}
