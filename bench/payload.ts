import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type protobuf from 'protobufjs';
import { messages } from '../receivers/otlp/codec/proto.js';

/**
 * Load for the benchmark, built from real captures: LiteLLM 1.81.3 (`default` callback settings)
 * traces and Claude Code 2.1.330 logs and metrics. A payload is encoded once; before each send
 * `stamp()` writes a send counter into precomputed byte offsets (same-length replacement keeps the
 * protobuf valid), so every request carries new trace ids and call ids and the normalizer sees
 * new calls, without re-encoding in the load generator.
 */

export type Signal = 'traces' | 'logs' | 'metrics';

/** A byte offset to overwrite at send time: 8 lowercase hex ASCII chars, or a big-endian u32 inside a binary id. */
export interface Patch { offset: number; kind: 'hex' | 'u32' }

export interface Payload {
  signal: Signal;
  /** The encoded Export request; templates are never sent, `instance()` copies them. */
  bytes: Buffer;
  patches: Patch[];
  /** Model calls in one request (LiteLLM calls, or Claude Code api_request events). */
  calls: number;
  /** Spans (traces) or log records / data points in one request. */
  items: number;
}

/** Writes `seq` into every patch offset of `buf`; no allocation. */
export function stamp(buf: Buffer, patches: readonly Patch[], seq: number): void {
  for (const p of patches) {
    if (p.kind === 'u32') {
      buf.writeUInt32BE(seq >>> 0, p.offset);
    } else {
      let v = seq >>> 0;
      for (let i = 7; i >= 0; i--) {
        const d = v & 15;
        buf[p.offset + i] = d < 10 ? 48 + d : 87 + d;
        v >>>= 4;
      }
    }
  }
}

/** A sendable copy of a payload's bytes (each in-flight request needs its own). */
export function instance(p: Payload): Buffer {
  return Buffer.from(p.bytes);
}

const repoRoot = (): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!readdirSync(dir).includes('package.json')) {
    const up = dirname(dir);
    if (up === dir) throw new Error('bench: package.json not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
};

export const LITELLM_CAPTURE = (): string => join(repoRoot(), 'test', 'fixtures', 'litellm', '1.81.3', 'default');
export const CLAUDE_CODE_CAPTURE = (): string => join(repoRoot(), 'test', 'fixtures', 'claude-code', 'otlp', 'v2.1.330-hello-http-protobuf');

/** String attributes that identify a call; their last 12 chars become `<seq 8 hex><copy 4 hex>`. */
const ID_ATTRIBUTES = new Set(['gen_ai.response.id', 'llm.anthropic.id', 'litellm.call_id', 'request_id']);
/** Content attributes the large-content variant inflates (LiteLLM logs messages on both spans). */
const CONTENT_ATTRIBUTES = new Set(['gen_ai.input.messages', 'gen_ai.output.messages', 'llm.anthropic.messages', 'llm.anthropic.content']);
/** Marks inflated content so the bench can prove it never reaches ClickHouse or /metrics. */
export const CONTENT_MARKER = 'TLBENCH-CONTENT-7f3a';

type Obj = Record<string, unknown>;
interface KeyValue { key: string; value: { stringValue?: string } & Obj }
interface SpanObj extends Obj { traceId: string; name: string; attributes?: KeyValue[]; status?: { code?: number } }

const toObj = (t: protobuf.Type, bytes: Uint8Array): Obj => t.toObject(t.decode(bytes), { longs: String, bytes: String }) as Obj;
const clone = <T>(v: T): T => structuredClone(v);

/**
 * The spans of one complete, successful call from the LiteLLM capture: the trace whose root span
 * (`Received Proxy Server Request`) carries the response id and usage, with its service spans and
 * the `raw_gen_ai_request` span. Exports split traces across requests, so spans are gathered from
 * every file of the capture.
 */
export function liteLLMCallSpans(dir = LITELLM_CAPTURE()): { resource: Obj; scope: Obj; spans: SpanObj[] } {
  const files = readdirSync(dir).filter((f) => f.endsWith('-traces.pb')).sort();
  const byTrace = new Map<string, SpanObj[]>();
  let resource: Obj | undefined;
  let scope: Obj | undefined;
  for (const f of files) {
    const req = toObj(messages.traceRequest, readFileSync(join(dir, f))) as { resourceSpans: { resource: Obj; scopeSpans: { scope: Obj; spans: SpanObj[] }[] }[] };
    for (const rs of req.resourceSpans) {
      for (const ss of rs.scopeSpans) {
        resource ??= rs.resource;
        scope ??= ss.scope;
        for (const s of ss.spans) byTrace.set(s.traceId, [...(byTrace.get(s.traceId) ?? []), s]);
      }
    }
  }
  // A call with prompt caching (reads and writes), the common case for Claude traffic.
  const cached = /'cache_read_input_tokens': [1-9]/;
  for (const spans of byTrace.values()) {
    const root = spans.find((s) => s.name === 'Received Proxy Server Request');
    const raw = spans.find((s) => s.name === 'raw_gen_ai_request');
    const attr = (k: string): string | undefined => root?.attributes?.find((a) => a.key === k)?.value.stringValue;
    if (root && raw && (raw.attributes?.length ?? 0) > 0 && root.status?.code !== 2 && attr('gen_ai.response.id')
      && cached.test(attr('metadata.usage_object') ?? '') && spans.some((s) => s.name === 'auth')) {
      return { resource: resource ?? {}, scope: scope ?? {}, spans };
    }
  }
  throw new Error(`bench: no complete, successful, cached LiteLLM call trace in ${dir}`);
}

/** `size` bytes of message text, JSON as LiteLLM writes `gen_ai.input.messages`. */
function inflate(original: string, size: number): string {
  const filler = `${CONTENT_MARKER} The quick brown fox jumps over the lazy dog; `.repeat(Math.ceil(size / 64)).slice(0, size);
  return original.startsWith('[') ? JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: filler }] }]) : filler;
}

