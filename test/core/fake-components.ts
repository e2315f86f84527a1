import { emptyBatch, type Batch } from '../../core/batch.js';
import type { Exporter, ExporterFactory, ExtensionFactory, Factory, ProcessorFactory, ReceiverContext, ReceiverFactory } from '../../core/component.js';
import { RetryableError } from '../../core/errors.js';
import { emptyCall } from '../../core/llm-call.js';

/**
 * Minimal components for testing core on its own: a receiver the test pushes batches into, a
 * processor that adds a record, an exporter that keeps what it accepts (and can be told to block).
 */
export const pushed = new Map<string, ReceiverContext>();
export const exported = new Map<string, Batch[]>();
export const events: string[] = [];

const push: ReceiverFactory<{ endpoint: string; tokens: string[] }> = {
  kind: 'receiver', type: 'push', defaults: { endpoint: '127.0.0.1:0', tokens: [] },
  schema: {
    type: 'object', additionalProperties: false,
    properties: {
      endpoint: { type: 'string', format: 'host-port', default: '127.0.0.1:0', description: 'where it listens' },
      tokens: { type: 'array', items: { type: 'string' }, default: [], description: 'bearer tokens' },
    },
  },
  create: (_config, ctx) => ({
    start: async () => { pushed.set(ctx.id, ctx); events.push(`start ${ctx.id}`); },
    shutdown: async () => { pushed.delete(ctx.id); events.push(`stop ${ctx.id}`); },
  }),
};

const tag: ProcessorFactory<{ model: string; max_batch: number }> = {
  kind: 'processor', type: 'tag', defaults: { model: 'claude-sonnet-4-5', max_batch: 100 },
  schema: {
    type: 'object', additionalProperties: false,
    properties: {
      model: { type: 'string', default: 'claude-sonnet-4-5', description: 'model of the record it adds' },
      max_batch: { type: 'integer', minimum: 1, default: 100, description: 'a bounded number' },
    },
  },
  create: (config, ctx) => ({
    start: async () => { events.push(`start ${ctx.id}`); },
    shutdown: async () => { events.push(`stop ${ctx.id}`); },
    process: (b) => ({ ...b, calls: [...b.calls, { ...emptyCall(), call_id: `c${b.calls.length}`, model: config.model }] }),
    // Asynchronous, as a shared store's is: the pipeline must await it before the client hears back.
    abandon: async () => {
      await new Promise((r) => setTimeout(r, 5));
      events.push(`abandon ${ctx.id}`);
    },
  }),
};

/** Reads telemetry into records like the normalizer: passes the telemetry on only when something after it reads it. */
const records: ProcessorFactory<Record<string, never>> = {
  kind: 'processor', type: 'records', defaults: {},
  schema: { type: 'object', additionalProperties: false, properties: {} },
  create: (_config, ctx) => ({ process: (b) => (ctx.telemetryAfter === false ? { ...emptyBatch(b.origin), calls: b.calls, updates: b.updates } : { ...b }) }),
};

/** Keeps state like the normalizer's join index: passes each call_id once, drops re-sends (counted), forgets an abandoned batch's. */
const once: ProcessorFactory<Record<string, never>> = {
  kind: 'processor', type: 'once', defaults: {},
  schema: { type: 'object', additionalProperties: false, properties: {} },
  create: (_config, ctx) => {
    const seen = new Set<string>();
    const passed = new WeakMap<Batch, string[]>();
    const dropped = ctx.metrics.counter('fake_once_dropped_total', 'Re-sent calls dropped.');
    const held = ctx.metrics.gauge('fake_once_seen', 'Calls seen.');
    return {
      start: async () => { events.push(`start ${ctx.id}`); },
      shutdown: async () => { events.push(`stop ${ctx.id}`); },
      process: (b) => {
        const calls = b.calls.filter((c) => !seen.has(c.call_id));
        dropped.inc(b.calls.length - calls.length);
        for (const c of calls) seen.add(c.call_id);
        held.set(seen.size);
        const out = { ...b, calls };
        passed.set(out, calls.map((c) => c.call_id));
        return out;
      },
      abandon: (out) => {
        events.push(`abandon ${ctx.id}`);
        for (const id of passed.get(out) ?? []) seen.delete(id);
        held.set(seen.size);
      },
    };
  },
};

