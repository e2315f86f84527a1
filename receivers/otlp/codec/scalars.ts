import { OtlpDecodeError } from './errors.js';
import type { AnyValue, Attributes } from '../../../core/telemetry.js';

/**
 * Conversions of OTLP scalars to their core/telemetry.ts form, shared by the protobuf and JSON
 * decoders. These run several times per span, so they avoid BigInt and intermediate objects.
 */

const pad7 = (n: number): string => {
  const s = String(n);
  return s.length === 7 ? s : '0000000'.slice(s.length) + s;
};

/** An unsigned 64-bit integer given as two 32-bit halves, as a decimal string. */
export function uint64Decimal(low: number, high: number): string {
  const lo = low >>> 0;
  const hi = high >>> 0;
  if (hi <= 0x1fffff) return String(hi * 4294967296 + lo); // below 2^53: exact as a double
  // Split into 24-bit limbs and recombine in base 1e7 (2^24 = 1·1e7 + 6777216,
  // 2^48 = 2·1e14 + 8147497·1e7 + 6710656); every partial sum stays below 2^53.
  const l = lo & 0xffffff;
  const m = ((lo >>> 24) | (hi << 8)) & 0xffffff;
  const h = hi >>> 16;
  let a = l + m * 6777216 + h * 6710656;
  let b = m + h * 8147497;
  let c = h * 2;
  b += Math.floor(a / 1e7);
  a %= 1e7;
  c += Math.floor(b / 1e7);
  b %= 1e7;
  return String(c) + pad7(b) + pad7(a); // c > 0 here, since the value is at least 2^53
}

const DIGITS = /^[0-9]{1,20}$/;

/** An OTLP/JSON uint64 timestamp: a decimal string (canonical) or a number. */
export function jsonNanos(v: unknown, field: string): string {
  if (v === undefined || v === null) return '0';
  if (typeof v === 'string') {
    if (!DIGITS.test(v)) throw new OtlpDecodeError(`${field} must be a decimal integer, got ${JSON.stringify(v.slice(0, 40))}`);
    return v.length > 1 && v.charCodeAt(0) === 48 ? String(BigInt(v)) : v; // normalize leading zeros
  }
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v <= Number.MAX_SAFE_INTEGER ? String(v) : BigInt(v).toString();
  throw new OtlpDecodeError(`${field} must be a non-negative integer, got ${JSON.stringify(v)}`);
}

/** An OTLP/JSON int64/uint64 that is not a timestamp: a decimal string or a number, as a JS number. */
export function jsonInt(v: unknown, field: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?[0-9]{1,20}$/.test(v)) return Number(v);
  throw new OtlpDecodeError(`${field} must be an integer, got ${JSON.stringify(v)}`);
}

/** An OTLP/JSON double: a number, or "NaN" / "Infinity" / "-Infinity" as proto3 JSON writes them. */
export function jsonDouble(v: unknown, field: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  throw new OtlpDecodeError(`${field} must be a number, got ${JSON.stringify(v)}`);
}

const HEX = /^[0-9a-fA-F]*$/;

/** OTLP/JSON ids are hex strings (not base64, unlike other bytes fields). */
export function jsonIdHex(v: unknown, size: 8 | 16, field: string): string {
  if (v === undefined || v === null || v === '') return '';
  if (typeof v !== 'string' || v.length !== size * 2 || !HEX.test(v)) {
    throw new OtlpDecodeError(`${field} must be ${size * 2} hex characters, got ${JSON.stringify(typeof v === 'string' ? v.slice(0, 40) : v)}`);
  }
  return v.toLowerCase();
}

/** `out[key] = value`, except that a key named `__proto__` becomes a plain property, not the prototype. */
export function setAttribute(out: Attributes, key: string, value: AnyValue): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}
