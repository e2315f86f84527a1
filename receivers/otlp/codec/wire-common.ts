import type { AnyValue, Attributes, Scope } from '../../../core/telemetry.js';
import { setAttribute } from './scalars.js';
import { bytesStart, cachedString, enter, int64Number, leave, type Wire } from './wire-reader.js';

/**
 * common.proto's messages (AnyValue, KeyValue, Resource, InstrumentationScope) read from the wire.
 * Every function reads one length-delimited message `depth` levels below the request.
 */

/**
 * An AnyValue. When several oneof members are set, the one kept is the first of string, int,
 * bool, double, array, kvlist, bytes (the last on the wire among equals), as the former
 * protobufjs-based decoder chose; each member is still read in full.
 */
export function anyValue(w: Wire, depth: number): AnyValue {
  const r = w.r;
  const outer = enter(r, depth);
  let value: AnyValue = null;
  let rank = 7; // of `value`, in the order above; 7: none
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1: value = r.string(); rank = 0; break;
      case 3: { const v = int64Number(r); if (rank >= 1) { value = v; rank = 1; } break; }
      case 2: { const v = r.bool(); if (rank >= 2) { value = v; rank = 2; } break; }
      case 4: { const v = r.double(); if (rank >= 3) { value = v; rank = 3; } break; }
      case 5: { const v = arrayValue(w, depth + 1); if (rank >= 4) { value = v; rank = 4; } break; }
      case 6: { const v = keyValueList(w, depth + 1); if (rank >= 5) { value = v; rank = 5; } break; }
      case 7: {
        const start = bytesStart(r);
        // A copy, so that the value does not keep the whole request body alive.
        if (rank >= 6) { value = Uint8Array.from(w.body.subarray(start, r.pos)); rank = 6; }
        break;
      }
      default: r.skipType(t & 7, depth);
    }
  }
  leave(r, outer);
  return value;
}

function arrayValue(w: Wire, depth: number): AnyValue[] {
  const r = w.r;
  const outer = enter(r, depth);
  const values: AnyValue[] = [];
  while (r.pos < r.len) {
    const t = r.uint32();
    if (t >>> 3 === 1) values.push(anyValue(w, depth + 1));
    else r.skipType(t & 7, depth);
  }
  leave(r, outer);
  return values;
}

/** A KeyValueList, a Resource: a message whose field 1 is `repeated KeyValue`. */
export function keyValueList(w: Wire, depth: number): Attributes {
  const r = w.r;
  const outer = enter(r, depth);
  const out: Attributes = {};
  while (r.pos < r.len) {
    const t = r.uint32();
    if (t >>> 3 === 1) keyValue(w, out, depth + 1);
    else r.skipType(t & 7, depth);
  }
  leave(r, outer);
  return out;
}

/** One KeyValue, set into `out` (a later equal key overwrites). */
export function keyValue(w: Wire, out: Attributes, depth: number): void {
  const r = w.r;
  const outer = enter(r, depth);
  let key = '';
  let value: AnyValue = null;
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1: key = cachedString(w); break;
      case 2: value = anyValue(w, depth + 1); break;
      default: r.skipType(t & 7, depth);
    }
  }
  leave(r, outer);
  setAttribute(out, key, value);
}

export const emptyScope = (): Scope => ({ name: '', version: '', attributes: {} });

export function scope(w: Wire, depth: number): Scope {
  const r = w.r;
  const outer = enter(r, depth);
  let name = '';
  let version = '';
  const attributes: Attributes = {};
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1: name = r.string(); break;
      case 2: version = r.string(); break;
      case 3: keyValue(w, attributes, depth + 1); break;
      default: r.skipType(t & 7, depth);
    }
  }
  leave(r, outer);
  return { name, version, attributes };
}

/** One Resource{Spans,Metrics,Logs} read by `readResources`, before it gets its signal's key names. */
export interface ResourceBlock<I> { resource: Attributes; scoped: { scope: Scope; items: I[] }[] }

/**
 * The envelope every Export request shares: repeated Resource{Spans,Metrics,Logs} (1: resource,
 * 2: Scope{Spans,Metrics,Logs}), each scope block (1: scope, 2: item). `item` reads one span, metric
 * or log record; a null is left out.
 */
export function readResources<I>(w: Wire, item: (w: Wire, depth: number) => I | null): ResourceBlock<I>[] {
  const r = w.r;
  const out: ResourceBlock<I>[] = [];
  while (r.pos < r.len) {
    const t = r.uint32();
    if (t >>> 3 === 1) out.push(resourceBlock(w, item, 1));
    else r.skipType(t & 7, 0);
  }
  return out;
}

function resourceBlock<I>(w: Wire, item: (w: Wire, depth: number) => I | null, depth: number): ResourceBlock<I> {
  const r = w.r;
  const outer = enter(r, depth);
  let resource: Attributes = {};
  const scoped: ResourceBlock<I>['scoped'] = [];
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1: resource = keyValueList(w, depth + 1); break;
      case 2: scoped.push(scopeBlock(w, item, depth + 1)); break;
      default: r.skipType(t & 7, depth);
    }
  }
  leave(r, outer);
  return { resource, scoped };
}

function scopeBlock<I>(w: Wire, item: (w: Wire, depth: number) => I | null, depth: number): ResourceBlock<I>['scoped'][number] {
  const r = w.r;
  const outer = enter(r, depth);
  let sc: Scope | null = null;
  const items: I[] = [];
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1: sc = scope(w, depth + 1); break;
      case 2: { const it = item(w, depth + 1); if (it !== null) items.push(it); break; }
      default: r.skipType(t & 7, depth);
    }
  }
  leave(r, outer);
  return { scope: sc ?? emptyScope(), items };
}