export let gate: Promise<void> | undefined;
export function setGate(p: Promise<void> | undefined): void { gate = p; }

const memory: ExporterFactory<{ mode: 'fast' | 'slow' }> = {
  kind: 'exporter', type: 'memory', defaults: { mode: 'fast' }, readsTelemetry: false,
  schema: {
    type: 'object', additionalProperties: false,
    properties: { mode: { enum: ['fast', 'slow'], default: 'fast', description: 'unused' } },
  },
  create: (_config, ctx): Exporter => ({
    start: async () => {
      exported.set(ctx.id, exported.get(ctx.id) ?? []);
      events.push(`start ${ctx.id}`);
      // An admin route a component serves: how many batches it holds.
      ctx.host.adminRoutes.add(`/api/test/${ctx.id}`, async ({ url }) => ({
        status: 200, contentType: 'application/json', body: JSON.stringify({ batches: exported.get(ctx.id)!.length, q: url.searchParams.get('q') }),
      }));
    },
    shutdown: async () => { events.push(`stop ${ctx.id}`); },
    consume: async (b) => { if (gate) await gate; exported.get(ctx.id)!.push(b); },
  }),
};

/** Keeps the batches it gets like `memory`, and reads their telemetry (it declares nothing). */
const spans: ExporterFactory<Record<string, never>> = {
  kind: 'exporter', type: 'spans', defaults: {},
  schema: { type: 'object', additionalProperties: false, properties: {} },
  create: (_config, ctx): Exporter => ({
    start: async () => { exported.set(ctx.id, []); },
    consume: async (b) => { exported.get(ctx.id)!.push(b); },
  }),
};

/** An exporter that cannot start (a database that is down): a reload to it must give way to the previous pipeline. */
const broken: ExporterFactory<Record<string, never>> = {
  kind: 'exporter', type: 'broken', defaults: {},
  schema: { type: 'object', additionalProperties: false, properties: {} },
  create: (): Exporter => ({
    start: async () => { throw new Error('broken on purpose'); },
    consume: async () => {},
  }),
};

/** Resolves the shutdown of `stuck` exporters; until then they hold a drain (a slow flush). */
export let unstick: () => void = () => {};

/** An exporter whose shutdown waits for `unstick()`: a reload that drains it takes as long as the test wants. */
const stuck: ExporterFactory<Record<string, never>> = {
  kind: 'exporter', type: 'stuck', defaults: {},
  schema: { type: 'object', additionalProperties: false, properties: {} },
  create: (): Exporter => {
    const released = new Promise<void>((r) => { unstick = r; });
    return { shutdown: () => released, consume: async () => {} };
  },
};

/** How many more batches `refusing` exporters answer "retry later" to (a full queue, a database down). */
export let refusals = 0;
export function refuse(n: number): void { refusals = n; }

/** Like `memory`, but refuses batches while `refusals` lasts: what it accepted is in `exported`. */
const refusing: ExporterFactory<Record<string, never>> = {
  kind: 'exporter', type: 'refusing', defaults: {},
  schema: { type: 'object', additionalProperties: false, properties: {} },
  create: (_config, ctx): Exporter => ({
    start: async () => { exported.set(ctx.id, exported.get(ctx.id) ?? []); },
    consume: async (b) => {
      if (refusals > 0) {
        refusals--;
        throw new RetryableError('queue full (test)', 1);
      }
      exported.get(ctx.id)!.push(b);
    },
  }),
};

/** An extension that records its start and stop, and whether an exporter's capability was there at its start. */
const watch: ExtensionFactory<{ label: string }> = {
  kind: 'extension', type: 'watch', defaults: { label: '' },
  schema: { type: 'object', additionalProperties: false, properties: { label: { type: 'string', default: '', description: 'unused' } } },
  validate: (config) => (config.label === 'bad' ? [{ path: ['label'], message: 'bad on purpose' }] : []),
  create: (_config, ctx) => ({
    start: async () => { events.push(`start ${ctx.id} (exporter started: ${events.some((e) => /^start memory/.test(e))})`); },
    shutdown: async () => { events.push(`stop ${ctx.id}`); },
  }),
};

export const fakeFactories: Factory[] = [push, tag, once, records, memory, spans, broken, stuck, refusing, watch];