/** Replaces the last 12 chars of an id with a unique, patchable `<00000000><copy hex>`. */
function uniqueId(value: string, copy: number): string {
  return value.length >= 16 ? value.slice(0, -12) + '00000000' + copy.toString(16).padStart(4, '0') : value;
}

/** Trace id (base64 of 16 bytes): bytes 0-3 are the send counter, 4-7 the copy, 8-15 the capture's. */
function uniqueTraceId(b64: string, copy: number): Buffer {
  const id = Buffer.from(b64, 'base64');
  id.writeUInt32BE(0, 0);
  id.writeUInt32BE(copy, 4);
  return id;
}

/** Every occurrence of `needle` in `hay`. */
function occurrences(hay: Buffer, needle: Buffer): number[] {
  const out: number[] = [];
  for (let i = hay.indexOf(needle); i !== -1; i = hay.indexOf(needle, i + 1)) out.push(i);
  return out;
}

export interface TraceOptions {
  /** LiteLLM calls per Export request. */
  calls: number;
  /** Inflate message content attributes to about this many bytes each (0: as captured). */
  contentBytes?: number;
  /** Added to copy numbers so two payloads never share ids (u16). */
  copyBase?: number;
}

/** B LiteLLM calls (6 spans each in 1.81.3) in one Export request, as one BatchSpanProcessor flush. */
export function liteLLMTraces(opts: TraceOptions, dir?: string): Payload {
  const call = liteLLMCallSpans(dir);
  const spans: SpanObj[] = [];
  const needles: Needle[] = [];
  for (let i = 0; i < opts.calls; i++) {
    const copy = (opts.copyBase ?? 0) + i;
    const traceId = uniqueTraceId(call.spans[0]!.traceId, copy);
    needles.push({ needle: traceId, kind: 'u32', at: 0, expect: call.spans.length });
    for (const s of call.spans) {
      const c = clone(s);
      c.traceId = traceId.toString('base64');
      for (const a of c.attributes ?? []) {
        const v = a.value.stringValue;
        if (v === undefined) continue;
        if (ID_ATTRIBUTES.has(a.key) && v.length >= 16) {
          a.value.stringValue = uniqueId(v, copy);
          needles.push({ needle: Buffer.from(a.value.stringValue), kind: 'hex', at: a.value.stringValue.length - 12, expect: 1 });
        } else if (opts.contentBytes && CONTENT_ATTRIBUTES.has(a.key)) {
          a.value.stringValue = inflate(v, a.key.includes('output') || a.key.endsWith('.content') ? opts.contentBytes / 4 : opts.contentBytes);
        }
      }
      spans.push(c);
    }
  }
  const bytes = Buffer.from(messages.traceRequest.encode(messages.traceRequest.fromObject({
    resourceSpans: [{ resource: call.resource, scopeSpans: [{ scope: call.scope, spans }] }],
  })).finish());
  return { signal: 'traces', bytes, patches: locate(bytes, needles), calls: opts.calls, items: spans.length };
}

