import type { Attributes, ResourceSpans, Span, SpanEvent } from '../../../core/telemetry.js';
import { keyValue, readResources } from './wire-common.js';
import { bytesStart, enter, fixed64Decimal, idHex, leave, type Wire } from './wire-reader.js';

/** trace.proto's ExportTraceServiceRequest read from the wire into core/telemetry.ts spans. */

export function traceRequest(w: Wire): ResourceSpans[] {
  return readResources(w, span).map(({ resource, scoped }) => ({ resource, scopeSpans: scoped.map(({ scope, items }) => ({ scope, spans: items })) }));
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
