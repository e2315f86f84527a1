import type { AnyValue, Attributes, LogRecord, ResourceLogs, Scope } from '../../core/telemetry.js';
import { anyValue, emptyScope, keyValue, keyValueList, scope } from './wire-common.js';
import { bytesStart, enter, fixed64Decimal, idHex, leave, type Wire } from './wire-reader.js';

/** logs.proto's ExportLogsServiceRequest read from the wire into core/telemetry.ts log records. */

export function logsRequest(w: Wire): ResourceLogs[] {
  const r = w.r;
  const out: ResourceLogs[] = [];
  while (r.pos < r.len) {
    const t = r.uint32();
    if (t >>> 3 === 1) out.push(resourceLogs(w, 1));
    else r.skipType(t & 7, 0);
  }
  return out;
}

function resourceLogs(w: Wire, depth: number): ResourceLogs {
  const r = w.r;
  const outer = enter(r, depth);
  let resource: Attributes = {};
  const scopeLogs: ResourceLogs['scopeLogs'] = [];
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1: resource = keyValueList(w, depth + 1); break;
      case 2: scopeLogs.push(scopeLogsOf(w, depth + 1)); break;
      default: r.skipType(t & 7, depth);
    }
  }
  leave(r, outer);
  return { resource, scopeLogs };
}

function scopeLogsOf(w: Wire, depth: number): ResourceLogs['scopeLogs'][number] {
  const r = w.r;
  const outer = enter(r, depth);
  let sc: Scope | null = null;
  const logRecords: LogRecord[] = [];
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1: sc = scope(w, depth + 1); break;
      case 2: logRecords.push(logRecord(w, depth + 1)); break;
      default: r.skipType(t & 7, depth);
    }
  }
  leave(r, outer);
  return { scope: sc ?? emptyScope(), logRecords };
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
