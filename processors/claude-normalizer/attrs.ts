import type { AnyValue, Attributes } from '../../core/telemetry.js';

/** Typed reads of decoded OTLP attribute values. OTLP/JSON writers disagree on int64 (number or string), so both are accepted. */

export function str(a: Attributes, key: string): string {
  const v = a[key];
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return '';
}

/** First non-empty string among keys. */
export function firstStr(a: Attributes, keys: readonly string[]): string {
  for (const k of keys) {
    const v = str(a, k);
    if (v !== '') return v;
  }
  return '';
}

export function num(v: AnyValue | undefined): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** First numeric value among keys, or undefined when none is present. */
export function firstNum(a: Attributes, keys: readonly string[]): number | undefined {
  for (const k of keys) {
    const n = num(a[k]);
    if (n !== undefined) return n;
  }
  return undefined;
}

/** Booleans arrive as bool, as Python's "True"/"False" (LiteLLM v1) or as "true". */
export function bool(v: AnyValue | undefined): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    if (v === 'True' || v === 'true') return true;
    if (v === 'False' || v === 'false') return false;
  }
  return undefined;
}

/** Decimal nanoseconds since epoch → milliseconds (double). No BigInt: the microsecond value fits a double exactly. */
export function nanosToMs(ns: string): number {
  if (ns.length <= 3) return 0;
  const us = Number(ns.slice(0, -3));
  return Number.isFinite(us) ? us / 1000 : 0;
}

/** RFC 3339 UTC; a time JavaScript cannot represent (a corrupt timestamp) reads as the epoch. */
export function msToIso(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(Math.floor(ms)).toISOString() : '1970-01-01T00:00:00.000Z';
}

/** A duration in ms: negative or non-numeric values read as 0. */
export function durationMs(v: number | undefined): number {
  return v !== undefined && v > 0 ? v : 0;
}

/**
 * A token count as reported: undefined when absent, NaN when present but not a count (negative or
 * fractional), so that the record is quarantined (plausibility.ts) rather than billed without it.
 */
export function tokenCount(v: number | undefined): number | undefined {
  if (v === undefined) return undefined;
  return Number.isSafeInteger(v) && v >= 0 ? v : Number.NaN;
}
