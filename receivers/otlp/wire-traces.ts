import type { Attributes, ResourceSpans, Scope, Span, SpanEvent } from '../../core/telemetry.js';
import { emptyScope, keyValue, keyValueList, scope } from './wire-common.js';
import { bytesStart, enter, fixed64Decimal, idHex, leave, type Wire } from './wire-reader.js';

/** trace.proto's ExportTraceServiceRequest read from the wire into core/telemetry.ts spans. */

export function traceRequest(w: Wire): ResourceSpans[] {
  const r = w.r;
  const out: ResourceSpans[] = [];
  while (r.pos < r.len) {
    const t = r.uint32();
    if (t >>> 3 === 1) out.push(resourceSpans(w, 1));
    else r.skipType(t & 7, 0);
  }
  return out;
}

function resourceSpans(w: Wire, depth: number): ResourceSpans {
  const r = w.r;
  const outer = enter(r, depth);
  let resource: Attributes = {};
  const scopeSpans: ResourceSpans['scopeSpans'] = [];
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1: resource = keyValueList(w, depth + 1); break;
      case 2: scopeSpans.push(scopeSpansOf(w, depth + 1)); break;
      default: r.skipType(t & 7, depth);
    }
  }
  leave(r, outer);
  return { resource, scopeSpans };
}

function scopeSpansOf(w: Wire, depth: number): ResourceSpans['scopeSpans'][number] {
  const r = w.r;
  const outer = enter(r, depth);
  let sc: Scope | null = null;
  const spans: Span[] = [];
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1: sc = scope(w, depth + 1); break;
      case 2: spans.push(span(w, depth + 1)); break;
      default: r.skipType(t & 7, depth);
    }
  }
  leave(r, outer);
  return { scope: sc ?? emptyScope(), spans };
}

function span(w: Wire, depth: number): Span {
  const r = w.r;
  const outer = enter(r, depth);
  // Where each id field's bytes start and end; equal when absent.
  let traceStart = 0, traceEnd = 0, spanStart = 0, spanEnd = 0, parentStart = 0, parentEnd = 0;
  let name = '';
  let kind = 0;
  let startTimeUnixNano = '0';
  let endTimeUnixNano = '0';
  const attributes: Attributes = {};
  const events: SpanEvent[] = [];
  let status: Span['status'] | null = null;
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1: traceStart = bytesStart(r); traceEnd = r.pos; break;
      case 2: spanStart = bytesStart(r); spanEnd = r.pos; break;
      case 4: parentStart = bytesStart(r); parentEnd = r.pos; break;
      case 5: name = r.string(); break;
      case 6: kind = r.int32(); break;
      case 7: startTimeUnixNano = fixed64Decimal(r); break;
      case 8: endTimeUnixNano = fixed64Decimal(r); break;
      case 9: keyValue(w, attributes, depth + 1); break;
      case 11: events.push(event(w, depth + 1)); break;
      case 15: status = statusOf(w, depth + 1); break;
      default: r.skipType(t & 7, depth);
    }
  }
  leave(r, outer);
  return {
    traceId: idHex(w, traceStart, traceEnd, 16, 'span.traceId'),
    spanId: idHex(w, spanStart, spanEnd, 8, 'span.spanId'),
    parentSpanId: idHex(w, parentStart, parentEnd, 8, 'span.parentSpanId'),
    name,
    kind,
    startTimeUnixNano,
    endTimeUnixNano,
    attributes,
    events,
    status: status ?? { code: 0, message: '' },
  };
}

function event(w: Wire, depth: number): SpanEvent {
  const r = w.r;
  const outer = enter(r, depth);
  let timeUnixNano = '0';
  let name = '';
  const attributes: Attributes = {};
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1: timeUnixNano = fixed64Decimal(r); break;
      case 2: name = r.string(); break;
      case 3: keyValue(w, attributes, depth + 1); break;
      default: r.skipType(t & 7, depth);
    }
  }
  leave(r, outer);
  return { timeUnixNano, name, attributes };
}

function statusOf(w: Wire, depth: number): Span['status'] {
  const r = w.r;
  const outer = enter(r, depth);
  let code = 0;
  let message = '';
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 2: message = r.string(); break;
      case 3: code = r.int32(); break;
      default: r.skipType(t & 7, depth);
    }
  }
  leave(r, outer);
  return { code, message };
}