/** A unique id written into the payload, found again in the encoded bytes; `expect` 0 = any number of times but once at least. */
interface Needle { needle: Buffer; kind: Patch['kind']; at: number; expect: number }

function locate(bytes: Buffer, needles: Needle[]): Patch[] {
  const patches: Patch[] = [];
  for (const n of needles) {
    const at = occurrences(bytes, n.needle);
    if (n.expect ? at.length !== n.expect : at.length === 0) throw new Error(`bench: id ${n.needle.toString('hex')} found ${at.length} times in the payload, expected ${n.expect || 'some'}`);
    for (const o of at) patches.push({ offset: o + n.at, kind: n.kind });
  }
  return patches;
}

/**
 * Claude Code's log export (one session start: settings, plugins, prompt, one `api_request`, the
 * response) repeated `copies` times in one request; each `request_id` is unique per send.
 */
export function claudeCodeLogs(copies: number, dir = CLAUDE_CODE_CAPTURE()): Payload {
  const req = toObj(messages.logsRequest, readFileSync(join(dir, '001-logs.pb'))) as { resourceLogs: { scopeLogs: { logRecords: { attributes: KeyValue[] }[] }[] }[] };
  const scope = req.resourceLogs[0]!.scopeLogs[0]!;
  const records = scope.logRecords;
  // An event's request_id is repeated on other records of the same call (assistant_response).
  const needles = new Map<string, Needle>();
  let calls = 0;
  scope.logRecords = [];
  for (let copy = 0; copy < copies; copy++) {
    for (const r of records) {
      const c = clone(r);
      for (const a of c.attributes) {
        const v = a.value.stringValue;
        if (a.key === 'event.name' && v === 'api_request') calls++;
        if (v !== undefined && ID_ATTRIBUTES.has(a.key) && v.length >= 16) {
          const id = uniqueId(v, copy);
          a.value.stringValue = id;
          needles.set(id, { needle: Buffer.from(id), kind: 'hex', at: id.length - 12, expect: 0 });
        }
      }
      scope.logRecords.push(c);
    }
  }
  const bytes = Buffer.from(messages.logsRequest.encode(messages.logsRequest.fromObject(req)).finish());
  return { signal: 'logs', bytes, patches: locate(bytes, [...needles.values()]), calls, items: scope.logRecords.length };
}

/**
 * Claude Code's metric export as captured (delta sums: session count, cost, tokens). Not billed
 * with the default `usage_from: events` and not de-duplicated (delta points add up), so it is sent
 * as is.
 */
export function claudeCodeMetrics(dir = CLAUDE_CODE_CAPTURE()): Payload {
  const bytes = readFileSync(join(dir, '002-metrics.pb'));
  const req = toObj(messages.metricsRequest, bytes) as { resourceMetrics: { scopeMetrics: { metrics: Obj[] }[] }[] };
  const items = req.resourceMetrics.flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics)).length;
  return { signal: 'metrics', bytes, patches: [], calls: 0, items };
}
