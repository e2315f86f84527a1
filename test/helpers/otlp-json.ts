/**
 * Decoded telemetry (core/telemetry.ts) back to OTLP/JSON Export requests, for tests that replay
 * captures kept decoded (test/fixtures/claude-code-via-litellm) to a running tokenledger as their
 * exporters sent them. Decoding the result gives back the same objects (checked by the caller).
 */
import type { AnyValue, Attributes, ResourceLogs, ResourceSpans, Scope } from '../../core/telemetry.js';

function anyValue(v: AnyValue): Record<string, unknown> {
  if (v === null) return {};
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  if (v instanceof Uint8Array) return { bytesValue: Buffer.from(v).toString('base64') };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue) } };
  return { kvlistValue: { values: attributes(v) } };
}

function attributes(a: Attributes): { key: string; value: Record<string, unknown> }[] {
  return Object.entries(a).map(([key, value]) => ({ key, value: anyValue(value) }));
}

const scope = (s: Scope) => ({ name: s.name, version: s.version, attributes: attributes(s.attributes) });

export function tracesRequest(rss: readonly ResourceSpans[]): string {
  return JSON.stringify({
    resourceSpans: rss.map((rs) => ({
      resource: { attributes: attributes(rs.resource) },
      scopeSpans: rs.scopeSpans.map((ss) => ({
        scope: scope(ss.scope),
        spans: ss.spans.map((s) => ({
          traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId, name: s.name, kind: s.kind,
          startTimeUnixNano: s.startTimeUnixNano, endTimeUnixNano: s.endTimeUnixNano, attributes: attributes(s.attributes),
          events: s.events.map((e) => ({ timeUnixNano: e.timeUnixNano, name: e.name, attributes: attributes(e.attributes) })),
          status: s.status,
        })),
      })),
    })),
  });
}

export function logsRequest(rls: readonly ResourceLogs[]): string {
  return JSON.stringify({
    resourceLogs: rls.map((rl) => ({
      resource: { attributes: attributes(rl.resource) },
      scopeLogs: rl.scopeLogs.map((sl) => ({
        scope: scope(sl.scope),
        logRecords: sl.logRecords.map((r) => ({
          timeUnixNano: r.timeUnixNano, observedTimeUnixNano: r.observedTimeUnixNano, severityNumber: r.severityNumber,
          severityText: r.severityText, body: anyValue(r.body), attributes: attributes(r.attributes),
          traceId: r.traceId, spanId: r.spanId, eventName: r.eventName,
        })),
      })),
    })),
  });
}
