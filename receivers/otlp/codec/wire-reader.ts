import protobuf from 'protobufjs/minimal.js';
import { OtlpDecodeError } from './errors.js';
import { uint64Decimal } from './scalars.js';

/**
 * The protobuf wire primitives the OTLP decoder (from-wire.ts) needs beyond protobufjs's Reader:
 * message framing, 64-bit integers read straight into their core/telemetry.ts form, ids as hex
 * and cached attribute-key strings. Each one consumes the same bytes and throws the same errors as
 * protobufjs's generated decoders would, without the Long objects they allocate per 64-bit value.
 */

export type Reader = protobuf.Reader;

/** One request being decoded: its bytes, the reader over them, and the first invalid id seen. */
export interface Wire {
  readonly body: Buffer;
  readonly r: Reader;
  /** Reported once every byte is read, so that a malformed request fails as malformed protobuf first. */
  idError: OtlpDecodeError | null;
}

export function wireOf(body: Buffer): Wire {
  return { body, r: new protobuf.BufferReader(body), idError: null };
}

/** A bytes id field read by bytesStart(), as lowercase hex; '' when absent or empty. */
export function idHex(w: Wire, start: number, end: number, size: 8 | 16, field: string): string {
  const n = end - start;
  if (n === 0) return '';
  if (n !== size) {
    w.idError ??= new OtlpDecodeError(`${field} must be ${size} bytes, got ${n}`);
    return '';
  }
  return w.body.toString('hex', start, end);
}

/**
 * Enters a length-delimited sub-message `depth` levels deep and narrows the reader to it;
 * returns the outer limit, for leave(). The checks and their order are protobufjs's.
 */
export function enter(r: Reader, depth: number): number {
  const length = r.uint32();
  if (depth > protobuf.Reader.recursionLimit) throw Error('maximum nesting depth exceeded');
  const end = r.pos + length;
  if (end > r.len) throw RangeError('index out of range');
  const outer = r.len;
  r.len = end;
  return outer;
}

export function leave(r: Reader, outer: number): void {
  if (r.pos !== r.len) throw RangeError('index out of range');
  r.len = outer;
}

/**
 * A repeated scalar field: packed (wire type 2, a length-delimited run) or one value per tag.
 * `read` consumes one value; the framing checks are protobufjs's.
 */
export function readRepeated<T>(r: Reader, tag: number, out: T[], read: (r: Reader) => T): void {
  if ((tag & 7) !== 2) {
    out.push(read(r));
    return;
  }
  const end = r.uint32() + r.pos;
  if (end > r.len) throw RangeError('index out of range');
  const outer = r.len;
  r.len = end;
  while (r.pos < end) out.push(read(r));
  if (r.pos !== end) throw RangeError('index out of range');
  r.len = outer;
}

/** Skips a length-delimited field and returns where its bytes start (they end at r.pos). */
export function bytesStart(r: Reader): number {
  const length = r.uint32();
  const start = r.pos;
  r.skip(length); // the bounds check and error of Reader.bytes()
  return start;
}

/** Advances past 8 bytes (with Reader.fixed64()'s bounds check) and returns where they start. */
function fixed64Start(r: Reader): number {
  const start = r.pos;
  r.skip(8);
  return start;
}

const word = (b: Uint8Array, p: number): number => (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;

/** A fixed64 timestamp as decimal nanoseconds. */
export function fixed64Decimal(r: Reader): string {
  const p = fixed64Start(r);
  return uint64Decimal(word(r.buf, p), word(r.buf, p + 4));
}

/** A fixed64 as a number (rounded above 2^53, as Long.toNumber() does). */
export function fixed64Number(r: Reader): number {
  const p = fixed64Start(r);
  return word(r.buf, p + 4) * 4294967296 + word(r.buf, p);
}

/** An sfixed64 as a number. */
export function sfixed64Number(r: Reader): number {
  const p = fixed64Start(r);
  return (word(r.buf, p + 4) | 0) * 4294967296 + word(r.buf, p);
}

const outOfRange = (r: Reader): RangeError => RangeError(`index out of range: ${r.pos} + 1 > ${r.len}`);

/**
 * A varint int64 as a number: Reader.int64().toNumber() without the LongBits and Long. The byte
 * walk is protobufjs's readLongVarint, including how it treats a varint cut short near the limit.
 */
export function int64Number(r: Reader): number {
  const buf = r.buf;
  const len = r.len;
  let lo = 0;
  let hi = 0;
  let i = 0;
  if (len - r.pos > 4) {
    for (; i < 4; ++i) {
      lo = (lo | ((buf[r.pos] & 127) << (i * 7))) >>> 0;
      if (buf[r.pos++] < 128) return lo;
    }
    lo = (lo | ((buf[r.pos] & 127) << 28)) >>> 0;
    hi = (hi | ((buf[r.pos] & 127) >> 4)) >>> 0;
    if (buf[r.pos++] < 128) return hi * 4294967296 + lo;
    i = 0;
  } else {
    for (; i < 3; ++i) {
      if (r.pos >= len) throw outOfRange(r);
      lo = (lo | ((buf[r.pos] & 127) << (i * 7))) >>> 0;
      if (buf[r.pos++] < 128) return lo;
    }
    return (lo | ((buf[r.pos++] & 127) << 21)) >>> 0;
  }
  for (; i < 5; ++i) {
    if (r.pos >= len) throw outOfRange(r); // never true when 5 bytes were left: protobufjs's fast route
    hi = (hi | ((buf[r.pos] & 127) << (i * 7 + 3))) >>> 0;
    if (buf[r.pos++] < 128) return (hi | 0) * 4294967296 + lo;
  }
  throw Error('invalid varint encoding');
}

// Attribute keys, and many short values (model names, team ids), repeat in every span. A small
// cache from their bytes to the string saves the native UTF-8 decode (a JS→C++ call, ~75 ns even
// for a short key) and lets property stores reuse a string V8 has already internalized.
const CACHE_SLOTS = 4096; // a power of two
const MAX_CACHED_BYTES = 64;
const cachedBytes: (Uint8Array | undefined)[] = new Array(CACHE_SLOTS);
const cachedStrings: string[] = new Array(CACHE_SLOTS);

/** Reader.string(), through the cache for short strings; the same string for the same bytes. */
export function cachedString(w: Wire): string {
  const r = w.r;
  const length = r.uint32();
  const start = r.pos;
  const end = Math.min(start + length, r.len); // as BufferReader.string(): a cut string is not an error
  r.pos = end;
  const buf = w.body;
  const n = end - start;
  if (n > MAX_CACHED_BYTES) return buf.toString('utf8', start, end);
  let h = 0x811c9dc5 ^ n; // FNV-1a
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i], 16777619);
  const slot = (h >>> 8) & (CACHE_SLOTS - 1);
  const bytes = cachedBytes[slot];
  if (bytes !== undefined && bytes.length === n) {
    let i = 0;
    while (i < n && bytes[i] === buf[start + i]) i++;
    if (i === n) return cachedStrings[slot];
  }
  const s = buf.toString('utf8', start, end);
  cachedBytes[slot] = Uint8Array.prototype.slice.call(buf, start, end);
  cachedStrings[slot] = s;
  return s;
}
