import type { AnyValue, Attributes, LogRecord, ResourceLogs } from '../../../core/telemetry.js';
import { anyValue, keyValue, readResources } from './wire-common.js';
import { bytesStart, enter, fixed64Decimal, idHex, leave, type Wire } from './wire-reader.js';

/** logs.proto's ExportLogsServiceRequest read from the wire into core/telemetry.ts log records. */

export function logsRequest(w: Wire): ResourceLogs[] {
  return readResources(w, logRecord).map(({ resource, scoped }) => ({ resource, scopeLogs: scoped.map(({ scope, items }) => ({ scope, logRecords: items })) }));
}

function logRecord(w: Wire, depth: number): LogRecord {
  const r = w.r;
  const outer = enter(r, depth);
  let timeUnixNano = '0';
  let observedTimeUnixNano = '0';
  let severityNumber = 0;
  let severityText = '';
  let body: AnyValue = null;
  const attributes: Attributes = {};
  let traceStart = 0, traceEnd = 0, spanStart = 0, spanEnd = 0;
  let eventName = '';
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1: timeUnixNano = fixed64Decimal(r); break;
      case 11: observedTimeUnixNano = fixed64Decimal(r); break;
      case 2: severityNumber = r.int32(); break;
      case 3: severityText = r.string(); break;
      case 5: body = anyValue(w, depth + 1); break;
      case 6: keyValue(w, attributes, depth + 1); break;
      case 9: traceStart = bytesStart(r); traceEnd = r.pos; break;
      case 10: spanStart = bytesStart(r); spanEnd = r.pos; break;
      case 12: eventName = r.string(); break;
      default: r.skipType(t & 7, depth);
    }
  }
  leave(r, outer);
  return {
    timeUnixNano,
    observedTimeUnixNano,
    severityNumber,
    severityText,
    body,
    attributes,
    traceId: idHex(w, traceStart, traceEnd, 16, 'logRecord.traceId'),
    spanId: idHex(w, spanStart, spanEnd, 8, 'logRecord.spanId'),
    eventName,
  };
}
